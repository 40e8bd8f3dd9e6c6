import { stepHandler } from '../../shared/observability/step-handler';
import { deliverRunDigest } from '../../shared/pipeline/deliver';
import { destinationFactory } from '../../shared/runtime/destinations';

export const handler = stepHandler('deliver', async (input, context) =>
  deliverRunDigest(
    {
      pipeline: context.pipeline,
      store: context.store,
      journal: context.deliveries,
      destinationFor: destinationFactory(context),
      log: context.log,
    },
    input,
  ),
);
