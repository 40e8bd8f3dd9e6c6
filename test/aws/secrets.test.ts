import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { clearSecretsCache, loadServiceSecrets } from '../../shared/adapters/secrets';
import { ConfigError, TransientError } from '../../shared/errors';

const SECRETS = {
  DISCORD_BOT_TOKEN: 'discord-token-value',
  GOOGLE_SERVICE_ACCOUNT_JSON: '{"client_email":"bot@example.iam.gserviceaccount.com"}',
  GEMINI_API_KEY: 'gemini-key-value',
  TYPEFULLY_API_KEY: 'typefully-key-value',
};
const X = { X_API_KEY: 'xk', X_API_SECRET: 'xs', X_ACCESS_TOKEN: 'xt', X_ACCESS_SECRET: 'xa' };

describe('secrets from the environment', () => {
  it("reads one service's keys from the same .env as before and nothing else", async () => {
    // Prepare
    const env = { SECRETS_SOURCE: 'env', ...SECRETS, ...X, UNRELATED: 'x' };

    // Act
    const discord = await loadServiceSecrets('crypto', 'discord', env);
    const x = await loadServiceSecrets('crypto', 'x', env);

    // Assess
    expect(discord).toEqual({ DISCORD_BOT_TOKEN: SECRETS.DISCORD_BOT_TOKEN });
    expect(x).toEqual(X);
  });

  it('needs no key of a service it does not read: a Typefully pipeline runs without X keys', async () => {
    // Act
    const typefully = await loadServiceSecrets('crypto', 'typefully', {
      SECRETS_SOURCE: 'env',
      ...SECRETS,
      X_API_KEY: '',
    });

    // Assess
    expect(typefully).toEqual({ TYPEFULLY_API_KEY: SECRETS.TYPEFULLY_API_KEY });
  });

  it('a missing key is a ConfigError that names the key and shows no value', async () => {
    // Prepare
    const { GEMINI_API_KEY: _, ...rest } = SECRETS;

    // Act
    const loading = loadServiceSecrets('crypto', 'gemini', { SECRETS_SOURCE: 'env', ...rest });

    // Assess
    const error = await loading.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain('GEMINI_API_KEY');
    for (const value of Object.values(SECRETS)) expect((error as Error).message).not.toContain(value);
  });

  it('an unknown source is a ConfigError', async () => {
    // Act
    const loading = loadServiceSecrets('crypto', 'gemini', { SECRETS_SOURCE: 'vault', ...SECRETS });

    // Assess
    await expect(loading).rejects.toThrow(ConfigError);
    await expect(loading).rejects.toThrow(/SECRETS_SOURCE/);
  });
});

describe('secrets from Secrets Manager', () => {
  const secretsManager = mockClient(SecretsManagerClient);
  const env = { SECRETS_SOURCE: 'secretsmanager', SECRET_NAME_PREFIX: 'digest/', AWS_REGION: 'us-east-1' };

  beforeEach(() => {
    secretsManager.reset();
    clearSecretsCache();
  });
  afterAll(() => {
    secretsManager.restore();
  });

  it("reads the pipeline's secret of one service by name and caches it for the container", async () => {
    // Prepare
    secretsManager
      .on(GetSecretValueCommand, { SecretId: 'digest/crypto/discord' })
      .resolves({ SecretString: JSON.stringify({ DISCORD_BOT_TOKEN: SECRETS.DISCORD_BOT_TOKEN }) });
    secretsManager
      .on(GetSecretValueCommand, { SecretId: 'digest/crypto/x' })
      .resolves({ SecretString: JSON.stringify(X) });

    // Act
    const first = await loadServiceSecrets('crypto', 'discord', env);
    const second = await loadServiceSecrets('crypto', 'discord', env);
    const x = await loadServiceSecrets('crypto', 'x', env);

    // Assess
    expect(first).toEqual({ DISCORD_BOT_TOKEN: SECRETS.DISCORD_BOT_TOKEN });
    expect(second).toEqual(first);
    expect(x).toEqual(X);
    expect(secretsManager.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input.SecretId)).toEqual([
      'digest/crypto/discord',
      'digest/crypto/x',
    ]);
  });

  it('a secret without a required key is a ConfigError naming the key, not the values', async () => {
    // Prepare
    const { X_ACCESS_SECRET: _, ...rest } = X;
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(rest) });

    // Act
    const error = await loadServiceSecrets('crypto', 'x', env).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain('X_ACCESS_SECRET');
    expect((error as Error).message).toContain('digest/crypto/x');
    for (const value of Object.values(X)) expect((error as Error).message).not.toContain(value);
    for (const value of Object.values(SECRETS)) expect((error as Error).message).not.toContain(value);
  });

  it('a secret not filled in yet (the generated string the stack created) is a ConfigError naming its keys, not echoing it', async () => {
    // Prepare
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: 'plain-text-token-123' });

    // Act
    const error = await loadServiceSecrets('crypto', 'gemini', env).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(
      'secret digest/crypto/gemini is not a JSON object with the keys GEMINI_API_KEY',
    );
    expect((error as Error).message).not.toContain('plain-text-token-123');
  });

  it('a missing secret is a ConfigError naming it', async () => {
    // Prepare
    secretsManager
      .on(GetSecretValueCommand)
      .rejects(new ResourceNotFoundException({ message: 'not found', $metadata: { httpStatusCode: 400 } }));

    // Act
    const loading = loadServiceSecrets('crypto', 'google', env);

    // Assess
    await expect(loading).rejects.toThrow(ConfigError);
    await expect(loading).rejects.toThrow(/digest\/crypto\/google.*ResourceNotFoundException/);
  });

  it('throttling is transient and is not cached', async () => {
    // Prepare
    secretsManager
      .on(GetSecretValueCommand)
      .rejectsOnce(
        new SecretsManagerServiceException({
          name: 'ThrottlingException',
          $fault: 'client',
          $metadata: { httpStatusCode: 400 },
        }),
      )
      .resolves({ SecretString: JSON.stringify({ GEMINI_API_KEY: SECRETS.GEMINI_API_KEY }) });

    // Act
    const first = await loadServiceSecrets('crypto', 'gemini', env).catch((e: unknown) => e);
    const second = await loadServiceSecrets('crypto', 'gemini', env);

    // Assess
    expect(first).toBeInstanceOf(TransientError);
    expect(second).toEqual({ GEMINI_API_KEY: SECRETS.GEMINI_API_KEY });
  });
});
