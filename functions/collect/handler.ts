import { stepHandler } from '../../shared/observability/step-handler';
import { collectChannelPosts } from '../../shared/pipeline/collect';
import { channelSourceFor } from '../../shared/runtime/discord';

/** Kept back from the Lambda's time for the stretch's last chunk and the window's CSV (a 10k-post CSV streams in seconds). */
const COLLECT_FINISH_MS = 120_000;

export const handler = stepHandler('collect', async (input, context) =>
  collectChannelPosts(
    {
      pipeline: context.pipeline,
      channel: await channelSourceFor(context),
      store: context.store,
      // Only the since_last window reads the sheet: load its client only then (cold start).
      sheet: async () => (await import('../../shared/runtime/sheets')).sheetStoreFor(context),
      log: context.log,
      // Reading stops with time left to store the last stretch; the state machine runs Collect again for the rest.
      budgetMs: Math.max(60_000, context.remainingMs() - COLLECT_FINISH_MS),
    },
    input,
  ),
);
