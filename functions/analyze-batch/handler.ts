import { taskHandler } from '../../shared/observability/step-handler';
import { analyzeRunItem } from '../../shared/pipeline/analyze-batch';
import { itemInputSchema } from '../../shared/pipeline/plan-analysis';
import { analyzerFor } from '../../shared/runtime/gemini';

export const handler = taskHandler('analyze-batch', itemInputSchema, async (input, context) =>
  analyzeRunItem(
    {
      pipeline: context.pipeline,
      analyzer: await analyzerFor(context),
      store: context.store,
      log: context.log,
    },
    input,
  ),
);
