import { taskHandler } from '../../shared/observability/step-handler';
import { planRunAnalysis } from '../../shared/pipeline/plan-analysis';
import { stepInputSchema } from '../../shared/pipeline/run-state';
import { sheetStoreFor } from '../../shared/runtime/sheets';

export const handler = taskHandler('plan-analysis', stepInputSchema, async (input, context) =>
  planRunAnalysis(
    {
      pipeline: context.pipeline,
      sheet: await sheetStoreFor(context),
      store: context.store,
      log: context.log,
    },
    input,
  ),
);
