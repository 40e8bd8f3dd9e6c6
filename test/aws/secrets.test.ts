import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { clearSecretsCache, loadPipelineSecrets } from '../../shared/adapters/secrets';
import { ConfigError, TransientError } from '../../shared/errors';

const SECRETS = {
  DISCORD_BOT_TOKEN: 'discord-token-value',
  GOOGLE_SERVICE_ACCOUNT_JSON: '{"client_email":"bot@example.iam.gserviceaccount.com"}',
  GEMINI_API_KEY: 'gemini-key-value',
  TYPEFULLY_API_KEY: 'typefully-key-value',
};

describe('secrets from the environment', () => {
  it('reads the keys it knows and ignores the rest', async () => {
    // Prepare
    const env = { SECRETS_SOURCE: 'env', ...SECRETS, X_API_KEY: '', UNRELATED: 'x' };

    // Act
    const secrets = await loadPipelineSecrets('crypto', env);

    // Assess
    expect(secrets).toEqual(SECRETS);
  });

  it('a missing key is a ConfigError that names the key and shows no value', async () => {
    // Prepare
    const { GEMINI_API_KEY: _, ...rest } = SECRETS;

    // Act
    const loading = loadPipelineSecrets('crypto', { SECRETS_SOURCE: 'env', ...rest });

    // Assess
    const error = await loading.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain('GEMINI_API_KEY');
    for (const value of Object.values(SECRETS)) expect((error as Error).message).not.toContain(value);
  });

  it('an unknown source is a ConfigError', async () => {
    // Act
    const loading = loadPipelineSecrets('crypto', { SECRETS_SOURCE: 'vault', ...SECRETS });

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

  it('reads the pipeline secret by name and caches it for the container', async () => {
    // Prepare
    secretsManager
      .on(GetSecretValueCommand, { SecretId: 'digest/crypto' })
      .resolves({ SecretString: JSON.stringify(SECRETS) });

    // Act
    const first = await loadPipelineSecrets('crypto', env);
    const second = await loadPipelineSecrets('crypto', env);

    // Assess
    expect(first).toEqual(SECRETS);
    expect(second).toEqual(SECRETS);
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('a secret without a required key is a ConfigError naming the key, not the values', async () => {
    // Prepare
    const { DISCORD_BOT_TOKEN: _, ...rest } = SECRETS;
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(rest) });

    // Act
    const error = await loadPipelineSecrets('crypto', env).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain('DISCORD_BOT_TOKEN');
    expect((error as Error).message).toContain('digest/crypto');
    for (const value of Object.values(SECRETS)) expect((error as Error).message).not.toContain(value);
  });

  it('a secret that is not JSON is a ConfigError that does not echo it', async () => {
    // Prepare
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: 'plain-text-token-123' });

    // Act
    const error = await loadPipelineSecrets('crypto', env).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).not.toContain('plain-text-token-123');
  });

  it('a missing secret is a ConfigError naming it', async () => {
    // Prepare
    secretsManager
      .on(GetSecretValueCommand)
      .rejects(new ResourceNotFoundException({ message: 'not found', $metadata: { httpStatusCode: 400 } }));

    // Act
    const loading = loadPipelineSecrets('crypto', env);

    // Assess
    await expect(loading).rejects.toThrow(ConfigError);
    await expect(loading).rejects.toThrow(/digest\/crypto.*ResourceNotFoundException/);
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
      .resolves({ SecretString: JSON.stringify(SECRETS) });

    // Act
    const first = await loadPipelineSecrets('crypto', env).catch((e: unknown) => e);
    const second = await loadPipelineSecrets('crypto', env);

    // Assess
    expect(first).toBeInstanceOf(TransientError);
    expect(second).toEqual(SECRETS);
  });
});
