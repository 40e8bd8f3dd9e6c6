import type { Context } from 'aws-lambda';
import type { PipelineConfig } from '../config/schema';
import { type Notice, sendNotice } from '../pipeline/notify';
import { destinationFactory } from './destinations';
import { stepContext } from './step-context';

/** Send a notice to the pipeline's notify destinations, wired from the environment the function runs in. */
export function notifierFor(lambda: Pick<Context, 'getRemainingTimeInMillis'>) {
  return async (pipeline: PipelineConfig, notice: Notice): Promise<void> => {
    const context = stepContext(pipeline.id, lambda);
    await sendNotice(
      {
        pipeline: context.pipeline,
        journal: context.deliveries,
        destinationFor: destinationFactory(context),
        log: context.log,
      },
      notice,
    );
  };
}
