/**
 * Missed runs: a slot a schedule should have fired, whose grace period has
 * passed, with no run in the ledger. A scheduled run's id is fixed by its
 * schedule and slot (`scheduledRunId`), so the ledger answers by key.
 */
import { scheduledRunId } from '../run-id';
import { type DstPolicy, type FireRule, fireTimesBetween } from './evaluator';

export interface WatchedSchedule {
  scheduleName: string;
  rule: FireRule;
  dst: DstPolicy;
  graceMs: number;
}

export interface MissedSlot {
  scheduleName: string;
  runId: string;
  /** The instant the slot was due (ISO). */
  at: string;
  /** The wall-clock time the schedule named. */
  local: string;
}

/** Slots in (fromMs, nowMs − grace] without a run: each is a missed run to record and report. */
export function missedSlots(
  schedule: WatchedSchedule,
  hasRun: (runId: string) => boolean,
  fromMs: number,
  nowMs: number,
): MissedSlot[] {
  return fireTimesBetween(schedule.rule, fromMs, nowMs - schedule.graceMs, schedule.dst)
    .filter((time) => time.dst !== 'skipped')
    .map((time) => ({
      scheduleName: schedule.scheduleName,
      runId: scheduledRunId(schedule.scheduleName, time.at),
      at: time.at.toISOString(),
      local: time.local,
    }))
    .filter((slot) => !hasRun(slot.runId));
}
