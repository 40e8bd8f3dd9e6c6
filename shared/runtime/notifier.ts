import type { Context } from 'aws-lambda';
import type { PipelineConfig } from '../config/schema';
import type { DeliveryOutcome } from '../pipeline/deliver';
import { type Notice, sendNotice } from '../pipeline/notify';
import { destinationFactory } from './destinations';
import { type StepContext, stepContext } from './step-context';

/** Send a notice to the context's pipeline's notify destinations, once per run and event (its journal). */
export function noticeSender(context: StepContext) {
  const destinationFor = destinationFactory(context);
  return (notice: Notice): Promise<DeliveryOutcome[]> =>
    sendNotice(
      { pipeline: context.pipeline, journal: context.deliveries, destinationFor, log: context.log },
      notice,
    );
}

/** A notice for any pipeline, wired from the environment the function runs in (the watchdog, the daemon). */
export function notifierFor(lambda: Pick<Context, 'getRemainingTimeInMillis'>) {
  return async (pipeline: PipelineConfig, notice: Notice): Promise<void> => {
    await noticeSender(stepContext(pipeline.id, lambda))(notice);
  };
}
