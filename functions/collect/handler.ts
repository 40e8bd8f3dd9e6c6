import { stepHandler } from '../../shared/observability/step-handler';
import { collectChannelPosts } from '../../shared/pipeline/collect';
import { channelSourceFor } from '../../shared/runtime/discord';
import { sheetStoreFor } from '../../shared/runtime/sheets';

export const handler = stepHandler('collect', async (input, context) =>
  collectChannelPosts(
    {
      pipeline: context.pipeline,
      channel: await channelSourceFor(context),
      store: context.store,
      sheet: () => sheetStoreFor(context),
      log: context.log,
    },
    input,
  ),
);
