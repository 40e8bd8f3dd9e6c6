import { stepHandler } from '../../shared/observability/step-handler';
import { analyzeInputSchema, analyzeSheetPosts } from '../../shared/pipeline/analyze';
import { analyzerFor } from '../../shared/runtime/gemini';
import { sheetStoreFor } from '../../shared/runtime/sheets';

export const handler = stepHandler(
  'analyze',
  async (input, context) =>
    analyzeSheetPosts(
      {
        pipeline: context.pipeline,
        sheet: await sheetStoreFor(context),
        analyzer: await analyzerFor(context),
        store: context.store,
        log: context.log,
      },
      input,
    ),
  analyzeInputSchema,
);
