import { describe, expect, it } from 'vitest';
import { checkCredentialSets, startLocalEnvironment } from '../../infra/local/environment';
import { formatRunSummary } from '../../infra/local/report';
import { loadConfigFile } from '../../shared/config/load';

const config = loadConfigFile('digest.config.json');

describe('credentials of the local environment', () => {
  it('3 of the 4 X keys is an error naming the missing one, never a sandbox', async () => {
    // Prepare
    const secretsEnv = { X_API_KEY: 'k', X_API_SECRET: 's', X_ACCESS_TOKEN: 't' };

    // Act
    const starting = startLocalEnvironment({ config, secretsEnv, now: new Date() });

    // Assess
    await expect(starting).rejects.toThrow('x has 3 of its 4 keys: X_ACCESS_SECRET missing');
  });

  it('names every service with half a set, and accepts complete sets and none', () => {
    // Prepare
    const half = { X_API_KEY: 'k', X_ACCESS_SECRET: 'a' };
    const complete = {
      X_API_KEY: 'k',
      X_API_SECRET: 's',
      X_ACCESS_TOKEN: 't',
      X_ACCESS_SECRET: 'a',
      GEMINI_API_KEY: 'g',
    };

    // Act
    const check = () => checkCredentialSets(half);

    // Assess
    expect(check).toThrow('x has 2 of its 4 keys: X_API_SECRET, X_ACCESS_TOKEN missing');
    expect(() => checkCredentialSets(complete)).not.toThrow();
    expect(() => checkCredentialSets({})).not.toThrow();
  });

  it("the report's first lines say which service is real and which a sandbox", () => {
    // Prepare
    const services = {
      aws: 'embedded S3 and DynamoDB in this process, in memory',
      discord: 'real API (DISCORD_BOT_TOKEN set)',
      sheets: 'sandbox http://127.0.0.1:4000',
    };

    // Act
    const text = formatRunSummary({
      executionStatus: 'SUCCEEDED',
      durationMs: 1000,
      report: { pipelineId: 'demo', runId: 'r1', status: 'succeeded', steps: {} },
      dataDir: '/tmp/x',
      bucket: 'b',
      services,
    });

    // Assess
    const lines = text.split('\n');
    expect(lines.slice(2, 5)).toEqual([
      'aws        SANDBOX embedded S3 and DynamoDB in this process, in memory',
      'discord    REAL    real API (DISCORD_BOT_TOKEN set)',
      'sheets     SANDBOX sandbox http://127.0.0.1:4000',
    ]);
  });
});
