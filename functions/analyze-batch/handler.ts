import { taskHandler } from '../../shared/observability/step-handler';
import { analyzeRunBatch } from '../../shared/pipeline/analyze-batch';
import { batchInputSchema } from '../../shared/pipeline/plan-analysis';
import { analyzerFor } from '../../shared/runtime/gemini';

export const handler = taskHandler('analyze-batch', batchInputSchema, async (input, context) =>
  analyzeRunBatch(
    {
      pipeline: context.pipeline,
      analyzer: await analyzerFor(context),
      store: context.store,
      log: context.log,
    },
    input,
  ),
);
