import { describe, expect, it } from 'vitest';
import { autoResumeTick, type DueResume } from '../../infra/local/daemon/auto-resumes';
import { type DaemonClock, runDaemonLoop } from '../../infra/local/daemon/daemon-loop';
import { parseConfig } from '../../shared/config/load';
import { beginRun, beginRunEventSchema } from '../../shared/pipeline/begin-run';
import { finishRun } from '../../shared/pipeline/finish-run';
import type { StepInput } from '../../shared/pipeline/run-state';
import { FakeScheduleStates } from '../support/fake-schedule-state';
import { FakeLedger } from '../support/fakes';

const at = (iso: string) => Date.parse(iso);
const RUN_ID = 'morning-20261124T0800Z';

const config = parseConfig(
  {
    pipelines: [
      {
        id: 'demo',
        discord: { channelId: '1200000000000000000' },
        sheet: { spreadsheetId: 'sheet-0000000001' },
        schedules: [{ name: 'morning', dailyAt: '09:00', timeZone: 'Europe/Berlin' }],
      },
    ],
  },
  'test',
);

const outage: StepInput['steps'] = { collect: { Error: 'TransientError', Cause: 'discord 503' } };
const done: StepInput['steps'] = {
  collect: { status: 'succeeded', endedAt: '2026-11-24T08:20:00Z', counts: {} },
};

/** A clock that jumps to whatever the loop sleeps until, and stops the loop at `until`. */
function fakeClock(startIso: string, untilIso: string, stop: AbortController): DaemonClock {
  let now = at(startIso);
  return {
    now: () => now,
    async sleep(ms) {
      now += Math.max(ms, 1);
      if (now >= at(untilIso)) stop.abort();
    },
  };
}

/**
 * The state machine as far as automatic resume sees it: BeginRun, then the steps' outcome (`outcomes`, one
 * per execution, in turn), then FinishRun, against one ledger, on the daemon's clock.
 */
function machine(ledger: FakeLedger, clock: { now(): number }, outcomes: StepInput['steps'][]) {
  const schedules = new FakeScheduleStates();
  const log = () => {};
  const now = () => new Date(clock.now());
  let executions = 0;
  return async (input: Record<string, unknown>) => {
    executions += 1;
    const name = `exec-${executions}`;
    const opened = await beginRun(
      { config, ledger, schedules, now, lockLeaseMs: 3_600_000, log },
      beginRunEventSchema.parse({ input, executionName: name, executionId: `arn:exec:${name}` }),
    );
    if (!opened.run.proceed) return;
    await finishRun(
      { ledger, schedules, maxConsecutiveFailures: 10, autoResume: { backoffMinutes: [5, 10] }, now, log },
      { run: opened.run, steps: outcomes.shift() ?? done },
    );
  };
}

describe('the local daemon fires automatic resumes, on a fake clock', () => {
  it('resumes a run that failed on an outage under its run id, after 5 then 10 minutes, until it succeeds', async () => {
    // Prepare: the morning run fails on an outage at 08:00; its first resume fails too, the second succeeds.
    const stop = new AbortController();
    const clock = fakeClock('2026-11-24T08:00:00Z', '2026-11-24T12:00:00Z', stop);
    const ledger = new FakeLedger();
    const execute = machine(ledger, clock, [outage, outage, done]);
    await execute({
      pipelineId: 'demo',
      trigger: 'schedule',
      scheduleName: 'morning',
      scheduledTime: '2026-11-24T08:00:00Z',
    });
    const fired: string[] = [];

    // Act
    await runDaemonLoop({
      schedules: [],
      progress: { load: async () => ({}), save: async () => {} },
      clock,
      hooks: {
        fire: async () => {},
        missed: async () => {},
        tick: autoResumeTick({
          ledger,
          pipelineIds: ['demo'],
          now: clock.now,
          signal: stop.signal,
          resume: async ({ run, input }: DueResume) => {
            fired.push(`${run.runId} #${input.autoResumeAttempt} at ${new Date(clock.now()).toISOString()}`);
            await execute(input);
          },
        }),
      },
      signal: stop.signal,
    });

    // Assess: each plan fired once, at its time, and the run ended succeeded under its own id.
    expect(fired).toEqual([
      `${RUN_ID} #1 at 2026-11-24T08:05:00.000Z`,
      `${RUN_ID} #2 at 2026-11-24T08:15:00.000Z`,
    ]);
    expect(ledger.runs.get(RUN_ID)).toMatchObject({
      status: 'succeeded',
      autoResume: { attempt: 2, state: 'started' },
    });
    expect([...ledger.runs.keys()]).toEqual([RUN_ID]);
  });

  it('after a restart fires at once a resume that fell due while it was down, and never one already taken', async () => {
    // Prepare: two runs failed on outages before the daemon went down; one resume was taken before it did.
    const clock = { now: () => at('2026-11-24T07:00:00Z') };
    const ledger = new FakeLedger();
    await machine(ledger, clock, [outage])({ pipelineId: 'demo', runId: 'taken', trigger: 'manual' });
    await machine(ledger, clock, [outage])({ pipelineId: 'demo', runId: 'waiting', trigger: 'manual' });
    await ledger.claimResume('demo', 'taken', { executionId: 'arn:exec:before', automatic: true });
    await ledger.finishRun('demo', 'taken', { status: 'failed', endedAt: '2026-11-24T07:06:00Z' });
    const stop = new AbortController();
    const restarted = fakeClock('2026-11-24T09:00:00Z', '2026-11-24T10:00:00Z', stop);
    const fired: string[] = [];

    // Act
    await runDaemonLoop({
      schedules: [],
      progress: { load: async () => ({}), save: async () => {} },
      clock: restarted,
      hooks: {
        fire: async () => {},
        missed: async () => {},
        tick: autoResumeTick({
          ledger,
          pipelineIds: ['demo'],
          now: restarted.now,
          signal: stop.signal,
          resume: async ({ run, input }) => {
            fired.push(`${run.runId} at ${new Date(restarted.now()).toISOString()}`);
            await machine(ledger, restarted, [done])(input);
          },
        }),
      },
      signal: stop.signal,
    });

    // Assess
    expect(fired).toEqual(['waiting at 2026-11-24T09:00:00.000Z']);
    expect(ledger.runs.get('waiting')?.status).toBe('succeeded');
    expect(ledger.runs.get('taken')?.status).toBe('failed');
  });
});
