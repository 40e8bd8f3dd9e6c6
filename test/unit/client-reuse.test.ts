import { GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../functions/upload/handler';
import { sharedSchedulerClient } from '../../shared/runtime/scheduler-sync';
import { googleAuthFor } from '../../shared/runtime/sheets';
import { stepContext } from '../../shared/runtime/step-context';

const s3 = mockClient(S3Client);
const dynamo = mockClient(DynamoDBDocumentClient);
const ENV = {
  DIGEST_CONFIG: JSON.stringify({
    pipelines: [
      {
        id: 'demo',
        discord: { channelId: '1200000000000000000' },
        sheet: { spreadsheetId: 'sheet-0000000001' },
        schedules: [{ name: 'morning', dailyAt: '09:00', timeZone: 'Europe/Berlin' }],
      },
    ],
  }),
  BUCKET_NAME: 'bucket',
  LEDGER_TABLE: 'ledger',
  AWS_REGION: 'eu-central-1',
  POWERTOOLS_LOG_LEVEL: 'ERROR',
  // Sandbox-style secrets from the environment: no Secrets Manager call in this test.
  DISCORD_BOT_TOKEN: 'discord-token',
  GOOGLE_SERVICE_ACCOUNT_JSON: 'sheets-access-token',
  GEMINI_API_KEY: 'gemini-key',
};
const saved = Object.fromEntries(Object.keys(ENV).map((k) => [k, process.env[k]]));

const lambda = {
  functionName: 'upload',
  awsRequestId: 'req',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;
const event = (runId: string) => ({
  run: {
    pipelineId: 'demo',
    runId,
    trigger: 'schedule',
    referenceTime: '2026-11-24T08:00:00.000Z',
    startedAt: '2026-11-24T08:00:00.000Z',
    dryRun: false,
    proceed: true,
  },
  steps: {
    collect: {
      status: 'succeeded',
      startedAt: '2026-11-24T08:00:00.000Z',
      endedAt: '2026-11-24T08:00:01.000Z',
      durationMs: 1,
      counts: {},
    },
  },
});

beforeAll(() => Object.assign(process.env, ENV));
afterAll(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});
beforeEach(() => {
  s3.reset();
  dynamo.reset();
  s3.on(GetObjectCommand).rejects(
    new NoSuchKey({ message: 'The specified key does not exist.', $metadata: {} }),
  );
  dynamo.on(UpdateCommand).resolves({});
});

describe('one set of clients per container', () => {
  it('two invocations of a handler send through the same S3 and DynamoDB clients', async () => {
    // Act
    const first = await handler(event('r1'), lambda);
    const second = await handler(event('r2'), lambda);

    // Assess: each invocation read S3 (no CSV: skipped) and recorded its step in DynamoDB.
    expect(first.status).toBe('skipped');
    expect(second.status).toBe('skipped');
    const s3Clients = new Set(s3.send.thisValues);
    const dynamoClients = new Set(dynamo.send.thisValues);
    expect(s3.send.callCount).toBeGreaterThanOrEqual(2);
    expect(dynamo.send.callCount).toBe(2);
    expect(s3Clients.size).toBe(1);
    expect(dynamoClients.size).toBe(1);
  });

  it('keeps one Google auth per credential and one Scheduler client', () => {
    // Act
    const auths = [googleAuthFor('token-a'), googleAuthFor('token-a')];
    const schedulers = [sharedSchedulerClient(), sharedSchedulerClient()];

    // Assess
    expect(auths[0]).toBe(auths[1]);
    expect(googleAuthFor('token-b')).not.toBe(auths[0]);
    expect(schedulers[0]).toBe(schedulers[1]);
  });

  it("builds a context's settings and stores once, and anew when the environment points elsewhere", () => {
    // Act
    const first = stepContext('demo', lambda);
    const second = stepContext('demo', lambda);
    process.env.BUCKET_NAME = 'other-bucket';
    const elsewhere = stepContext('demo', lambda);
    process.env.BUCKET_NAME = ENV.BUCKET_NAME;

    // Assess
    expect(second.store).toBe(first.store);
    expect(second.ledger).toBe(first.ledger);
    expect(second.endpoints).toBe(first.endpoints);
    expect(elsewhere.store).not.toBe(first.store);
  });
});
