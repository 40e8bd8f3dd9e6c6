import { createTypefullyPublisher } from '../adapters/typefully';
import { createXPublisher } from '../adapters/x';
import { ConfigError } from '../errors';
import type { Publisher } from '../ports';
import type { StepContext } from './step-context';

/** The pipeline's publisher, or undefined when it publishes nowhere. Missing credentials name the key. */
export async function publisherFor(context: StepContext): Promise<Publisher | undefined> {
  const settings = context.pipeline.publisher;
  if (settings.kind === 'none') return undefined;
  const secrets = await context.secrets();
  const need = (key: keyof typeof secrets): string => {
    const value = secrets[key];
    if (!value) throw new ConfigError(`secret ${key} is required by publisher kind "${settings.kind}"`);
    return value;
  };
  if (settings.kind === 'typefully') {
    return createTypefullyPublisher({
      apiKey: need('TYPEFULLY_API_KEY'),
      socialSetId: settings.typefullySocialSetId ?? '',
      publishAt: settings.typefullyPublishAt,
      baseUrl: context.endpoints.TYPEFULLY_API_URL,
      timeoutMs: context.endpoints.API_TIMEOUT_MS ?? 30_000,
      retry: context.retry,
    });
  }
  return createXPublisher({
    appKey: need('X_API_KEY'),
    appSecret: need('X_API_SECRET'),
    accessToken: need('X_ACCESS_TOKEN'),
    accessSecret: need('X_ACCESS_SECRET'),
    baseUrl: context.endpoints.X_API_URL,
    timeoutMs: context.endpoints.API_TIMEOUT_MS ?? 30_000,
    retry: context.retry,
  });
}
