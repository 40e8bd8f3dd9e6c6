import { z } from 'zod';
import { findPipeline } from '../config/load';
import type { DigestConfig } from '../config/schema';
import { manualRunId, RUN_ID_PATTERN, scheduledRunId } from '../domain/run-id';
import type { LockHolderProcess, RunLedger, RunRecord, ScheduleStateStore } from '../ports';
import type { RunRef, StepInput } from './run-state';

/** What may start an execution: a schedule, the console, the CLI, or a replay. */
export const startRunInputSchema = z.object({
  pipelineId: z.string().min(1),
  trigger: z.enum(['schedule', 'manual', 'replay']).default('manual'),
  scheduleName: z.string().min(1).optional(),
  /** Scheduler's `<aws.scheduler.scheduled-time>`. */
  scheduledTime: z.iso.datetime({ offset: true }).optional(),
  /** Name the run yourself (manual runs); defaults to one derived from the execution. */
  runId: z.string().regex(RUN_ID_PATTERN).optional(),
  /** Continue an earlier run that failed or was left partial, by its id. */
  resume: z.boolean().default(false),
  /** Replay: process an earlier run's CSV again. */
  sourceRunId: z.string().regex(RUN_ID_PATTERN).optional(),
  dryRun: z.boolean().default(false),
});
export type StartRunInput = z.input<typeof startRunInputSchema>;

export const beginRunEventSchema = z.object({
  input: startRunInputSchema,
  executionName: z.string().min(1),
  executionId: z.string().min(1),
});
export type BeginRunEvent = z.infer<typeof beginRunEventSchema>;

export interface BeginRunDeps {
  config: DigestConfig;
  ledger: RunLedger;
  /** Each schedule's pause state: a scheduled run arriving while its schedule is paused is skipped. */
  schedules: ScheduleStateStore;
  now: () => Date;
  /** How long a run may hold the pipeline's lock before another may take it over. */
  lockLeaseMs: number;
  log: (message: string, data: Record<string, unknown>) => void;
  /** Locally: this process, recorded with the lock so the next command can tell whether it died. */
  holderProcess?: LockHolderProcess;
  /**
   * Locally: whether a lock's recorded process is certainly gone (kill -9, a
   * crash). Its run is then closed at once instead of after the lease. Absent
   * in Lambda, where only the lease says a holder died.
   */
  isHolderGone?: (holder: LockHolderProcess) => boolean;
}

// A missed slot (the watchdog recorded it) may be run late by hand, under its own id and window.
const RESUMABLE: ReadonlySet<RunRecord['status']> = new Set(['failed', 'partial', 'missed']);

function deriveRunId(event: BeginRunEvent, now: Date): string {
  const { input } = event;
  if (input.runId) return input.runId;
  if (input.trigger === 'schedule' && input.scheduleName && input.scheduledTime) {
    return scheduledRunId(input.scheduleName, new Date(input.scheduledTime));
  }
  const id = manualRunId(now, event.executionName);
  return input.trigger === 'replay' ? id.replace(/^manual-/, 'replay-') : id;
}

/**
 * Open a run: name it, refuse a second delivery of the same run, and take the
 * pipeline's lock so two runs never work on one sheet at once.
 */
export async function beginRun(deps: BeginRunDeps, event: BeginRunEvent): Promise<StepInput> {
  const { input } = event;
  findPipeline(deps.config, input.pipelineId);
  const now = deps.now();
  const runId = deriveRunId(event, now);
  const referenceTime = input.scheduledTime ? new Date(input.scheduledTime).toISOString() : now.toISOString();
  const run: RunRef = {
    pipelineId: input.pipelineId,
    runId,
    trigger: input.trigger,
    referenceTime,
    startedAt: now.toISOString(),
    dryRun: input.dryRun,
    ...(input.scheduleName ? { scheduleName: input.scheduleName } : {}),
    ...(input.sourceRunId ? { sourceRunId: input.sourceRunId } : {}),
    proceed: false,
  };
  const record: RunRecord = {
    pipelineId: run.pipelineId,
    runId,
    trigger: run.trigger,
    ...(input.scheduledTime ? { scheduledTime: referenceTime } : {}),
    ...(input.scheduleName ? { scheduleName: input.scheduleName } : {}),
    startedAt: run.startedAt,
    status: 'running',
    steps: {},
    executionId: event.executionId,
  };

  await closeRunOfDeadHolder(deps, run.pipelineId);
  const created = await deps.ledger.createRun(record);
  if (!created.created) {
    const existing = created.existing;
    const sameExecution = existing.executionId === event.executionId;
    const resuming = input.resume && RESUMABLE.has(existing.status);
    if (!sameExecution && !resuming) {
      await recordDuplicate(deps, run, existing, event);
      return { run, steps: {} };
    }
    // Resuming keeps the run's original reference time, so it sees the same window.
    run.referenceTime = existing.scheduledTime ?? existing.startedAt;
    // …and the schedule it was run for, whose time zone dates its draft.
    if (!run.scheduleName && existing.scheduleName) run.scheduleName = existing.scheduleName;
    if (resuming) deps.log('resuming run', { runId, previousStatus: existing.status });
  }

  const pause = await activePause(deps, run, now);
  if (pause) {
    await deps.ledger.finishRun(run.pipelineId, runId, {
      status: 'skipped',
      endedAt: deps.now().toISOString(),
      reason: pause,
    });
    deps.log('run skipped: schedule paused', { runId, scheduleName: run.scheduleName, reason: pause });
    return { run, steps: {} };
  }

  const lock = await deps.ledger.acquireLock(
    run.pipelineId,
    runId,
    now.getTime(),
    deps.lockLeaseMs,
    deps.holderProcess,
  );
  if (!lock.acquired) {
    await deps.ledger.finishRun(run.pipelineId, runId, {
      status: 'skipped',
      endedAt: deps.now().toISOString(),
      reason: `overlapping: run ${lock.heldBy} holds the lock until ${new Date(lock.leaseUntil).toISOString()}`,
    });
    deps.log('run skipped: overlapping', { runId, heldBy: lock.heldBy });
    return { run, steps: {} };
  }
  if (lock.takenOverFrom) {
    const previous = lock.takenOverFrom;
    deps.log('stale lock taken over', {
      runId,
      previousHolder: previous.runId,
      leaseExpired: new Date(previous.leaseUntil).toISOString(),
    });
    // The holder died without closing its record (a crash, the execution timeout): close it now.
    const stale = await deps.ledger.getRun(run.pipelineId, previous.runId);
    if (stale?.status === 'running') {
      await deps.ledger.finishRun(run.pipelineId, previous.runId, {
        status: 'failed',
        endedAt: now.toISOString(),
        reason: `abandoned: its lock lease expired at ${new Date(previous.leaseUntil).toISOString()}`,
      });
    }
  }
  return { run: { ...run, proceed: true }, steps: {} };
}

/**
 * Why a scheduled run must not go ahead: its schedule is paused in the ledger and the pause has
 * not ended. Disabling the deployed schedule stops most deliveries, but one may already be on its
 * way, and locally the ledger is the only pause there is.
 */
async function activePause(deps: BeginRunDeps, run: RunRef, now: Date): Promise<string | undefined> {
  if (run.trigger !== 'schedule' || !run.scheduleName) return undefined;
  const state = await deps.schedules.get(run.pipelineId, run.scheduleName);
  if (state.state !== 'paused') return undefined;
  if (state.pausedUntil && Date.parse(state.pausedUntil) <= now.getTime()) return undefined;
  const until = state.pausedUntil ? ` until ${state.pausedUntil}` : '';
  return `paused: ${state.reason ?? 'no reason given'} (by ${state.changedBy ?? 'unknown'})${until}`;
}

/**
 * A lock whose recorded process no longer exists will never be released by
 * it: close its run as failed and free the lock now, as CloseAbandonedRun does
 * in AWS, so this run neither waits out the lease nor is refused.
 */
async function closeRunOfDeadHolder(deps: BeginRunDeps, pipelineId: string): Promise<void> {
  if (!deps.isHolderGone) return;
  const lock = await deps.ledger.getLock(pipelineId);
  if (!lock?.process || !deps.isHolderGone(lock.process)) return;
  const stale = await deps.ledger.getRun(pipelineId, lock.holder);
  if (stale?.status === 'running') {
    await deps.ledger.finishRun(pipelineId, lock.holder, {
      status: 'failed',
      endedAt: deps.now().toISOString(),
      reason: `abandoned, holder process ${lock.process.pid} is gone`,
    });
  }
  await deps.ledger.releaseLock(pipelineId, lock.holder);
  deps.log('run of a dead process closed', { runId: lock.holder, pid: lock.process.pid });
}

/** A second delivery leaves a record of its own, so the history shows it and the first run stays untouched. */
async function recordDuplicate(deps: BeginRunDeps, run: RunRef, existing: RunRecord, event: BeginRunEvent) {
  const duplicateId =
    `${run.runId}-dup-${event.executionName.replace(/[^A-Za-z0-9]/g, '').slice(0, 16)}`.slice(0, 80);
  const at = deps.now().toISOString();
  await deps.ledger.createRun({
    pipelineId: run.pipelineId,
    runId: duplicateId,
    trigger: run.trigger,
    startedAt: run.startedAt,
    endedAt: at,
    status: 'duplicate',
    reason: `run ${run.runId} already exists (${existing.status})`,
    steps: {},
    executionId: event.executionId,
  });
  deps.log('run is a duplicate', { runId: run.runId, existingStatus: existing.status });
}
