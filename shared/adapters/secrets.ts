import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  parseSecrets,
  runtimeEnvSchema,
  type SecretService,
  type ServiceSecrets,
  secretKeysOf,
  secretNameOf,
} from '../config/env';
import { describeIssues } from '../config/load';
import { ConfigError, TransientError } from '../errors';
import { awsErrorName, toDigestError } from './aws-clients';

/** Long enough to spare a warm container the call, short enough that a rotated secret arrives soon. */
const CACHE_MS = 5 * 60_000;
const cache = new Map<string, { until: number; secrets: unknown }>();
let client: SecretsManagerClient | undefined;

/** Only these two settings matter here; the bucket and table are not needed to read a secret. */
const sourceSchema = runtimeEnvSchema.pick({ SECRETS_SOURCE: true, SECRET_NAME_PREFIX: true });

/** Forget cached secrets (tests; a container never needs to). */
export function clearSecretsCache(): void {
  cache.clear();
}

/**
 * One service's credentials for the pipeline: from the environment locally (`.env`), from the pipeline's
 * secret for that service in AWS (`<prefix><pipelineId>/<service>`), cached per container. A function reads
 * only the services it uses, and its role may read only those secrets. Errors name the secret and the
 * missing or invalid key, never a value.
 */
export async function loadServiceSecrets<S extends SecretService>(
  pipelineId: string,
  service: S,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ServiceSecrets<S>> {
  const settings = sourceSchema.safeParse(env);
  if (!settings.success)
    throw new ConfigError(`invalid secrets settings:\n${describeIssues(settings.error)}`);
  const { SECRETS_SOURCE, SECRET_NAME_PREFIX } = settings.data;
  const keys = secretKeysOf(service);

  if (SECRETS_SOURCE === 'env') {
    // An empty variable (`KEY=` in .env) counts as absent.
    const raw = Object.fromEntries(keys.map((key) => [key, env[key] || undefined]));
    return parseSecrets(service, raw, 'the environment');
  }

  const name = secretNameOf(SECRET_NAME_PREFIX, pipelineId, service);
  const hit = cache.get(name);
  if (hit && hit.until > Date.now()) return hit.secrets as ServiceSecrets<S>;

  client ??= new SecretsManagerClient(env.AWS_REGION ? { region: env.AWS_REGION } : {});
  let text: string | undefined;
  try {
    // docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html: SecretId is the name or ARN.
    text = (await client.send(new GetSecretValueCommand({ SecretId: name }))).SecretString;
  } catch (error) {
    const failure = toDigestError('secretsmanager', `GetSecretValue ${name}`, error);
    if (failure instanceof TransientError) throw failure;
    throw new ConfigError(`secret ${name} could not be read: ${awsErrorName(error) ?? 'Error'}`, {
      cause: error,
    });
  }
  const expected = `secret ${name} is not a JSON object with the keys ${keys.join(', ')}`;
  let raw: unknown;
  try {
    raw = JSON.parse(text ?? '');
  } catch {
    // The parser's message may quote the secret: say only what was expected. A secret the stack created and
    // nobody filled in yet holds a generated random string and lands here.
    throw new ConfigError(expected);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(expected);
  const secrets = parseSecrets(service, raw, `secret ${name}`);
  cache.set(name, { until: Date.now() + CACHE_MS, secrets });
  return secrets;
}

/**
 * Secrets the config names (a destination's webhook URL, its signing key): from the environment locally,
 * from the pipeline's `destinations` secret in AWS (a JSON object of those names). A missing one names its
 * key and where it was looked for, never a value.
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
  const source: Record<string, unknown> =
    SECRETS_SOURCE === 'env' ? env : await loadServiceSecrets(pipelineId, 'destinations', env);
  const values: Record<string, string> = {};
  for (const key of keys) {
    const value = source[key];
    if (typeof value !== 'string' || value === '') {
      const where =
        SECRETS_SOURCE === 'env'
          ? 'set it in .env'
          : `add it to secret ${secretNameOf(SECRET_NAME_PREFIX, pipelineId, 'destinations')}`;
      throw new ConfigError(`secret ${key} is missing (${where})`);
    }
    values[key] = value;
  }
  return values;
}
