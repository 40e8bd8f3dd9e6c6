/**
 * @google/genai and our Gemini adapter against the Gemini sandbox: the adapter
 * sends what the SDK sends (it calls the REST API itself, without the SDK), the answer
 * shape, per-model quotas (per minute, per day until midnight Pacific), 429
 * bodies with and without RetryInfo, thinking budgets a model refuses, and a
 * bad key. The sandbox's clock is a variable the tests move, and the adapter's
 * sleep moves it too, so no test waits for real.
 */
// Google's own client, the reference the sandbox and the adapter are held to.
import { ApiError, GoogleGenAI, Type } from '@google/genai/web';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FREE_TIER_QUOTAS,
  type GeminiModelQuota,
  type GeminiSandbox,
  geminiLatencyMs,
  geminiQuotasFromEnv,
  startGeminiSandbox,
} from '../../infra/local/sandbox/gemini-server';
import { createGeminiAnalyzer, thinkingConfigFor } from '../../shared/adapters/gemini';
import { nextPacificMidnight, pacificMidnightBefore } from '../../shared/domain/pacific-day';
import { AuthError, RateLimitedError } from '../../shared/errors';
import type { QuotaUse } from '../../shared/ports';

const KEY = 'gem-key';
// 2026-11-24 10:00:30 UTC is 02:00:30 in Los Angeles (PST, UTC−8).
const START = Date.parse('2026-11-24T10:00:30Z');
const settings = { model: 'gemini-2.5-flash', topic: 'AI', language: 'English', temperature: 0.2 };
const posts = Array.from({ length: 10 }, (_, i) => ({
  messageId: String(i),
  content: i % 2 ? 'Launching our new agent framework today' : 'gm',
  postLink: `https://x.com/p${i}/status/${i}`,
  author: `@p${i}`,
}));

let sandbox: GeminiSandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

async function world(quotas?: Record<string, GeminiModelQuota>) {
  const clock = { now: START };
  sandbox = await startGeminiSandbox({ apiKey: KEY, now: () => clock.now, ...(quotas ? { quotas } : {}) });
  const url = sandbox.url;
  const sleeps: number[] = [];
  const analyzer = (apiKey = KEY) =>
    createGeminiAnalyzer({
      apiKey,
      baseUrl: url,
      timeoutMs: 2_000,
      now: () => clock.now,
      retry: {
        baseDelayMs: 5,
        maxWaitMs: 60_000,
        sleep: async (ms) => {
          sleeps.push(ms);
          clock.now += ms;
        },
      },
    });
  const sdk = (apiKey = KEY) => new GoogleGenAI({ apiKey, httpOptions: { baseUrl: url } });
  return { clock, sandbox, analyzer, sdk, sleeps };
}

interface ErrorBody {
  error: {
    code: number;
    status: string;
    message: string;
    details: { '@type': string; [k: string]: unknown }[];
  };
}

async function apiErrorOf(promise: Promise<unknown>): Promise<{ status: number; body: ErrorBody }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiError);
  return { status: (error as ApiError).status, body: JSON.parse((error as ApiError).message) };
}

describe('the request', () => {
  it('is the one @google/genai sends for the same call: path, contents and generationConfig', async () => {
    // Prepare
    const { analyzer, sdk, sandbox } = await world();
    await analyzer().analyzePosts(posts, settings);
    const ours = sandbox.requests.at(-1) as {
      contents: { parts: { text: string }[] }[];
      generationConfig: Record<string, unknown>;
    };
    const ourPath = sandbox.faults.calls.at(-1)?.path;

    // Act: the SDK asked the same, its config spelt the SDK's way.
    await sdk().models.generateContent({
      model: settings.model,
      contents: ours.contents[0]?.parts[0]?.text ?? '',
      config: ours.generationConfig,
    });

    // Assess
    expect(sandbox.requests.at(-1)).toEqual(ours);
    expect(sandbox.faults.calls.at(-1)?.path).toBe(ourPath);
    expect(ourPath).toBe(`/v1beta/models/${settings.model}:generateContent`);
  });
});

describe('the answer', () => {
  it('has candidates, finishReason and usageMetadata; thinking adds thoughtsTokenCount', async () => {
    // Prepare
    const { sdk } = await world();

    // Act
    const off = await sdk().models.generateContent({
      model: 'gemini-2.5-flash',
      contents: 'Say hello',
      config: { thinkingConfig: { thinkingBudget: 0 } },
    });
    const on = await sdk().models.generateContent({
      model: 'gemini-2.5-pro',
      contents: 'Say hello',
      config: { thinkingConfig: { thinkingBudget: 1024 } },
    });

    // Assess
    expect(off.candidates?.[0]).toMatchObject({ finishReason: 'STOP', content: { role: 'model' } });
    expect(off.usageMetadata?.promptTokenCount).toBeGreaterThan(0);
    expect(off.usageMetadata?.thoughtsTokenCount).toBeUndefined();
    expect(on.usageMetadata?.thoughtsTokenCount).toBeGreaterThan(0);
    expect(on.usageMetadata?.totalTokenCount).toBe(
      (on.usageMetadata?.promptTokenCount ?? 0) +
        (on.usageMetadata?.candidatesTokenCount ?? 0) +
        (on.usageMetadata?.thoughtsTokenCount ?? 0),
    );
  });

  it('thinking tokens count against maxOutputTokens: a small cap ends MAX_TOKENS', async () => {
    // Prepare
    const { sdk } = await world();

    // Act
    const answer = await sdk().models.generateContent({
      model: 'gemini-2.5-pro',
      contents: 'Write a long essay',
      config: { maxOutputTokens: 100, thinkingConfig: { thinkingBudget: 200 } },
    });

    // Assess
    expect(answer.candidates?.[0]?.finishReason).toBe('MAX_TOKENS');
    expect(answer.text).toBeUndefined();
  });

  it('takes seconds for a batch of 100 posts under the realistic profile, sized from its tokens', async () => {
    // Prepare
    const { sdk } = await world();
    const batch = posts.flatMap((p) =>
      Array.from({ length: 10 }, (_, i) => ({ ...p, messageId: `${p.messageId}-${i}` })),
    );
    const answer = await sdk().models.generateContent({
      model: 'gemini-2.5-flash',
      contents: `Posts (JSON):\n${JSON.stringify(batch)}`,
      config: { responseSchema: { type: Type.ARRAY }, thinkingConfig: { thinkingBudget: 0 } },
    });
    const usage = {
      promptTokens: answer.usageMetadata?.promptTokenCount ?? 0,
      outputTokens: answer.usageMetadata?.candidatesTokenCount ?? 0,
    };

    // Act
    const flash = geminiLatencyMs('gemini-2.5-flash', usage);
    const pro = geminiLatencyMs('gemini-2.5-pro', usage);

    // Assess
    expect(batch).toHaveLength(100);
    expect(flash).toBeGreaterThan(3_000);
    expect(flash).toBeLessThan(60_000);
    expect(pro).toBeGreaterThan(flash);
  });
});

describe('thinking budgets', () => {
  it('2.5 Pro refuses a zero budget with the message Google gives', async () => {
    // Prepare
    const { sdk } = await world();

    // Act
    const refused = await apiErrorOf(
      sdk().models.generateContent({
        model: 'gemini-2.5-pro',
        contents: 'hi',
        config: { thinkingConfig: { thinkingBudget: 0 } },
      }),
    );

    // Assess
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({
      status: 'INVALID_ARGUMENT',
      message: 'Budget 0 is invalid. This model only works in thinking mode.',
    });
  });

  it.each([
    ['gemini-2.5-flash', { thinkingBudget: 0 }],
    ['gemini-2.5-flash-lite', { thinkingBudget: 0 }],
    ['gemini-2.5-pro', { thinkingBudget: 128 }],
    ['gemini-3-pro-preview', { thinkingLevel: 'LOW' }],
    ['gemini-2.0-flash', undefined],
    ['gemini-9-ultra', undefined],
  ])('the adapter sends %s what it accepts', async (model, expected) => {
    // Prepare
    const { analyzer, sandbox } = await world();

    // Act
    const result = await analyzer().analyzePosts(posts, { ...settings, model });

    // Assess
    expect(result).toHaveLength(10);
    const sent = sandbox.requests.at(-1) as { generationConfig?: { thinkingConfig?: unknown } };
    expect(sent.generationConfig?.thinkingConfig).toEqual(expected);
    expect(thinkingConfigFor(`models/${model}`)).toEqual(expected);
  });
});

describe('quotas', () => {
  it('holds each model to its requests per minute; the 429 carries RetryInfo and QuotaFailure', async () => {
    // Prepare
    const { sdk } = await world({ 'gemini-2.5-flash': { requestsPerMinute: 2, requestsPerDay: 100 } });
    const call = (model: string) => sdk().models.generateContent({ model, contents: 'hi' });
    await call('gemini-2.5-flash');
    await call('gemini-2.5-flash');

    // Act
    const refused = await apiErrorOf(call('gemini-2.5-flash'));
    const otherModel = await call('gemini-2.5-pro');

    // Assess
    expect(refused.status).toBe(429);
    expect(refused.body.error.status).toBe('RESOURCE_EXHAUSTED');
    const details = refused.body.error.details;
    expect(details.find((d) => d['@type'].endsWith('RetryInfo'))).toEqual({
      '@type': 'type.googleapis.com/google.rpc.RetryInfo',
      retryDelay: '30s',
    });
    expect(details.find((d) => d['@type'].endsWith('QuotaFailure'))?.violations).toEqual([
      {
        quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests',
        quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier',
        quotaDimensions: { location: 'global', model: 'gemini-2.5-flash' },
        quotaValue: '2',
      },
    ]);
    expect(otherModel.candidates).toHaveLength(1);
  });

  it('counts input tokens per minute too: a prompt past the TPM quota is a 429 naming it', async () => {
    // Prepare
    const { sdk } = await world({
      'gemini-2.5-flash': { requestsPerMinute: 100, requestsPerDay: 1000, inputTokensPerMinute: 150 },
    });
    const call = () => sdk().models.generateContent({ model: 'gemini-2.5-flash', contents: 'x'.repeat(400) });
    await call(); // 100 tokens

    // Act
    const refused = await apiErrorOf(call());

    // Assess
    expect(refused.status).toBe(429);
    expect(refused.body.error.details.find((d) => d['@type'].endsWith('QuotaFailure'))?.violations).toEqual([
      {
        quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_input_token_count',
        quotaId: 'GenerateContentInputTokensPerModelPerMinute-FreeTier',
        quotaDimensions: { location: 'global', model: 'gemini-2.5-flash' },
        quotaValue: '150',
      },
    ]);
  });

  it('the adapter waits out a per-minute 429 for as long as its RetryInfo says', async () => {
    // Prepare
    const { analyzer, sandbox, sleeps } = await world({
      'gemini-2.5-flash': { requestsPerMinute: 1, requestsPerDay: 100 },
    });
    await analyzer().analyzePosts(posts, settings);

    // Act
    const second = await analyzer().analyzePosts(posts, settings);

    // Assess
    expect(second).toHaveLength(10);
    expect(sleeps).toEqual([30_000]);
    expect(sandbox.requests).toHaveLength(2);
  });

  it('a daily quota answers with a short retryDelay though it resets only at midnight Pacific', async () => {
    // Prepare
    const { sdk, clock, sandbox } = await world();
    sandbox.exhaustQuota('gemini-2.5-flash', 'day');
    const call = () => sdk().models.generateContent({ model: 'gemini-2.5-flash', contents: 'hi' });

    // Act
    const refused = await apiErrorOf(call());
    clock.now = Date.parse('2026-11-24T23:59:00Z'); // 15:59 in Los Angeles: still the same day
    const stillRefused = await apiErrorOf(call());
    clock.now = Date.parse('2026-11-25T08:00:01Z'); // 00:00:01 in Los Angeles
    const nextDay = await call();

    // Assess
    const details = refused.body.error.details;
    expect(details.find((d) => d['@type'].endsWith('RetryInfo'))?.retryDelay).toBe('30s');
    expect(JSON.stringify(details)).toContain('GenerateRequestsPerDayPerProjectPerModel-FreeTier');
    expect(JSON.stringify(details)).toContain('"quotaValue":"250"');
    expect(stillRefused.status).toBe(429);
    expect(nextDay.candidates).toHaveLength(1);
  });

  it('the adapter does not retry a per-day 429: RateLimitedError naming the quota and midnight Pacific', async () => {
    // Prepare
    const { analyzer, sandbox, sleeps } = await world();
    sandbox.exhaustQuota('gemini-2.5-flash', 'day');
    const calls = sandbox.faults.calls.length;

    // Act
    const error = await analyzer()
      .analyzePosts(posts, settings)
      .catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(RateLimitedError);
    const limited = error as RateLimitedError;
    expect(limited.resetAt.toISOString()).toBe('2026-11-25T08:00:00.000Z');
    expect(limited.message).toContain('GenerateRequestsPerDayPerProjectPerModel-FreeTier');
    expect(limited.message).toContain('2026-11-25T08:00:00.000Z');
    expect(sandbox.faults.calls.length - calls).toBe(1);
    expect(sleeps).toEqual([]);
  });

  it('the adapter does not retry a 429 without RetryInfo', async () => {
    // Prepare
    const { analyzer, sandbox, sdk, sleeps } = await world();
    sandbox.throttleWithoutRetryInfo(2);
    const raw = await apiErrorOf(sdk().models.generateContent({ model: 'gemini-2.5-flash', contents: 'hi' }));
    const calls = sandbox.faults.calls.length;

    // Act
    const error = await analyzer()
      .analyzePosts(posts, settings)
      .catch((e: unknown) => e);

    // Assess
    expect(raw.body.error).toEqual({
      code: 429,
      message: 'Resource has been exhausted (e.g. check quota).',
      status: 'RESOURCE_EXHAUSTED',
    });
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).resetAt.toISOString()).toBe('2026-11-25T08:00:00.000Z');
    expect(sandbox.faults.calls.length - calls).toBe(1);
    expect(sleeps).toEqual([]);
  });
});

describe('retries', () => {
  it('the SDK retries nothing itself: one attempt allowed is one request', async () => {
    // Prepare
    const { sandbox } = await world();
    sandbox.faults.add({ kind: 'server-error', times: 3 });
    const analyzer = createGeminiAnalyzer({
      apiKey: KEY,
      baseUrl: sandbox.url,
      timeoutMs: 2_000,
      retry: { maxAttempts: 1 },
    });

    // Act
    const error = await analyzer.analyzePosts(posts, settings).catch((e: unknown) => e);

    // Assess
    expect((error as Error).name).toBe('TransientError');
    expect(sandbox.faults.calls).toHaveLength(1);
  });
});

describe('tiers', () => {
  it('plays the free tier unless DIGEST_GEMINI_TIER says tier1 or none', async () => {
    // Prepare
    const { sandbox } = await world();

    // Act
    const tier1 = geminiQuotasFromEnv({ DIGEST_GEMINI_TIER: 'tier1' });
    const none = geminiQuotasFromEnv({ DIGEST_GEMINI_TIER: 'none' });

    // Assess
    expect(sandbox.quotaOf('gemini-2.5-flash')).toMatchObject({ requestsPerMinute: 10, requestsPerDay: 250 });
    expect(sandbox.quotaOf('gemini-2.5-flash-lite-preview-06-17')).toMatchObject({
      requestsPerMinute: 15,
      requestsPerDay: 1000,
    });
    expect(geminiQuotasFromEnv({})).toBe(FREE_TIER_QUOTAS);
    expect(tier1).toMatchObject({
      'gemini-2.5-flash': {
        requestsPerMinute: 1_000,
        requestsPerDay: 10_000,
        inputTokensPerMinute: 1_000_000,
      },
    });
    expect(none).toBe(false);
  });
});

describe('credentials', () => {
  it('a bad key is 400 API_KEY_INVALID, which the adapter calls an AuthError', async () => {
    // Prepare
    const { analyzer, sdk } = await world();

    // Act
    const raw = await apiErrorOf(
      sdk('bad').models.generateContent({ model: 'gemini-2.5-flash', contents: 'hi' }),
    );
    const error = await analyzer('bad')
      .analyzePosts(posts, settings)
      .catch((e: unknown) => e);

    // Assess
    expect(raw.status).toBe(400);
    expect(raw.body.error.details[0]).toMatchObject({ reason: 'API_KEY_INVALID' });
    expect(error).toBeInstanceOf(AuthError);
  });
});

describe('midnight Pacific', () => {
  it.each([
    ['2026-11-24T10:00:30Z', '2026-11-25T08:00:00.000Z'], // PST
    ['2026-07-01T06:59:59Z', '2026-07-01T07:00:00.000Z'], // PDT, one second before midnight
    ['2026-03-08T09:30:00Z', '2026-03-09T07:00:00.000Z'], // the spring-forward day has 23 hours
    ['2026-11-01T08:30:00Z', '2026-11-02T08:00:00.000Z'], // the fall-back day has 25 hours
  ])('after %s the daily quota resets at %s', (now, reset) => {
    // Act
    const next = nextPacificMidnight(Date.parse(now));

    // Assess
    expect(next.toISOString()).toBe(reset);
    expect(pacificMidnightBefore(next.getTime())).toBe(next.getTime());
  });
});

describe('quota use', () => {
  it('reports the quota a 429 names as used up, with the limit it gives, and nothing for an answer', async () => {
    // Prepare
    const { sandbox } = await world();
    const uses: QuotaUse[] = [];
    const analyzer = createGeminiAnalyzer({
      apiKey: KEY,
      baseUrl: sandbox.url,
      timeoutMs: 2_000,
      now: () => START,
      retry: { baseDelayMs: 5, maxWaitMs: 60_000 },
      onQuota: (use) => uses.push(use),
    });
    await analyzer.analyzePosts(posts, settings);
    const afterAnswer = uses.length;
    sandbox.exhaustQuota('gemini-2.5-flash', 'day');

    // Act
    await analyzer.analyzePosts(posts, settings).catch(() => undefined);

    // Assess
    expect(afterAnswer).toBe(0);
    expect(uses).toEqual([{ api: 'gemini', quota: 'requests-per-day', used: 250, limit: 250 }]);
  });
});
