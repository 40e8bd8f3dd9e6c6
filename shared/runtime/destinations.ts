import type { SESv2Client } from '@aws-sdk/client-sesv2';
import {
  createDiscordWebhookDestination,
  parseDiscordWebhookUrl,
} from '../adapters/destinations/discord-webhook';
import { createLocalFileDestination, createS3FileDestination } from '../adapters/destinations/file';
import { createSesEmailDestination, createSesV2Client } from '../adapters/destinations/ses-email';
import { createWebhookDestination } from '../adapters/destinations/webhook';
import { LOCAL_HOLDER_ENV } from '../adapters/local-process';
import { loadNamedSecrets } from '../adapters/secrets';
import type { DestinationConfig } from '../config/schema';
import type { Destination } from '../ports';
import type { StepContext } from './step-context';

/** One SES client per region and endpoint, for the container's life (never one per invocation). */
const sesClients = new Map<string, SESv2Client>();

function sesClientFor(region: string, endpoint: string | undefined, timeoutMs: number): SESv2Client {
  const key = `${region}|${endpoint ?? ''}`;
  let client = sesClients.get(key);
  if (!client) {
    client = createSesV2Client({ region, ...(endpoint ? { endpoint } : {}), timeoutMs });
    sesClients.set(key, client);
  }
  return client;
}

/**
 * `https://discord.com/api/webhooks/{id}/{token}` (or `…/api/v10/webhooks/…`) → the API base the adapter
 * appends `/v10/webhooks/{id}/{token}` to.
 */
function discordApiBase(url: string): string {
  const at = url.indexOf('/webhooks/');
  return url.slice(0, at).replace(/\/v\d+$/, '');
}

/**
 * The adapter for one configured destination, its secrets read by the names the
 * config gives (`.env` locally, the pipeline's Secrets Manager secret in AWS).
 */
export function destinationFactory(
  context: Pick<StepContext, 'pipeline' | 'endpoints' | 'retry' | 'store'>,
  env: NodeJS.ProcessEnv = process.env,
): (spec: DestinationConfig) => Promise<Destination> {
  const pipelineId = context.pipeline.id;
  const timeoutMs = context.endpoints.API_TIMEOUT_MS ?? 15_000;
  return async (spec) => {
    switch (spec.kind) {
      case 'discord': {
        const url =
          (await loadNamedSecrets(pipelineId, [spec.webhookUrlSecret], env))[spec.webhookUrlSecret] ?? '';
        const { webhookId, token } = parseDiscordWebhookUrl(url);
        return createDiscordWebhookDestination({
          name: spec.name,
          webhookId,
          token,
          baseUrl: discordApiBase(url),
          format: spec.format,
          ...(spec.username ? { username: spec.username } : {}),
          timeoutMs,
          retry: context.retry,
        });
      }
      case 'webhook': {
        const values = await loadNamedSecrets(pipelineId, [spec.urlSecret, spec.signingSecret], env);
        return createWebhookDestination({
          name: spec.name,
          url: values[spec.urlSecret] ?? '',
          secret: values[spec.signingSecret] ?? '',
          timeoutMs,
          retry: context.retry,
        });
      }
      case 'email': {
        const region = spec.region ?? env.AWS_REGION ?? 'us-east-1';
        return createSesEmailDestination({
          name: spec.name,
          client: sesClientFor(region, context.endpoints.SES_API_URL, timeoutMs),
          from: spec.from,
          to: spec.to,
          ...(spec.configurationSetName ? { configurationSetName: spec.configurationSetName } : {}),
          retry: context.retry,
        });
      }
      case 'file':
        // A local folder only where the functions run on a workstation; in Lambda the bucket.
        if (spec.localDirectory && env[LOCAL_HOLDER_ENV])
          return createLocalFileDestination({ name: spec.name, directory: spec.localDirectory });
        return createS3FileDestination({ name: spec.name, store: context.store, prefix: spec.prefix });
    }
  };
}
