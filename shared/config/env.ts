import * as z from 'zod';
import { ConfigError } from '../errors';
import { describeIssues } from './load';

/**
 * Credentials, one secret per pipeline and service, so a function can be let read exactly the ones it uses
 * (infra/stateful-stack.ts creates them, shared/config/resources.ts says which step needs which). Locally every
 * key comes from `.env`; in AWS from the secret `<prefix><pipelineId>/<service>`, a JSON object with the
 * service's keys.
 */
export const SECRET_SCHEMAS = {
  discord: z.object({ DISCORD_BOT_TOKEN: z.string().min(1) }),
  /** The service account key file's JSON; the sheet must be shared with its client_email. */
  google: z.object({ GOOGLE_SERVICE_ACCOUNT_JSON: z.string().min(1) }),
  gemini: z.object({ GEMINI_API_KEY: z.string().min(1) }),
  x: z.object({
    X_API_KEY: z.string().min(1),
    X_API_SECRET: z.string().min(1),
    X_ACCESS_TOKEN: z.string().min(1),
    X_ACCESS_SECRET: z.string().min(1),
  }),
  typefully: z.object({ TYPEFULLY_API_KEY: z.string().min(1) }),
  /** Signs approve/reject links (publisher.review: approve); without it a request names the CLI commands only. */
  review: z.object({ REVIEW_LINK_SECRET: z.string().min(32) }),
  /** The keys the pipeline's deliver/notify destinations name (webhook URLs, signing keys), whatever they are. */
  destinations: z.object({}).catchall(z.string().min(1)),
} as const;
export type SecretService = keyof typeof SECRET_SCHEMAS;
export type ServiceSecrets<S extends SecretService> = z.infer<(typeof SECRET_SCHEMAS)[S]>;
export const SECRET_SERVICES = Object.keys(SECRET_SCHEMAS) as SecretService[];

/** The keys of one service's secret, e.g. `X_API_KEY, X_API_SECRET, …` for x. */
export function secretKeysOf(service: SecretService): string[] {
  return Object.keys(SECRET_SCHEMAS[service].shape);
}

export function parseSecrets<S extends SecretService>(
  service: S,
  raw: unknown,
  source: string,
): ServiceSecrets<S> {
  const result = SECRET_SCHEMAS[service].safeParse(raw);
  if (!result.success)
    throw new ConfigError(`missing or invalid secret in ${source}:\n${describeIssues(result.error)}`);
  return result.data as ServiceSecrets<S>;
}

/** Base URLs of the external APIs; each can be pointed elsewhere (a proxy, a sandbox). */
export const endpointsSchema = z.object({
  DISCORD_API_URL: z.url().default('https://discord.com/api'),
  SHEETS_API_URL: z.url().default('https://sheets.googleapis.com/'),
  GEMINI_API_URL: z.url().default('https://generativelanguage.googleapis.com'),
  X_API_URL: z.url().default('https://api.x.com'),
  TYPEFULLY_API_URL: z.url().default('https://api.typefully.com'),
  /** Amazon SES v2; the SDK's regional endpoint when unset (the local SES sandbox sets it). */
  SES_API_URL: z.url().optional(),
  /** Per-request timeout of every external API call; each service has its own default when unset. */
  API_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).optional(),
  /** First backoff of the in-process retries; each adapter has its own default when unset. */
  API_RETRY_BASE_MS: z.coerce.number().int().min(1).max(60_000).optional(),
});
export type Endpoints = z.infer<typeof endpointsSchema>;

export function endpointsFromEnv(env: NodeJS.ProcessEnv = process.env): Endpoints {
  const result = endpointsSchema.safeParse(env);
  if (!result.success) throw new ConfigError(`invalid API base URL:\n${describeIssues(result.error)}`);
  return result.data;
}

/** Where the AWS resources are; set by CDK on each function and by the local runner. */
export const runtimeEnvSchema = z.object({
  BUCKET_NAME: z.string().min(1),
  LEDGER_TABLE: z.string().min(1),
  /** `env`: secrets are environment variables (local, `.env`); `secretsmanager`: one secret per pipeline and service. */
  SECRETS_SOURCE: z.enum(['env', 'secretsmanager']).default('env'),
  /** A pipeline's secret for one service is named `<prefix><pipelineId>/<service>`. */
  SECRET_NAME_PREFIX: z.string().min(1).default('discord-digest/'),
});
export type RuntimeEnv = z.infer<typeof runtimeEnvSchema>;

export function runtimeEnvFromEnv(env: NodeJS.ProcessEnv = process.env): RuntimeEnv {
  const result = runtimeEnvSchema.safeParse(env);
  if (!result.success) throw new ConfigError(`invalid runtime environment:\n${describeIssues(result.error)}`);
  return result.data;
}

/** The Secrets Manager name of one pipeline's secret for one service; the CDK app and the functions both use it. */
export const secretNameOf = (prefix: string, pipelineId: string, service: SecretService) =>
  `${prefix}${pipelineId}/${service}`;
