import { describe, expect, it } from 'vitest';
import {
  type DaemonClock,
  type DaemonProgress,
  type DaemonSchedule,
  dueSlots,
  runDaemonLoop,
  type Slot,
} from '../../infra/local/daemon/daemon-loop';
import { calendarRule } from '../../shared/domain/schedule/evaluator';

const MIN = 60_000;
const at = (iso: string) => Date.parse(iso);
const daily = (name: string, hour: number, minute: number, graceMinutes = 60): DaemonSchedule => ({
  key: `demo/${name}`,
  pipelineId: 'demo',
  scheduleName: name,
  rule: { kind: 'calendar', timeZone: 'Europe/Berlin', rule: calendarRule([hour], [minute], () => true) },
  dst: 'shift',
  graceMs: graceMinutes * MIN,
});

/** A clock that jumps to whatever the loop sleeps until, and stops the loop at `until`. */
function fakeClock(
  startIso: string,
  untilIso: string,
  stop: AbortController,
): DaemonClock & { sleeps: number[] } {
  let now = at(startIso);
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    async sleep(ms) {
      sleeps.push(ms);
      now += Math.max(ms, 1);
      if (now >= at(untilIso)) stop.abort();
    },
  };
}

const memoryProgress = (
  initial: Record<string, number> = {},
): DaemonProgress & { saved: Record<string, number> } => {
  const state = { saved: { ...initial } };
  return {
    get saved() {
      return state.saved;
    },
    load: async () => ({ ...state.saved }),
    save: async (p) => {
      state.saved = { ...p };
    },
  };
};

describe('the local daemon loop, on a fake clock', () => {
  it('fires each slot once, at its time, over two days', async () => {
    // Prepare
    const stop = new AbortController();
    const clock = fakeClock('2026-11-24T06:00:00Z', '2026-11-26T06:00:00Z', stop);
    const fired: string[] = [];

    // Act
    await runDaemonLoop({
      schedules: [daily('morning', 9, 0), daily('evening', 18, 30)],
      progress: memoryProgress(),
      clock,
      hooks: {
        fire: async (slot: Slot) => {
          fired.push(
            `${slot.schedule.scheduleName} ${slot.time.at.toISOString()} at ${new Date(clock.now()).toISOString()}`,
          );
        },
        missed: async () => {},
      },
      signal: stop.signal,
    });

    // Assess: Berlin is UTC+1 in November.
    expect(fired).toEqual([
      'morning 2026-11-24T08:00:00.000Z at 2026-11-24T08:00:00.000Z',
      'evening 2026-11-24T17:30:00.000Z at 2026-11-24T17:30:00.000Z',
      'morning 2026-11-25T08:00:00.000Z at 2026-11-25T08:00:00.000Z',
      'evening 2026-11-25T17:30:00.000Z at 2026-11-25T17:30:00.000Z',
    ]);
  });

  it('after a restart, runs a slot missed within its grace and reports older ones missed', () => {
    // Prepare: last handled the morning of the 23rd; the daemon comes back at 08:30 UTC on the 25th.
    const progress = { 'demo/morning': at('2026-11-23T08:00:00Z') };

    // Act
    const due = dueSlots(
      [daily('morning', 9, 0, 45)],
      progress,
      at('2026-11-25T08:30:00Z'),
      at('2026-11-25T08:30:00Z'),
    );

    // Assess
    expect(due.missed.map((s) => s.time.at.toISOString())).toEqual(['2026-11-24T08:00:00.000Z']);
    expect(due.run.map((s) => s.time.at.toISOString())).toEqual(['2026-11-25T08:00:00.000Z']);
  });

  it('does not fire a slot again once its progress is saved', async () => {
    // Prepare: the daemon restarts right after it fired the morning slot.
    const stop = new AbortController();
    const clock = fakeClock('2026-11-24T08:00:30Z', '2026-11-24T12:00:00Z', stop);
    const fired: string[] = [];

    // Act
    await runDaemonLoop({
      schedules: [daily('morning', 9, 0)],
      progress: memoryProgress({ 'demo/morning': at('2026-11-24T08:00:00Z') }),
      clock,
      hooks: { fire: async (s) => void fired.push(s.time.at.toISOString()), missed: async () => {} },
      signal: stop.signal,
    });

    // Assess
    expect(fired).toEqual([]);
  });

  it('stops between slots when told to, and never sleeps longer than a minute', async () => {
    // Prepare
    const stop = new AbortController();
    const clock = fakeClock('2026-11-24T06:00:00Z', '2026-11-24T06:10:00Z', stop);

    // Act
    await runDaemonLoop({
      schedules: [daily('morning', 9, 0)],
      progress: memoryProgress(),
      clock,
      hooks: { fire: async () => {}, missed: async () => {} },
      signal: stop.signal,
    });

    // Assess
    expect(Math.max(...clock.sleeps)).toBeLessThanOrEqual(MIN);
    expect(stop.signal.aborted).toBe(true);
  });
});
