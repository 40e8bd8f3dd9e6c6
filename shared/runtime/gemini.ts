import {
  createGeminiAnalyzer,
  createGeminiClient,
  type GeminiClient,
  type GeminiClientOptions,
} from '../adapters/gemini';
import { quotaObserverFor } from '../observability/metrics';
import type { Analyzer } from '../ports';
import type { StepContext } from './step-context';

/**
 * One client per key, base URL and timeout for the container's life: AnalyzeBatch runs once per batch,
 * often many times in one warm container. The analyzer around it is per invocation, since its retry bounds
 * follow the invocation's remaining time.
 */
const clients = new Map<string, GeminiClient>();

export function geminiClientFor(options: GeminiClientOptions): GeminiClient {
  const key = JSON.stringify([options.apiKey, options.baseUrl, options.timeoutMs]);
  let client = clients.get(key);
  if (!client) {
    client = createGeminiClient(options);
    clients.set(key, client);
  }
  return client;
}

export async function analyzerFor(context: StepContext): Promise<Analyzer> {
  const secrets = await context.secrets('gemini');
  return createGeminiAnalyzer({
    client: geminiClientFor({
      apiKey: secrets.GEMINI_API_KEY,
      baseUrl: context.endpoints.GEMINI_API_URL,
      // Generating a batch of 100 analyses takes tens of seconds: the 30 s that suits the other APIs would cut it.
      timeoutMs: context.endpoints.API_TIMEOUT_MS ?? 120_000,
    }),
    retry: context.retry,
    now: () => context.now().getTime(),
    onQuota: quotaObserverFor(context.pipeline.id),
  });
}
