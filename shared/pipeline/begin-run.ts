import * as z from 'zod';
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
  /** With `resume`: this is the run's n-th automatic resume, started by the plan FinishRun recorded. */
  autoResumeAttempt: z.number().int().min(1).optional(),
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
  /** Told of a run recorded without running (FinishRun never sees it), so its metric is sent too. */
  notRun?: (pipelineId: string, status: 'skipped' | 'duplicate') => void;
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
  const pipeline = findPipeline(deps.config, input.pipelineId);
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
    // Only a draft that would really be posted waits for a person.
    ...(pipeline.publisher.review === 'approve' &&
    pipeline.publisher.kind !== 'none' &&
    !pipeline.publisher.dryRun &&
    !input.dryRun
      ? { review: { timeoutSeconds: pipeline.review.expiresHours * 3600 } }
      : {}),
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
  /** The run as it was before this resume took it: put back if the resume may not go ahead. */
  let resumedFrom: RunRecord | undefined;
  if (!created.created) {
    const existing = created.existing;
    if (existing.executionId !== event.executionId) {
      // A resume takes the run in one conditional write, so of two resumes at once (a repeated Scheduler
      // delivery, an operator's --resume) only one goes ahead; the other, like a resume of a run that is
      // running or done, is recorded as a duplicate and does nothing.
      const claim =
        input.resume && RESUMABLE.has(existing.status)
          ? await deps.ledger.claimResume(run.pipelineId, runId, {
              executionId: event.executionId,
              automatic: input.autoResumeAttempt !== undefined,
            })
          : undefined;
      if (!claim?.claimed) {
        const winner = claim && !claim.claimed ? claim.existing : undefined;
        await recordDuplicate(deps, run, winner ?? existing, event);
        deps.notRun?.(run.pipelineId, 'duplicate');
        return { run, steps: {} };
      }
      resumedFrom = existing;
      deps.log('resuming run', {
        runId,
        previousStatus: existing.status,
        ...(input.autoResumeAttempt ? { autoResumeAttempt: input.autoResumeAttempt } : {}),
      });
    }
    // The attempt travels with the execution (a retried BeginRun too), so FinishRun plans the next one.
    if (input.resume && input.autoResumeAttempt !== undefined)
      run.autoResumeAttempt = input.autoResumeAttempt;
    // Resuming keeps the run's original reference time, so it sees the same window.
    run.referenceTime = existing.scheduledTime ?? existing.startedAt;
    // …and the schedule it was run for, whose time zone dates its draft.
    if (!run.scheduleName && existing.scheduleName) run.scheduleName = existing.scheduleName;
  }

  const pause = await activePause(deps, run, now);
  if (pause) {
    await refuse(deps, run, resumedFrom, event, pause);
    deps.log('run skipped: schedule paused', { runId, scheduleName: run.scheduleName, reason: pause });
    deps.notRun?.(run.pipelineId, 'skipped');
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
    const reason = `overlapping: run ${lock.heldBy} holds the lock until ${new Date(lock.leaseUntil).toISOString()}`;
    await refuse(deps, run, resumedFrom, event, reason);
    deps.log('run skipped: overlapping', { runId, heldBy: lock.heldBy });
    deps.notRun?.(run.pipelineId, 'skipped');
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

/**
 * A run that may not go ahead is closed `skipped` with the reason; a resume that may not is put back as it
 * was (still failed or partial, so it can be resumed later) and its refusal gets a record of its own.
 */
async function refuse(
  deps: BeginRunDeps,
  run: RunRef,
  resumedFrom: RunRecord | undefined,
  event: BeginRunEvent,
  reason: string,
) {
  if (!resumedFrom) {
    await deps.ledger.finishRun(run.pipelineId, run.runId, {
      status: 'skipped',
      endedAt: deps.now().toISOString(),
      reason,
    });
    return;
  }
  await deps.ledger.finishRun(run.pipelineId, run.runId, {
    status: resumedFrom.status,
    endedAt: resumedFrom.endedAt ?? deps.now().toISOString(),
    ...(resumedFrom.reason ? { reason: resumedFrom.reason } : {}),
  });
  await recordSibling(deps, run, event, 'resume', 'skipped', `resume of run ${run.runId} skipped: ${reason}`);
}

/** A second delivery leaves a record of its own, so the history shows it and the first run stays untouched. */
async function recordDuplicate(deps: BeginRunDeps, run: RunRef, existing: RunRecord, event: BeginRunEvent) {
  await recordSibling(
    deps,
    run,
    event,
    'dup',
    'duplicate',
    `run ${run.runId} already exists (${existing.status})`,
  );
  deps.log('run is a duplicate', { runId: run.runId, existingStatus: existing.status });
}

async function recordSibling(
  deps: BeginRunDeps,
  run: RunRef,
  event: BeginRunEvent,
  tag: 'dup' | 'resume',
  status: 'duplicate' | 'skipped',
  reason: string,
) {
  const siblingId =
    `${run.runId}-${tag}-${event.executionName.replace(/[^A-Za-z0-9]/g, '').slice(0, 16)}`.slice(0, 80);
  const at = deps.now().toISOString();
  await deps.ledger.createRun({
    pipelineId: run.pipelineId,
    runId: siblingId,
    trigger: run.trigger,
    startedAt: run.startedAt,
    endedAt: at,
    status,
    reason,
    steps: {},
    executionId: event.executionId,
  });
}
