import { z } from 'zod';
import type { RunLedger } from '../ports';

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
