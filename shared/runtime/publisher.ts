import type { TwitterApi } from 'twitter-api-v2';
import { createTypefullyPublisher } from '../adapters/typefully';
import { createXClient, createXPublisher, type XClientOptions } from '../adapters/x';
import { quotaObserverFor } from '../observability/metrics';
import type { Publisher } from '../ports';
import type { StepContext } from './step-context';

/** One X client per account and base URL for the container's life; the publisher around it is per invocation. */
const xClients = new Map<string, TwitterApi>();

export function xClientFor(options: XClientOptions): TwitterApi {
  const key = JSON.stringify([
    options.appKey,
    options.appSecret,
    options.accessToken,
    options.accessSecret,
    options.baseUrl,
  ]);
  let client = xClients.get(key);
  if (!client) {
    client = createXClient(options);
    xClients.set(key, client);
  }
  return client;
}

/** The pipeline's publisher, or undefined when it publishes nowhere. Missing credentials name the secret and key. */
export async function publisherFor(context: StepContext): Promise<Publisher | undefined> {
  const settings = context.pipeline.publisher;
  if (settings.kind === 'none') return undefined;
  if (settings.kind === 'typefully') {
    const { TYPEFULLY_API_KEY } = await context.secrets('typefully');
    return createTypefullyPublisher({
      apiKey: TYPEFULLY_API_KEY,
      socialSetId: settings.typefullySocialSetId ?? '',
      publishAt: settings.typefullyPublishAt,
      baseUrl: context.endpoints.TYPEFULLY_API_URL,
      timeoutMs: context.endpoints.API_TIMEOUT_MS ?? 30_000,
      retry: context.retry,
    });
  }
  const x = await context.secrets('x');
  return createXPublisher({
    client: xClientFor({
      appKey: x.X_API_KEY,
      appSecret: x.X_API_SECRET,
      accessToken: x.X_ACCESS_TOKEN,
      accessSecret: x.X_ACCESS_SECRET,
      baseUrl: context.endpoints.X_API_URL,
    }),
    baseUrl: context.endpoints.X_API_URL,
    timeoutMs: context.endpoints.API_TIMEOUT_MS ?? 30_000,
    retry: context.retry,
    onQuota: quotaObserverFor(context.pipeline.id),
  });
}
