import { LOCAL_HOLDER_ENV } from '../../shared/adapters/local-process';
import type { DigestConfig } from '../../shared/config/schema';
import { DigestError } from '../../shared/errors';
import { startEmbeddedAws } from './embedded-aws';
import { seedDiscordChannel } from './sandbox/discord-seed';
import { startDiscordSandbox } from './sandbox/discord-server';
import { startDiscordWebhookSandbox } from './sandbox/discord-webhook-server';
import {
  dynamoFault,
  dynamoOperation,
  type FaultProxy,
  s3Fault,
  startFaultProxy,
} from './sandbox/fault-proxy';
import { startGeminiSandbox } from './sandbox/gemini-server';
import { startSesSandbox } from './sandbox/ses-server';
import { startSheetsSandbox } from './sandbox/sheets-server';
import { startTypefullySandbox } from './sandbox/typefully-server';
import { startWebhookReceiver } from './sandbox/webhook-receiver';
import { startXSandbox } from './sandbox/x-server';
import { attachSharedAws } from './shared-aws';

type Awaited2<T> = T extends Promise<infer U> ? U : T;
export type EmbeddedAws = Awaited2<ReturnType<typeof startEmbeddedAws>>;
export interface Sandboxes {
  discord?: Awaited2<ReturnType<typeof startDiscordSandbox>>;
  sheets?: Awaited2<ReturnType<typeof startSheetsSandbox>>;
  gemini?: Awaited2<ReturnType<typeof startGeminiSandbox>>;
  x?: Awaited2<ReturnType<typeof startXSandbox>>;
  typefully?: Awaited2<ReturnType<typeof startTypefullySandbox>>;
  /** The digest's and the notifications' destinations (deliver / notify in the config). */
  discordWebhook?: Awaited2<ReturnType<typeof startDiscordWebhookSandbox>>;
  webhook?: Awaited2<ReturnType<typeof startWebhookReceiver>>;
  ses?: Awaited2<ReturnType<typeof startSesSandbox>>;
}

export interface LocalEnvironment {
  /** Variables the handlers read: AWS endpoints, resource names, API base URLs, sandbox credentials. */
  env: Record<string, string>;
  aws: EmbeddedAws;
  sandboxes: Sandboxes;
  /** For the report: which services are sandboxes and which are real. */
  services: Record<string, string>;
  /** Fault-injecting proxies in front of embedded S3 and DynamoDB, when asked for. */
  awsProxies?: { s3: FaultProxy; dynamodb: FaultProxy };
  close(): Promise<void>;
}

export interface LocalEnvironmentOptions {
  config: DigestConfig;
  /** Where S3 objects and the DynamoDB ledger persist; in memory when undefined. */
  dataDir?: string;
  /** Variables from `.env` and the shell: a service with credentials here is used for real. */
  secretsEnv: NodeJS.ProcessEnv;
  /** The seeded channel's messages end just before this time. */
  now: Date;
  /** Messages per seeded channel. */
  seedCount?: number;
  /** Put fault-injecting proxies in front of embedded S3 and DynamoDB (fault tests). */
  awsFaultProxies?: boolean;
  /** Per-request timeout of the external API clients (fault tests shorten it). */
  apiTimeoutMs?: number;
  /** First backoff of the clients' in-process retries (fault tests shorten it). */
  apiRetryBaseMs?: number;
}

/** Credentials the sandboxes accept; they are not secrets, they only exist on loopback. */
export const SANDBOX_CREDENTIALS = {
  DISCORD_BOT_TOKEN: 'sandbox-discord-token',
  GOOGLE_SERVICE_ACCOUNT_JSON: 'sandbox-google-access-token',
  GEMINI_API_KEY: 'sandbox-gemini-key',
  X_API_KEY: 'sandbox-x-key',
  X_API_SECRET: 'sandbox-x-secret',
  X_ACCESS_TOKEN: 'sandbox-x-token',
  X_ACCESS_SECRET: 'sandbox-x-token-secret',
  TYPEFULLY_API_KEY: 'sandbox-typefully-key',
} as const;

/** The keys that make each service real; all of them, or none (its sandbox). */
export const SERVICE_KEYS = {
  discord: ['DISCORD_BOT_TOKEN'],
  sheets: ['GOOGLE_SERVICE_ACCOUNT_JSON'],
  gemini: ['GEMINI_API_KEY'],
  x: ['X_API_KEY', 'X_API_SECRET', 'X_ACCESS_TOKEN', 'X_ACCESS_SECRET'],
  typefully: ['TYPEFULLY_API_KEY'],
} as const;

/**
 * Half a set of credentials is a mistake, never a reason to fall back to a
 * sandbox: the run would look real and publish nowhere.
 */
export function checkCredentialSets(env: NodeJS.ProcessEnv): void {
  const problems: string[] = [];
  for (const [service, keys] of Object.entries(SERVICE_KEYS)) {
    const missing = keys.filter((k) => !env[k]);
    if (missing.length > 0 && missing.length < keys.length) {
      problems.push(
        `${service} has ${keys.length - missing.length} of its ${keys.length} keys: ${missing.join(', ')} missing`,
      );
    }
  }
  if (problems.length > 0) {
    throw new DigestError(
      `incomplete credentials: ${problems.join('; ')} (set all of a service's keys for the real API, or none for its sandbox)`,
    );
  }
}

const has = (env: NodeJS.ProcessEnv, ...keys: string[]) => keys.every((k) => Boolean(env[k]));

/**
 * Start embedded S3 and DynamoDB, and a sandbox server for every external
 * service that has no credentials in the environment, so the real clients run
 * against the real protocols without an account anywhere.
 */
export async function startLocalEnvironment(options: LocalEnvironmentOptions): Promise<LocalEnvironment> {
  const { config, secretsEnv } = options;
  checkCredentialSets(secretsEnv);
  // A data directory is shared by every command on it: attach to its one service.
  const aws = options.dataDir ? await attachSharedAws(options.dataDir) : await startEmbeddedAws();
  const env: Record<string, string> = {
    ...aws.env,
    SECRETS_SOURCE: 'env',
    // The functions run in this process: a lock they take names it, so the next command can tell it died.
    [LOCAL_HOLDER_ENV]: 'process',
  };
  if (options.apiTimeoutMs) env.API_TIMEOUT_MS = String(options.apiTimeoutMs);
  if (options.apiRetryBaseMs) env.API_RETRY_BASE_MS = String(options.apiRetryBaseMs);
  const sandboxes: Sandboxes = {};
  const services: Record<string, string> = {
    aws: options.dataDir
      ? `embedded S3 and DynamoDB, one service shared by every command on ${options.dataDir}`
      : 'embedded S3 and DynamoDB in this process, in memory',
  };
  const closers: (() => Promise<void>)[] = [];
  let awsProxies: LocalEnvironment['awsProxies'];
  try {
    if (options.awsFaultProxies) {
      awsProxies = {
        s3: await startFaultProxy({ target: aws.s3Endpoint, faultResponse: s3Fault }),
        dynamodb: await startFaultProxy({
          target: aws.dynamoEndpoint,
          faultResponse: dynamoFault,
          operationOf: dynamoOperation,
        }),
      };
      closers.push(awsProxies.s3.close, awsProxies.dynamodb.close);
      env.AWS_ENDPOINT_URL_S3 = awsProxies.s3.url;
      env.AWS_ENDPOINT_URL_DYNAMODB = awsProxies.dynamodb.url;
    }
    if (has(secretsEnv, 'DISCORD_BOT_TOKEN')) services.discord = 'real API (DISCORD_BOT_TOKEN set)';
    else {
      const channels: Record<string, unknown[]> = {};
      for (const [i, p] of config.pipelines.entries()) {
        channels[p.discord.channelId] ??= seedDiscordChannel({
          channelId: p.discord.channelId,
          now: options.now,
          seed: i + 1,
          ...(options.seedCount ? { count: options.seedCount } : {}),
        });
      }
      sandboxes.discord = await startDiscordSandbox({
        token: SANDBOX_CREDENTIALS.DISCORD_BOT_TOKEN,
        channels,
      });
      closers.push(sandboxes.discord.close);
      env.DISCORD_API_URL = `${sandboxes.discord.url}/api`;
      env.DISCORD_BOT_TOKEN = SANDBOX_CREDENTIALS.DISCORD_BOT_TOKEN;
      services.discord = `sandbox ${sandboxes.discord.url}`;
    }
    if (has(secretsEnv, 'GOOGLE_SERVICE_ACCOUNT_JSON'))
      services.sheets = 'real API (GOOGLE_SERVICE_ACCOUNT_JSON set)';
    else {
      sandboxes.sheets = await startSheetsSandbox({
        token: SANDBOX_CREDENTIALS.GOOGLE_SERVICE_ACCOUNT_JSON,
        spreadsheets: config.pipelines.flatMap((p) => [
          p.sheet.spreadsheetId,
          ...(p.sheet.archiveSpreadsheetId ? [p.sheet.archiveSpreadsheetId] : []),
        ]),
      });
      closers.push(sandboxes.sheets.close);
      env.SHEETS_API_URL = `${sandboxes.sheets.url}/`;
      env.GOOGLE_SERVICE_ACCOUNT_JSON = SANDBOX_CREDENTIALS.GOOGLE_SERVICE_ACCOUNT_JSON;
      services.sheets = `sandbox ${sandboxes.sheets.url}`;
    }
    if (has(secretsEnv, 'GEMINI_API_KEY')) services.gemini = 'real API (GEMINI_API_KEY set)';
    else {
      sandboxes.gemini = await startGeminiSandbox({ apiKey: SANDBOX_CREDENTIALS.GEMINI_API_KEY });
      closers.push(sandboxes.gemini.close);
      env.GEMINI_API_URL = sandboxes.gemini.url;
      env.GEMINI_API_KEY = SANDBOX_CREDENTIALS.GEMINI_API_KEY;
      services.gemini = `sandbox ${sandboxes.gemini.url}`;
    }
    if (config.pipelines.some((p) => p.publisher.kind === 'x')) {
      if (has(secretsEnv, 'X_API_KEY', 'X_API_SECRET', 'X_ACCESS_TOKEN', 'X_ACCESS_SECRET')) {
        services.x = 'real API (X_* credentials set)';
      } else {
        sandboxes.x = await startXSandbox({ username: 'digest_sandbox' });
        closers.push(sandboxes.x.close);
        env.X_API_URL = sandboxes.x.url;
        for (const key of ['X_API_KEY', 'X_API_SECRET', 'X_ACCESS_TOKEN', 'X_ACCESS_SECRET'] as const) {
          env[key] = SANDBOX_CREDENTIALS[key];
        }
        services.x = `sandbox ${sandboxes.x.url}`;
      }
    }
    const typefully = config.pipelines.find((p) => p.publisher.kind === 'typefully');
    if (typefully) {
      if (has(secretsEnv, 'TYPEFULLY_API_KEY')) services.typefully = 'real API (TYPEFULLY_API_KEY set)';
      else {
        sandboxes.typefully = await startTypefullySandbox({
          apiKey: SANDBOX_CREDENTIALS.TYPEFULLY_API_KEY,
          socialSetId: typefully.publisher.typefullySocialSetId ?? 'sandbox',
        });
        closers.push(sandboxes.typefully.close);
        env.TYPEFULLY_API_URL = sandboxes.typefully.url;
        env.TYPEFULLY_API_KEY = SANDBOX_CREDENTIALS.TYPEFULLY_API_KEY;
        services.typefully = `sandbox ${sandboxes.typefully.url}`;
      }
    }
    await startDestinationSandboxes(config, secretsEnv, aws.env, env, sandboxes, services, closers);
  } catch (error) {
    await Promise.allSettled([...closers.map((c) => c()), aws.close()]);
    throw error;
  }
  return {
    env,
    aws,
    sandboxes,
    services,
    ...(awsProxies ? { awsProxies } : {}),
    close: async () => {
      await Promise.allSettled(closers.map((c) => c()));
      await aws.close();
    },
  };
}

/** Not secrets: they only exist on loopback, for the destinations' sandboxes. */
const SANDBOX_WEBHOOK = { id: '1300000000000000001', token: 'sandbox-webhook-token' } as const;
const SANDBOX_SIGNING_SECRET = 'sandbox-signing-secret';

/**
 * A sandbox for each kind of destination the config names (deliver and notify)
 * whose secrets `.env` does not set: Discord's Execute Webhook, a receiver that
 * checks the signature, SES v2. Email always goes to the SES sandbox locally:
 * the embedded AWS credentials could not send through the real SES.
 */
async function startDestinationSandboxes(
  config: DigestConfig,
  secretsEnv: NodeJS.ProcessEnv,
  awsEnv: Record<string, string>,
  env: Record<string, string>,
  sandboxes: Sandboxes,
  services: Record<string, string>,
  closers: (() => Promise<void>)[],
): Promise<void> {
  const specs = config.pipelines.flatMap((p) => [...p.deliver, ...p.notify]);
  for (const spec of specs) {
    if (spec.kind === 'discord') {
      if (has(secretsEnv, spec.webhookUrlSecret)) {
        services[`discord-wh ${spec.name}`] = `real webhook (${spec.webhookUrlSecret} set)`;
        continue;
      }
      if (!sandboxes.discordWebhook) {
        sandboxes.discordWebhook = await startDiscordWebhookSandbox({
          webhooks: { [SANDBOX_WEBHOOK.id]: SANDBOX_WEBHOOK.token },
        });
        closers.push(sandboxes.discordWebhook.close);
        services['discord-wh'] = `sandbox ${sandboxes.discordWebhook.url}`;
      }
      env[spec.webhookUrlSecret] =
        `${sandboxes.discordWebhook.url}/api/webhooks/${SANDBOX_WEBHOOK.id}/${SANDBOX_WEBHOOK.token}`;
    } else if (spec.kind === 'webhook') {
      if (has(secretsEnv, spec.urlSecret, spec.signingSecret)) {
        services[`webhook ${spec.name}`] = `real receiver (${spec.urlSecret} set)`;
        continue;
      }
      if (!sandboxes.webhook) {
        sandboxes.webhook = await startWebhookReceiver({ secret: SANDBOX_SIGNING_SECRET });
        closers.push(sandboxes.webhook.close);
        services.webhook = `sandbox ${sandboxes.webhook.endpoint}`;
      }
      env[spec.urlSecret] = sandboxes.webhook.endpoint;
      env[spec.signingSecret] = SANDBOX_SIGNING_SECRET;
    } else if (spec.kind === 'email' && !sandboxes.ses) {
      const addresses = specs.flatMap((s) => (s.kind === 'email' ? [s.from, ...s.to] : []));
      sandboxes.ses = await startSesSandbox({
        accessKeyIds: awsEnv.AWS_ACCESS_KEY_ID ? [awsEnv.AWS_ACCESS_KEY_ID] : [],
        // A new SES account may send only to verified identities: the sandbox verifies the config's own.
        verifiedIdentities: addresses.map((a) => (a.match(/<([^>]+)>\s*$/)?.[1] ?? a).trim()),
      });
      closers.push(sandboxes.ses.close);
      env.SES_API_URL = sandboxes.ses.url;
      services.ses = `sandbox ${sandboxes.ses.url}`;
    }
  }
}
