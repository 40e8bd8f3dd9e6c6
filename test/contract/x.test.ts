/**
 * twitter-api-v2 (through our X adapter) against the X sandbox on loopback:
 * threads, duplicates, lost answers, the 15-minute window, the per-user
 * 24-hour post cap, a plan that may not read the timeline, X's length rule.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startXSandbox, type XSandbox, type XSandboxOptions } from '../../infra/local/sandbox/x-server';
import { createXPublisher } from '../../shared/adapters/x';
import {
  AuthError,
  DuplicatePostError,
  RateLimitedError,
  TransientError,
  UnknownOutcomeError,
} from '../../shared/errors';
import type { PublishUnit, QuotaUse } from '../../shared/ports';

const fast = { baseDelayMs: 5, maxWaitMs: 2_000 };
let x: XSandbox | undefined;
afterEach(async () => {
  await x?.close();
  x = undefined;
});

async function sandbox(options: XSandboxOptions = {}) {
  x = await startXSandbox(options);
  const publisher = createXPublisher({
    appKey: 'k',
    appSecret: 's',
    accessToken: 't',
    accessSecret: 'ts',
    baseUrl: x.url,
    timeoutMs: 1_000,
    retry: fast,
  });
  return { server: x, publisher };
}

const unit = (text: string, index = 0, replyTo?: string): PublishUnit => ({
  pipelineId: 'crypto',
  runId: 'r1',
  index,
  parts: [text],
  ...(replyTo ? { replyTo } : {}),
});

describe('x', () => {
  it('posts a thread as a reply chain', async () => {
    // Prepare
    const { server, publisher } = await sandbox();

    // Act
    const first = await publisher.publish(unit('part one'));
    const second = await publisher.publish(unit('part two', 1, first.id));

    // Assess
    expect(server.tweets()).toMatchObject([{ text: 'part one' }, { text: 'part two', inReplyTo: first.id }]);
    expect(second.url).toContain(second.id);
  });

  it('a duplicate is a DuplicatePostError, and the post is found on the account', async () => {
    // Prepare
    const { server, publisher } = await sandbox();
    await publisher.publish(unit('part one'));

    // Act
    const duplicate = publisher.publish(unit('part one'));

    // Assess
    await expect(duplicate).rejects.toBeInstanceOf(DuplicatePostError);
    expect(await publisher.findPublished(unit('part one'))).toEqual({
      status: 'found',
      part: expect.objectContaining({ id: server.tweets()[0]?.id }),
    });
  });

  it('a lost answer is an UnknownOutcomeError, and the post is found afterwards', async () => {
    // Prepare
    const { server, publisher } = await sandbox();
    server.faults.add({ kind: 'drop-after-effect', method: 'POST', path: '/2/tweets' });

    // Act
    const lost = publisher.publish(unit('lost answer acme.xyz and https://example.com/a'));

    // Assess
    await expect(lost).rejects.toBeInstanceOf(UnknownOutcomeError);
    expect(
      (await publisher.findPublished(unit('lost answer acme.xyz and https://example.com/a'))).status,
    ).toBe('found');
    expect((await publisher.findPublished(unit('never sent'))).status).toBe('absent');
  });

  it('on the free plan, looking on the account is refused (403 client-not-enrolled), not an error', async () => {
    // Prepare
    const { publisher } = await sandbox({ plan: 'free' });
    await publisher.publish(unit('hello'));

    // Act
    const lookup = await publisher.findPublished(unit('hello'));

    // Assess
    expect(lookup).toEqual({ status: 'refused', reason: expect.stringContaining('client-not-enrolled') });
  });

  it("reports each post's windows from X's headers, and a capped post as the cap used up", async () => {
    // Prepare
    x = await startXSandbox({ plan: 'free', postsPer15Minutes: 50 });
    const uses: QuotaUse[] = [];
    const publisher = createXPublisher({
      appKey: 'k',
      appSecret: 's',
      accessToken: 't',
      accessSecret: 'ts',
      baseUrl: x.url,
      timeoutMs: 1_000,
      retry: fast,
      onQuota: (use) => uses.push(use),
    });
    for (let i = 0; i < 17; i++) await publisher.publish(unit(`post ${i}`));

    // Act
    await publisher.publish(unit('post 18')).catch(() => undefined);

    // Assess
    const day = uses.filter((u) => u.quota === 'user-24-hour');
    expect(day.slice(0, 2)).toEqual([
      { api: 'x', quota: 'user-24-hour', used: 1, limit: 17 },
      { api: 'x', quota: 'user-24-hour', used: 2, limit: 17 },
    ]);
    expect(day.at(-1)).toEqual({ api: 'x', quota: 'user-24-hour', used: 17, limit: 17 });
    expect(day).toHaveLength(18);
    expect(uses.find((u) => u.quota === '15-minute-window')).toEqual({
      api: 'x',
      quota: '15-minute-window',
      used: 1,
      limit: 50,
    });
  });

  it('the per-user 24-hour cap (free plan: 17) ends with a RateLimitedError naming the reset hours later', async () => {
    // Prepare
    const { server, publisher } = await sandbox({ plan: 'free' });
    for (let i = 0; i < 17; i++) await publisher.publish(unit(`post ${i}`));

    // Act
    const capped = publisher.publish(unit('post 18')).catch((error: unknown) => error);

    // Assess
    const error = (await capped) as RateLimitedError;
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error.message).toMatch(/24-hour post cap \(17 posts\).*resets at \d{4}-/);
    expect(error.resetAt.getTime()).toBeGreaterThan(Date.now() + 60_000);
    expect(server.tweets()).toHaveLength(17);
  });

  it('the 15-minute window answers 429 with x-rate-limit-reset: a RateLimitedError, nothing posted', async () => {
    // Prepare
    const { server, publisher } = await sandbox({ postsPer15Minutes: 1 });
    await publisher.publish(unit('first'));

    // Act
    const limited = publisher.publish(unit('second')).catch((error: unknown) => error);

    // Assess
    const error = (await limited) as RateLimitedError;
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error.message).toMatch(/15-minute/);
    expect(server.tweets()).toHaveLength(1);
  });

  it('a 429 and a 500 are refusals: transient, nothing posted', async () => {
    // Prepare
    const { server, publisher } = await sandbox();
    server.faults.add({ kind: 'rate-limit', method: 'POST', path: '/2/tweets', retryAfterSeconds: 60 });
    server.faults.add({ kind: 'server-error', method: 'POST', path: '/2/tweets', nth: 2 });

    // Act + Assess
    await expect(publisher.publish(unit('limited'))).rejects.toBeInstanceOf(RateLimitedError);
    await expect(publisher.publish(unit('failed'))).rejects.toBeInstanceOf(TransientError);
    expect(server.tweets()).toHaveLength(0);
  });

  it('refuses a post too long by X rules (bare domains weigh 23), as X does', async () => {
    // Prepare
    const { server, publisher } = await sandbox();
    // 12 bare domains: 113 characters, but 12 × 23 + 11 spaces = 287 to X.
    const text = Array.from({ length: 12 }, (_, i) => `acme${i}.xyz`).join(' ');

    // Act + Assess
    await expect(publisher.publish(unit(text))).rejects.toBeInstanceOf(AuthError);
    expect(server.tweets()).toHaveLength(0);
  });
});
