/**
 * The local daemon's loop, apart from what it runs: it keeps, for every
 * schedule, the last slot it handled (in a file under the data directory), and
 * on every wake-up fires each slot that is due. A slot missed while the daemon
 * was down still runs if it is within the schedule's grace period, or is
 * reported missed; nothing is fired twice (the run id of a slot is fixed, so
 * even a repeat would be recorded as a duplicate). The clock is injected so
 * tests drive it without waiting.
 */
import {
  type DstPolicy,
  type FireRule,
  type FireTime,
  fireTimesBetween,
  nextFireTimes,
} from '../../../shared/domain/schedule/evaluator';

export interface DaemonSchedule {
  /** `<pipeline>/<schedule>`: the key of its progress. */
  key: string;
  pipelineId: string;
  scheduleName: string;
  rule: FireRule;
  dst: DstPolicy;
  /** How late a slot may still run. */
  graceMs: number;
}

export interface Slot {
  schedule: DaemonSchedule;
  time: FireTime;
}

/** Per schedule, the instant of the last slot handled (fired or reported missed). */
export interface DaemonProgress {
  load(): Promise<Record<string, number>>;
  save(progress: Record<string, number>): Promise<void>;
}

export interface DaemonClock {
  now(): number;
  /** Resolves after `ms`, or early when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export interface DaemonHooks {
  fire(slot: Slot): Promise<void>;
  missed(slot: Slot): Promise<void>;
  /** Told after each wake-up what comes next, for the daemon's output. */
  upcoming?(next: Slot[]): void;
  /**
   * Other work due at each wake-up (one-off posts), after the slots; returns
   * the next instant it wants a wake-up at, if any.
   */
  tick?(nowMs: number): Promise<number | undefined>;
}

/** The slots after each schedule's last handled one up to `nowMs`: to run (within grace) or missed. */
export function dueSlots(
  schedules: readonly DaemonSchedule[],
  progress: Readonly<Record<string, number>>,
  nowMs: number,
  startedMs: number,
): { run: Slot[]; missed: Slot[] } {
  const run: Slot[] = [];
  const missed: Slot[] = [];
  for (const schedule of schedules) {
    // A schedule never handled starts from when the daemon first started, not from the epoch.
    const from = progress[schedule.key] ?? startedMs;
    for (const time of fireTimesBetween(schedule.rule, from, nowMs, schedule.dst)) {
      if (time.dst === 'skipped') continue;
      const late = nowMs - time.at.getTime();
      (late <= schedule.graceMs ? run : missed).push({ schedule, time });
    }
  }
  const byTime = (a: Slot, b: Slot) => a.time.at.getTime() - b.time.at.getTime();
  return { run: run.sort(byTime), missed: missed.sort(byTime) };
}

/** The next slot of every schedule after `nowMs`, soonest first. */
export function upcomingSlots(schedules: readonly DaemonSchedule[], nowMs: number): Slot[] {
  return schedules
    .flatMap((schedule) =>
      nextFireTimes(schedule.rule, nowMs, 1, schedule.dst).map((time) => ({ schedule, time })),
    )
    .sort((a, b) => a.time.at.getTime() - b.time.at.getTime());
}

/** The longest the loop sleeps at once, so a changed clock (suspend, NTP) is noticed soon. */
const MAX_SLEEP_MS = 60_000;

/**
 * Run until `signal` aborts: handle what is due, persist progress after each
 * slot, sleep until the next slot. A slot's progress is saved only after its
 * `fire` returned, so a daemon killed mid-run fires it again on restart (the
 * run id makes that a resume or a duplicate, never a second run).
 */
export async function runDaemonLoop(options: {
  schedules: readonly DaemonSchedule[];
  progress: DaemonProgress;
  clock: DaemonClock;
  hooks: DaemonHooks;
  signal: AbortSignal;
}): Promise<void> {
  const { schedules, clock, hooks, signal } = options;
  const progress = await options.progress.load();
  const startedMs = clock.now();
  while (!signal.aborted) {
    const nowMs = clock.now();
    const due = dueSlots(schedules, progress, nowMs, startedMs);
    for (const slot of due.missed) {
      await hooks.missed(slot);
      progress[slot.schedule.key] = Math.max(progress[slot.schedule.key] ?? 0, slot.time.at.getTime());
      await options.progress.save(progress);
    }
    for (const slot of due.run) {
      if (signal.aborted) return;
      await hooks.fire(slot);
      progress[slot.schedule.key] = Math.max(progress[slot.schedule.key] ?? 0, slot.time.at.getTime());
      await options.progress.save(progress);
    }
    for (const schedule of schedules) progress[schedule.key] ??= nowMs;
    const wakeAt = signal.aborted ? undefined : await hooks.tick?.(clock.now());
    if (signal.aborted) return;
    const next = upcomingSlots(schedules, clock.now());
    hooks.upcoming?.(next);
    const first = Math.min(
      next[0]?.time.at.getTime() ?? Number.POSITIVE_INFINITY,
      wakeAt ?? Number.POSITIVE_INFINITY,
    );
    const wait = Number.isFinite(first) ? Math.max(0, first - clock.now()) : MAX_SLEEP_MS;
    await clock.sleep(Math.min(wait, MAX_SLEEP_MS), signal);
  }
}
