import * as z from 'zod';
import type { LockHolderProcess, LockInfo, RunLedger, RunRecord } from '../ports';

/** EventBridge's "Step Functions Execution Status Change" for a failed, timed-out or aborted execution. */
export const executionEndedEventSchema = z.object({
  detail: z.object({
    executionArn: z.string().min(1),
    status: z.enum(['FAILED', 'TIMED_OUT', 'ABORTED']),
    /** The execution's input, as JSON text. */
    input: z.string().nullish(),
  }),
});
export type ExecutionEndedEvent = z.infer<typeof executionEndedEventSchema>;

export interface CloseAbandonedRunDeps {
  ledger: RunLedger;
  now: () => Date;
  log: (message: string, data: Record<string, unknown>) => void;
}

/**
 * An execution that ended without reaching FinishRun (it timed out, was
 * aborted, or FinishRun itself failed) would leave its run `running` and its
 * pipeline locked until the lease ran out. Close the run as failed, with the
 * reason, and free the lock.
 */
export async function closeAbandonedRun(
  deps: CloseAbandonedRunDeps,
  event: ExecutionEndedEvent,
): Promise<{ closed: boolean; runId?: string }> {
  const { executionArn, status, input } = event.detail;
  let pipelineId: string | undefined;
  try {
    pipelineId = (JSON.parse(input ?? '{}') as { pipelineId?: unknown }).pipelineId as string | undefined;
  } catch {
    pipelineId = undefined;
  }
  if (typeof pipelineId !== 'string') return { closed: false };
  const lock = await deps.ledger.getLock(pipelineId);
  const run = lock ? await deps.ledger.getRun(pipelineId, lock.holder) : undefined;
  // Only the run this very execution opened and still holds: never another run's.
  if (!run || run.executionId !== executionArn || run.status !== 'running') return { closed: false };
  await deps.ledger.finishRun(pipelineId, run.runId, {
    status: 'failed',
    endedAt: deps.now().toISOString(),
    reason: `execution ${status.toLowerCase().replace('_', ' ')} before the run was closed`,
  });
  await deps.ledger.releaseLock(pipelineId, run.runId);
  deps.log('abandoned run closed', { pipelineId, runId: run.runId, executionStatus: status });
  return { closed: true, runId: run.runId };
}

// ─── Operators: close a stuck run, release a stuck lock ─────────────────────

export interface OperatorDeps {
  ledger: RunLedger;
  now: () => Date;
  /** Locally: whether the lock's recorded process is certainly gone. Absent against AWS. */
  isHolderGone?: (holder: LockHolderProcess) => boolean;
  /** Against AWS: the Step Functions status of the run's execution (DescribeExecution), if it can be read. */
  executionStatus?: (executionArn: string) => Promise<string | undefined>;
}

export interface OperatorResult {
  /** false: refused or nothing to do; the message says which. */
  done: boolean;
  message: string;
}

/**
 * Whether the lock's holder may still be working: a recorded process that
 * still exists (or cannot be checked from here); in AWS its execution still
 * RUNNING; failing both, a lease that has not run out.
 */
export async function holderState(
  deps: OperatorDeps,
  lock: LockInfo,
  run: RunRecord | undefined,
): Promise<{ alive: boolean; description: string }> {
  if (lock.process) {
    const gone = deps.isHolderGone?.(lock.process) ?? false;
    return {
      alive: !gone,
      description: `process ${lock.process.pid} on ${lock.process.host} ${gone ? 'is gone' : 'is alive'}`,
    };
  }
  const arn = run?.runId === lock.holder ? run.executionId : undefined;
  if (arn?.startsWith('arn:') && deps.executionStatus) {
    const status = await deps.executionStatus(arn).catch(() => undefined);
    // RUNNING is the only status of an execution still at work; PENDING_REDRIVE has ended and waits for a person.
    if (status) return { alive: status === 'RUNNING', description: `its execution is ${status}` };
  }
  const until = new Date(lock.leaseUntil).toISOString();
  return lock.leaseUntil > deps.now().getTime()
    ? { alive: true, description: `its lease runs until ${until}` }
    : { alive: false, description: `its lease expired at ${until}` };
}

/** `runs close <runId>`: mark a running run failed and free its lock, unless its holder is alive. */
export async function closeRunByOperator(
  deps: OperatorDeps,
  request: { pipelineId: string; runId: string; reason?: string; force: boolean },
): Promise<OperatorResult> {
  const { pipelineId, runId, force } = request;
  const run = await deps.ledger.getRun(pipelineId, runId);
  if (!run) return { done: false, message: `no run ${runId} in pipeline ${pipelineId}` };
  const lock = await deps.ledger.getLock(pipelineId);
  const holds = lock?.holder === runId ? lock : undefined;
  if (run.status !== 'running' && !force) {
    return {
      done: false,
      message: `run ${runId} is already ${run.status}; nothing to close (--force to close it anyway)`,
    };
  }
  const state = holds ? await holderState(deps, holds, run) : undefined;
  if (state?.alive && !force) {
    return {
      done: false,
      message: `refused: run ${runId} holds the lock of ${pipelineId} and ${state.description} (--force to close it anyway)`,
    };
  }
  const reason = request.reason ?? `closed by an operator${state ? `: ${state.description}` : ''}`;
  await deps.ledger.finishRun(pipelineId, runId, {
    status: 'failed',
    endedAt: deps.now().toISOString(),
    reason,
  });
  if (holds) await deps.ledger.releaseLock(pipelineId, runId);
  return { done: true, message: `run ${runId} closed: failed (${reason})${holds ? '; lock released' : ''}` };
}

/** `locks release <pipeline>`: free the pipeline's lock (closing its running run), unless its holder is alive. */
export async function releaseLockByOperator(
  deps: OperatorDeps,
  request: { pipelineId: string; force: boolean },
): Promise<OperatorResult> {
  const { pipelineId, force } = request;
  const lock = await deps.ledger.getLock(pipelineId);
  if (!lock) return { done: true, message: `pipeline ${pipelineId} is not locked` };
  const run = await deps.ledger.getRun(pipelineId, lock.holder);
  const state = await holderState(deps, lock, run);
  if (state.alive && !force) {
    return {
      done: false,
      message: `refused: run ${lock.holder} holds the lock of ${pipelineId} and ${state.description} (--force to release it anyway)`,
    };
  }
  if (run?.status === 'running') {
    await deps.ledger.finishRun(pipelineId, lock.holder, {
      status: 'failed',
      endedAt: deps.now().toISOString(),
      reason: `abandoned: its lock was released by an operator (${state.description})`,
    });
  }
  await deps.ledger.releaseLock(pipelineId, lock.holder);
  return {
    done: true,
    message: `lock of ${pipelineId} released (held by run ${lock.holder}${run?.status === 'running' ? ', now closed as failed' : ''})`,
  };
}
