import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type PipelineSecrets, parseSecrets, runtimeEnvSchema, SECRET_KEYS } from '../config/env';
import { describeIssues } from '../config/load';
import { ConfigError, TransientError } from '../errors';
import { awsErrorName, toDigestError } from './aws-clients';

/** Long enough to spare a warm container the call, short enough that a rotated secret arrives soon. */
const CACHE_MS = 5 * 60_000;
/** `raw` keeps the keys the config names (destinations' secrets) beside the parsed credentials. */
const cache = new Map<string, { until: number; secrets: PipelineSecrets; raw: Record<string, unknown> }>();
let client: SecretsManagerClient | undefined;

/** Only these two settings matter here; the bucket and table are not needed to read a secret. */
const sourceSchema = runtimeEnvSchema.pick({ SECRETS_SOURCE: true, SECRET_NAME_PREFIX: true });

/** Forget cached secrets (tests; a container never needs to). */
export function clearSecretsCache(): void {
  cache.clear();
}

/**
 * The pipeline's credentials: from the environment locally (`.env`), from its
 * Secrets Manager secret in AWS, cached per container. Errors name the missing
 * or invalid key, never a value.
 */
export async function loadPipelineSecrets(
  pipelineId: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<PipelineSecrets> {
  const settings = sourceSchema.safeParse(env);
  if (!settings.success)
    throw new ConfigError(`invalid secrets settings:\n${describeIssues(settings.error)}`);
  const { SECRETS_SOURCE, SECRET_NAME_PREFIX } = settings.data;

  if (SECRETS_SOURCE === 'env') {
    // An empty variable (`KEY=` in .env) counts as absent, so optional keys stay optional.
    const raw = Object.fromEntries(SECRET_KEYS.map((key) => [key, env[key] || undefined]));
    return parseSecrets(raw, 'the environment');
  }

  const name = `${SECRET_NAME_PREFIX}${pipelineId}`;
  const hit = cache.get(name);
  if (hit && hit.until > Date.now()) return hit.secrets;
  const raw = await readSecretObject(name, env);
  const secrets = parseSecrets(raw, `secret ${name}`);
  cache.set(name, { until: Date.now() + CACHE_MS, secrets, raw });
  return secrets;
}

/**
 * Secrets the config names (a destination's webhook URL, its signing key): from the environment
 * locally, from the same per-pipeline secret in AWS. A missing one names its key and where it was
 * looked for, never a value.
 */
export async function loadNamedSecrets(
  pipelineId: string,
  keys: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<Record<string, string>> {
  const settings = sourceSchema.safeParse(env);
  if (!settings.success)
    throw new ConfigError(`invalid secrets settings:\n${describeIssues(settings.error)}`);
  const { SECRETS_SOURCE, SECRET_NAME_PREFIX } = settings.data;
  const name = `${SECRET_NAME_PREFIX}${pipelineId}`;
  let source: Record<string, unknown>;
  if (SECRETS_SOURCE === 'env') source = env;
  else {
    const hit = cache.get(name);
    if (hit && hit.until > Date.now()) source = hit.raw;
    else {
      await loadPipelineSecrets(pipelineId, env);
      source = cache.get(name)?.raw ?? {};
    }
  }
  const values: Record<string, string> = {};
  for (const key of keys) {
    const value = source[key];
    if (typeof value !== 'string' || value === '')
      throw new ConfigError(
        `secret ${key} is missing (${SECRETS_SOURCE === 'env' ? 'set it in .env' : `add it to secret ${name}`})`,
      );
    values[key] = value;
  }
  return values;
}

/** The pipeline's secret as the JSON object it must be. */
async function readSecretObject(name: string, env: NodeJS.ProcessEnv): Promise<Record<string, unknown>> {
  client ??= new SecretsManagerClient(env.AWS_REGION ? { region: env.AWS_REGION } : {});
  let text: string | undefined;
  try {
    text = (await client.send(new GetSecretValueCommand({ SecretId: name }))).SecretString;
  } catch (error) {
    const failure = toDigestError('secretsmanager', `GetSecretValue ${name}`, error);
    if (failure instanceof TransientError) throw failure;
    throw new ConfigError(`secret ${name} could not be read: ${awsErrorName(error) ?? 'Error'}`, {
      cause: error,
    });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text ?? '');
  } catch {
    // The parser's message may quote the secret: say only what was expected.
    throw new ConfigError(`secret ${name} is not a JSON object with the keys ${SECRET_KEYS.join(', ')}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(`secret ${name} is not a JSON object with the keys ${SECRET_KEYS.join(', ')}`);
  }
  return raw as Record<string, unknown>;
}
