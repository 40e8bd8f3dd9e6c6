import { createGeminiAnalyzer } from '../adapters/gemini';
import type { Analyzer } from '../ports';
import type { StepContext } from './step-context';

export async function analyzerFor(context: StepContext): Promise<Analyzer> {
  const secrets = await context.secrets();
  return createGeminiAnalyzer({
    apiKey: secrets.GEMINI_API_KEY,
    baseUrl: context.endpoints.GEMINI_API_URL,
    timeoutMs: context.endpoints.API_TIMEOUT_MS,
    retry: context.retry,
    now: () => context.now().getTime(),
  });
}
