import { stepHandler } from '../../shared/observability/step-handler';
import { appendNewPostsToSheet } from '../../shared/pipeline/upload';
import { sheetStoreFor } from '../../shared/runtime/sheets';

export const handler = stepHandler('upload', async (input, context) =>
  appendNewPostsToSheet(
    {
      pipeline: context.pipeline,
      store: context.store,
      sheet: await sheetStoreFor(context),
      log: context.log,
    },
    input,
  ),
);
