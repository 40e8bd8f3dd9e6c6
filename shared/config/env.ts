import { z } from 'zod';
import { ConfigError } from '../errors';
import { describeIssues } from './load';

/**
 * Credentials for one pipeline. Locally they come from `.env`; in AWS from the
 * pipeline's Secrets Manager secret (a JSON object with the same keys).
 */
export const secretsSchema = z.object({
  DISCORD_BOT_TOKEN: z.string().min(1),
  /** The service account key file's JSON; the sheet must be shared with its client_email. */
  GOOGLE_SERVICE_ACCOUNT_JSON: z.string().min(1),
  GEMINI_API_KEY: z.string().min(1),
  X_API_KEY: z.string().min(1).optional(),
  X_API_SECRET: z.string().min(1).optional(),
  X_ACCESS_TOKEN: z.string().min(1).optional(),
  X_ACCESS_SECRET: z.string().min(1).optional(),
  TYPEFULLY_API_KEY: z.string().min(1).optional(),
});
export type PipelineSecrets = z.infer<typeof secretsSchema>;
export const SECRET_KEYS = Object.keys(secretsSchema.shape) as (keyof PipelineSecrets)[];

export function parseSecrets(raw: unknown, source: string): PipelineSecrets {
  const result = secretsSchema.safeParse(raw);
  if (!result.success)
    throw new ConfigError(`missing or invalid secret in ${source}:\n${describeIssues(result.error)}`);
  return result.data;
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
  /** `env`: secrets are environment variables (local, `.env`); `secretsmanager`: one secret per pipeline. */
  SECRETS_SOURCE: z.enum(['env', 'secretsmanager']).default('env'),
  /** The pipeline's secret is named `<prefix><pipelineId>`. */
  SECRET_NAME_PREFIX: z.string().min(1).default('discord-digest/'),
});
export type RuntimeEnv = z.infer<typeof runtimeEnvSchema>;

export function runtimeEnvFromEnv(env: NodeJS.ProcessEnv = process.env): RuntimeEnv {
  const result = runtimeEnvSchema.safeParse(env);
  if (!result.success) throw new ConfigError(`invalid runtime environment:\n${describeIssues(result.error)}`);
  return result.data;
}
