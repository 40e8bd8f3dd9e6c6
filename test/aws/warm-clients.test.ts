/**
 * "Built once per container": warm invocations of a function reuse the SDK clients the first one made.
 * The AnalyzeBatch function runs as Lambda runs it, against embedded S3 and DynamoDB and the Gemini
 * sandbox; Publish's wiring (publisherFor) runs as its handlers call it. X's SDK client class and the
 * Gemini adapter's client factory are wrapped to count how many clients are made, so the test fails if a
 * client is made per invocation again (in a handler or in shared/runtime). Discord's REST client is the exception, made per
 * invocation on purpose (shared/adapters/discord.ts says why).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type EmbeddedAws, startEmbeddedAws } from '../../infra/local/embedded-aws';
import { lambdaContext } from '../../infra/local/local-execution';
import { type GeminiSandbox, startGeminiSandbox } from '../../infra/local/sandbox/gemini-server';
import { createS3Client } from '../../shared/adapters/aws-clients';
import { createObjectStore } from '../../shared/adapters/s3-object-store';
import { CONFIG_ENV } from '../../shared/config/load';
import { batchInputKeyOf, type PlannedRow } from '../../shared/pipeline/plan-analysis';

const constructed = vi.hoisted(() => ({ gemini: 0, x: 0 }));

// The real factories and classes, counted: each call or constructor call is one client made.
vi.mock('../../shared/adapters/gemini', async (importOriginal) => {
  const adapter = await importOriginal<typeof import('../../shared/adapters/gemini')>();
  return {
    ...adapter,
    createGeminiClient: (...args: Parameters<typeof adapter.createGeminiClient>) => {
      constructed.gemini += 1;
      return adapter.createGeminiClient(...args);
    },
  };
});
vi.mock('twitter-api-v2', async (importOriginal) => {
  const sdk = await importOriginal<typeof import('twitter-api-v2')>();
  class CountedTwitterApi extends sdk.TwitterApi {
    constructor(...args: ConstructorParameters<typeof sdk.TwitterApi>) {
      super(...args);
      constructed.x += 1;
    }
  }
  return { ...sdk, TwitterApi: CountedTwitterApi };
});

const KEY = 'gemini-key';
const config = {
  pipelines: [
    {
      id: 'demo',
      discord: { channelId: '1200000000000000000' },
      sheet: { spreadsheetId: 'sheet-0000000001' },
      schedules: [{ name: 'morning', dailyAt: '09:00', timeZone: 'Europe/Berlin' }],
    },
  ],
};
const run = {
  pipelineId: 'demo',
  runId: 'warm-run',
  trigger: 'schedule',
  referenceTime: '2026-11-24T08:00:00.000Z',
  startedAt: '2026-11-24T08:00:00.000Z',
  dryRun: false,
  proceed: true,
} as const;
const rows = (batch: number): PlannedRow[] =>
  [1, 2].map((i) => ({
    rowNumber: batch * 10 + i,
    messageId: `${batch}0${i}`,
    content: `Launching project ${batch}-${i} today`,
    postLink: `https://x.com/p${batch}${i}/status/${batch}0${i}`,
    author: `@p${batch}${i}`,
  }));

let aws: EmbeddedAws;
let gemini: GeminiSandbox;
const saved = { ...process.env };

beforeAll(async () => {
  aws = await startEmbeddedAws({});
  gemini = await startGeminiSandbox({ apiKey: KEY, quotas: false });
  Object.assign(process.env, aws.env, {
    [CONFIG_ENV]: JSON.stringify(config),
    SECRETS_SOURCE: 'env',
    GEMINI_API_KEY: KEY,
    GEMINI_API_URL: gemini.url,
    X_API_KEY: 'x-key',
    X_API_SECRET: 'x-secret',
    X_ACCESS_TOKEN: 'x-token',
    X_ACCESS_SECRET: 'x-access-secret',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
  });
  const store = createObjectStore({ client: createS3Client(aws.env), bucket: aws.bucket });
  for (const batch of [1, 2, 3])
    await store.putIfAbsent(
      batchInputKeyOf(run.pipelineId, run.runId, 1, batch),
      JSON.stringify(rows(batch)),
      'application/json',
    );
});
afterAll(async () => {
  process.env = saved;
  await gemini?.close();
  await aws?.close();
});
beforeEach(() => {
  constructed.gemini = 0;
  constructed.x = 0;
});

describe('clients built once per container', () => {
  it('AnalyzeBatch: warm invocations send through the Gemini client the first one made', async () => {
    // Prepare: the function's module, loaded once as in one container.
    const { handler } = await import('../../functions/analyze-batch/handler');

    // Act: three invocations, one item of one batch each.
    const outcomes = [];
    for (const batch of [1, 2, 3])
      outcomes.push(
        ...(await handler(
          { run, round: 1, batches: [batch] },
          lambdaContext('discord-digest-analyze-batch', 60_000),
        )),
      );

    // Assess: each batch asked Gemini once, all through one client.
    expect(outcomes.map((o) => o.status)).toEqual(['done', 'done', 'done']);
    expect(gemini.requests).toHaveLength(3);
    expect(constructed.gemini).toBe(1);
  });

  it('Publish: warm invocations get their X publisher from the client the first one made', async () => {
    // Prepare
    const { publisherFor } = await import('../../shared/runtime/publisher');
    const { stepContext } = await import('../../shared/runtime/step-context');

    // Act: what the publish handlers do in each invocation, for a pipeline that posts to X.
    for (let i = 0; i < 3; i += 1) {
      const context = stepContext('demo', lambdaContext('discord-digest-publish', 60_000));
      const pipeline = {
        ...context.pipeline,
        publisher: { ...context.pipeline.publisher, kind: 'x' as const },
      };
      expect((await publisherFor({ ...context, pipeline }))?.kind).toBe('x');
    }

    // Assess
    expect(constructed.x).toBe(1);
  });
});
