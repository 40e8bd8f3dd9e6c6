import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type * as z from 'zod';
import { PermanentError, RateLimitedError, WaitForRateLimitError } from '../errors';
import { type StepInput, stepInputSchema } from '../pipeline/run-state';
import type { StepName, StepRecord } from '../ports';
import { stateMachineWaitSeconds, withResetTime } from '../runtime/rate-limit-wait';
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
export function stepHandler<I extends StepInput = StepInput>(
  step: StepName,
  useCase: (input: I, context: StepContext) => Promise<StepRecord>,
  schema: z.ZodType<I> = stepInputSchema as unknown as z.ZodType<I>,
) {
  return middy(async (event: unknown, lambda: Context): Promise<StepRecord> => {
    const input = parseEvent(schema, event);
    const { run } = input;
    logger.appendKeys({ pipelineId: run.pipelineId, runId: run.runId, step });
    const context = stepContext(run.pipelineId, lambda);
    const result = await runOrWait(() => useCase(input, context), run.startedAt, context.now());
    await context.ledger.recordStep(run.pipelineId, run.runId, step, result);
    // Recorded first, so the ledger says why the run waits; then the state machine's Catch waits.
    if (result.waitSeconds !== undefined)
      throw new WaitForRateLimitError(new Date(Date.parse(result.endedAt) + result.waitSeconds * 1000));
    logger.info('step finished', { status: result.status, counts: result.counts, notes: result.notes });
    return result;
  }).use(injectLambdaContext(logger, { resetKeys: true }));
}

/**
 * A task that is part of a step rather than a step (the analysis plan, one
 * batch of the Map): parse, run, answer. Its step records the outcome, once,
 * instead of a ledger write per batch.
 */
export function taskHandler<I extends { run: { pipelineId: string; runId: string } }, O>(
  task: string,
  schema: z.ZodType<I>,
  useCase: (input: I, context: StepContext) => Promise<O>,
) {
  return middy(async (event: unknown, lambda: Context): Promise<O> => {
    const input = parseEvent(schema, event);
    const { run } = input;
    logger.appendKeys({ pipelineId: run.pipelineId, runId: run.runId, task });
    const result = await useCase(input, stepContext(run.pipelineId, lambda));
    logger.info('task finished', { result });
    return result;
  }).use(injectLambdaContext(logger, { resetKeys: true }));
}

export { MAX_STATE_MACHINE_WAIT_S, RUN_WAIT_BUDGET_MS } from '../runtime/rate-limit-wait';

/**
 * A rate limit longer than the in-process limit is not the Lambda's to wait
 * out (billed) nor a blind Retry's (5 to 75 s later, then failed): the step's
 * record says `waitSeconds`, the handler throws WaitForRateLimitError, and the
 * state machine's Wait state waits exactly that long before running the step again. A quota that resets beyond the run's
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
    const waitSeconds = stateMachineWaitSeconds(error, runStartedAt, started);
    const endedAt = new Date().toISOString();
    const message = withResetTime(error);
    const base = {
      endedAt,
      durationMs: Date.now() - started,
      counts: {},
      error: { name: error.name, message },
    };
    if (waitSeconds !== undefined) {
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
