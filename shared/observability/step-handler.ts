import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import { PermanentError } from '../errors';
import { type StepInput, stepInputSchema } from '../pipeline/run-state';
import type { StepName, StepRecord } from '../ports';
import { type StepContext, stepContext } from '../runtime/step-context';
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
    const result = await useCase(input, context);
    await context.ledger.recordStep(run.pipelineId, run.runId, step, result);
    logger.info('step finished', { status: result.status, counts: result.counts, notes: result.notes });
    return result;
  }).use(injectLambdaContext(logger, { resetKeys: true }));
}
