import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import { PermanentError, RateLimitedError } from '../errors';
import { type StepInput, stepInputSchema } from '../pipeline/run-state';
import type { StepName, StepRecord } from '../ports';
import { MAX_IN_PROCESS_WAIT_MS, type StepContext, stepContext } from '../runtime/step-context';
import { logger } from './logger';

/** Parse a state's input, or fail permanently: a retry would see the same input. */
export function parseEvent<T extends z.ZodType>(schema: T, event: unknown): z.infer<T> {
  const result = schema.safeParse(event);
  if (!result.success) {
    throw new PermanentError(
      `invalid state input: ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  return result.data;
}

/**
 * The shape of every pipeline step's Lambda: parse the state input, build the
 * step's context, run one use case, record its outcome in the run ledger and
 * hand the small result back to the state machine.
 */
export function stepHandler(
  step: StepName,
  useCase: (input: StepInput, context: StepContext) => Promise<StepRecord>,
) {
  return middy(async (event: unknown, lambda: Context): Promise<StepRecord> => {
    const input = parseEvent(stepInputSchema, event);
    const { run } = input;
    logger.appendKeys({ pipelineId: run.pipelineId, runId: run.runId, step });
    const context = stepContext(run.pipelineId, lambda);
    const result = await runOrWait(() => useCase(input, context), run.startedAt, context.now());
    await context.ledger.recordStep(run.pipelineId, run.runId, step, result);
    logger.info('step finished', { status: result.status, counts: result.counts, notes: result.notes });
    return result;
  }).use(injectLambdaContext(logger, { resetKeys: true }));
}

/** The longest single wait the state machine takes for a rate limit (a Wait state costs nothing). */
export const MAX_STATE_MACHINE_WAIT_S = 15 * 60;
/**
 * Waits end this long after the run started, leaving the rest of the
 * execution's hour for the steps themselves; a quota that resets later ends
 * the step and the run is resumed after the reset.
 */
export const RUN_WAIT_BUDGET_MS = 30 * 60_000;

/**
 * A rate limit longer than the in-process limit is not the Lambda's to wait
 * out (billed) nor a blind Retry's (5 to 75 s later, then failed): the step
 * answers `waitSeconds`, and the state machine's Wait state waits exactly that
 * long before running the step again. A quota that resets beyond the run's
 * wait budget (a daily cap) ends the step as failed with the RateLimitedError,
 * whose message names the reset: the run is partial and a resume finishes it.
 */
export async function runOrWait(
  useCase: () => Promise<StepRecord>,
  runStartedAt: string,
  now: Date,
): Promise<StepRecord> {
  const started = now.getTime();
  try {
    return await useCase();
  } catch (error) {
    // A short limit that outlasted the in-process attempts goes to the state machine's bounded Retry;
    // only a wait the Lambda could not take becomes a Wait state.
    if (!(error instanceof RateLimitedError) || error.retryAfterMs <= MAX_IN_PROCESS_WAIT_MS) throw error;
    const waitSeconds = Math.max(1, Math.ceil(error.retryAfterMs / 1000));
    const resumeAt = started + waitSeconds * 1000;
    const endedAt = new Date().toISOString();
    // The operator needs the reset time to know when a resume will work.
    const message = /resets at/.test(error.message)
      ? error.message
      : `${error.message} (it resets at ${error.resetAt.toISOString()})`;
    const base = {
      endedAt,
      durationMs: Date.now() - started,
      counts: {},
      error: { name: error.name, message },
    };
    if (
      waitSeconds <= MAX_STATE_MACHINE_WAIT_S &&
      resumeAt <= new Date(runStartedAt).getTime() + RUN_WAIT_BUDGET_MS
    ) {
      logger.warn('rate limited: the state machine waits', { waitSeconds, resetAt: error.resetAt });
      return {
        ...base,
        status: 'partial',
        notes: { reason: `waiting ${waitSeconds} s for a rate limit: ${error.message}` },
        waitSeconds,
      };
    }
    logger.warn('quota resets after this run can wait: step ends', { resetAt: error.resetAt });
    return { ...base, status: 'failed', retryAt: error.resetAt.toISOString() };
  }
}
