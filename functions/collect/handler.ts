import { stepHandler } from '../../shared/observability/step-handler';
import { collectChannelPosts } from '../../shared/pipeline/collect';
import { channelSourceFor } from '../../shared/runtime/discord';

export const handler = stepHandler('collect', async (input, context) =>
  collectChannelPosts(
    {
      pipeline: context.pipeline,
      channel: await channelSourceFor(context),
      store: context.store,
      // Only the since_last window reads the sheet: load its client only then (cold start).
      sheet: async () => (await import('../../shared/runtime/sheets')).sheetStoreFor(context),
      log: context.log,
    },
    input,
  ),
);
