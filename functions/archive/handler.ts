import { stepHandler } from '../../shared/observability/step-handler';
import { archiveProcessedRows } from '../../shared/pipeline/archive';
import { sheetStoreFor } from '../../shared/runtime/sheets';

export const handler = stepHandler('archive', async (input, context) =>
  archiveProcessedRows(
    {
      pipeline: context.pipeline,
      store: context.store,
      sheet: await sheetStoreFor(context),
      now: context.now,
      log: context.log,
    },
    input,
  ),
);
