import { createGeminiAnalyzer } from '../adapters/gemini';
import { quotaObserverFor } from '../observability/metrics';
import type { Analyzer } from '../ports';
import type { StepContext } from './step-context';

export async function analyzerFor(context: StepContext): Promise<Analyzer> {
  const secrets = await context.secrets('gemini');
  return createGeminiAnalyzer({
    apiKey: secrets.GEMINI_API_KEY,
    baseUrl: context.endpoints.GEMINI_API_URL,
    // Generating a batch of 100 analyses takes tens of seconds: the 30 s that suits the other APIs would cut it.
    timeoutMs: context.endpoints.API_TIMEOUT_MS ?? 120_000,
    retry: context.retry,
    now: () => context.now().getTime(),
    onQuota: quotaObserverFor(context.pipeline.id),
  });
}
