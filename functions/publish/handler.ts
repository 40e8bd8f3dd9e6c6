import { stepHandler } from '../../shared/observability/step-handler';
import { publishRunDraft } from '../../shared/pipeline/publish';
import { publisherFor } from '../../shared/runtime/publisher';

export const handler = stepHandler('publish', async (input, context) =>
  publishRunDraft(
    {
      pipeline: context.pipeline,
      store: context.store,
      journal: context.journal,
      publisher: () => publisherFor(context),
      log: context.log,
    },
    input,
  ),
);
