/**
 * The Discord sandbox against what Discord documents, and our adapter (the real
 * @discordjs/rest client) against the sandbox: headers, buckets, 429 scopes,
 * permissions, the MESSAGE_CONTENT intent, forwards and components-v2 messages.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  componentsOnlyMessage,
  forwardedMessage,
  seedDiscordChannelWithFacts,
} from '../../infra/local/sandbox/discord-seed';
import {
  type DiscordSandbox,
  type DiscordSandboxOptions,
  startDiscordSandbox,
} from '../../infra/local/sandbox/discord-server';
import { createDiscordChannelSource } from '../../shared/adapters/discord';
import { csvToPosts } from '../../shared/domain/csv';
import { ConfigError, RateLimitedError } from '../../shared/errors';
import { collectChannelPosts, csvKeyOf } from '../../shared/pipeline/collect';
import type { QuotaUse } from '../../shared/ports';
import { FakeObjectStore, FakeSheetStore, silentLog, testPipeline } from '../support/fakes';
import { runRef } from '../support/harness';
import { message } from '../support/messages';

const CHANNEL = '1200000000000000000';
const OTHER = '1200000000000000001';
const T = '2026-11-24T09:00:00.000Z';
const BOT = '900000000000000099';
let sandbox: DiscordSandbox | undefined;

async function start(options: Partial<DiscordSandboxOptions> = {}, channel: unknown[] = []) {
  sandbox = await startDiscordSandbox({
    token: 'bot-token',
    channels: { [CHANNEL]: channel, [OTHER]: [message(T, 5, 'hi')] },
    latency: 'fast',
    botUserId: BOT,
    ...options,
  });
  return sandbox;
}
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

const source = (s: DiscordSandbox, maxWaitMs = 2_000) =>
  createDiscordChannelSource({
    token: 'bot-token',
    baseUrl: `${s.url}/api`,
    timeoutMs: 2_000,
    retry: { baseDelayMs: 5, maxWaitMs, maxAttempts: 6 },
  });

const get = (s: DiscordSandbox, channel = CHANNEL) =>
  fetch(`${s.url}/api/v10/channels/${channel}/messages?limit=10`, {
    headers: { authorization: 'Bot bot-token' },
  });

function collectDeps(s: DiscordSandbox, fetchLimit = 30_000, store = new FakeObjectStore()) {
  const sheet = new FakeSheetStore();
  return {
    pipeline: testPipeline({
      discord: { channelId: CHANNEL, window: { mode: 'daily', days: 3 }, fetchLimit },
    }),
    channel: source(s),
    store,
    sheet: async () => sheet,
    log: silentLog,
  };
}

describe('the sandbox speaks Discord', () => {
  it('sends the rate-limit headers on every answer; remaining counts down per channel bucket and resets', async () => {
    // Prepare
    const s = await start({ routeLimit: { limit: 3, windowMs: 1_500 } });

    // Act
    const answers = [await get(s), await get(s), await get(s, OTHER), await get(s)];
    const limited = await get(s);
    await new Promise((resolve) => setTimeout(resolve, 1_600));
    const reset = await get(s);

    // Assess
    for (const a of answers) {
      for (const h of ['limit', 'remaining', 'reset', 'reset-after', 'bucket']) {
        expect(a.headers.get(`x-ratelimit-${h}`)).not.toBeNull();
      }
    }
    expect(answers.map((a) => a.headers.get('x-ratelimit-remaining'))).toEqual(['2', '1', '2', '0']);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('x-ratelimit-scope')).toBe('user');
    expect(await limited.json()).toMatchObject({ message: 'You are being rate limited.', global: false });
    expect(reset.status).toBe(200);
    expect(reset.headers.get('x-ratelimit-remaining')).toBe('2');
  });

  it('answers a shared 429 that asks for many minutes, and a global one with X-RateLimit-Global', async () => {
    // Prepare
    const s = await start();
    s.limitShared(CHANNEL, 1_337);

    // Act
    const shared = await get(s);
    const elsewhere = await get(s, OTHER);
    s.exhaustGlobal();
    const global = await get(s, OTHER);

    // Assess
    expect(shared.status).toBe(429);
    expect(shared.headers.get('x-ratelimit-scope')).toBe('shared');
    expect(Number(shared.headers.get('retry-after'))).toBeGreaterThanOrEqual(1_336);
    expect(((await shared.json()) as { retry_after: number }).retry_after).toBeGreaterThan(1_300);
    expect(elsewhere.status).toBe(200);
    expect(global.status).toBe(429);
    expect(global.headers.get('x-ratelimit-global')).toBe('true');
    expect(global.headers.get('x-ratelimit-scope')).toBe('global');
    expect(await global.json()).toMatchObject({ global: true });
  });

  it('answers JSON errors {message, code}: 401, 403 Missing Access without View Channel, 404 Unknown Channel', async () => {
    // Prepare
    const s = await start({ permissions: { [CHANNEL]: { viewChannel: false } } });

    // Act
    const unauthorized = await fetch(`${s.url}/api/v10/channels/${CHANNEL}/messages`, {
      headers: { authorization: 'Bot nope' },
    });
    const forbidden = await get(s);
    const unknown = await get(s, '1299999999999999999');

    // Assess
    expect([unauthorized.status, await unauthorized.json()]).toEqual([
      401,
      { message: '401: Unauthorized', code: 0 },
    ]);
    expect([forbidden.status, await forbidden.json()]).toEqual([
      403,
      { message: 'Missing Access', code: 50001 },
    ]);
    expect([unknown.status, await unknown.json()]).toEqual([
      404,
      { message: 'Unknown Channel', code: 10003 },
    ]);
  });

  it('without MESSAGE_CONTENT blanks content, embeds, attachments and components, omits poll, but not where the bot is mentioned', async () => {
    // Prepare
    const base = message(T, 9, 'https://x.com/a/status/1');
    const mentioned = { ...message(T, 8, `<@${BOT}> https://x.com/b/status/2`, 1), mentions: [{ id: BOT }] };
    const withPoll = {
      ...message(T, 7, 'vote', 2),
      poll: { question: { text: 'which?' } },
      attachments: [{ id: '5' }],
    };
    const forward = forwardedMessage(message(T, 6, '', 3), base.author, {
      content: 'https://x.com/c/status/3',
      embeds: [],
    });
    const s = await start({ messageContentIntent: false }, [base, mentioned, withPoll, forward]);

    // Act
    const page = (await source(s).fetchPage({ channelId: CHANNEL, after: '0', limit: 10 })) as Record<
      string,
      unknown
    >[];

    // Assess
    const byId = new Map(page.map((m) => [m.id, m]));
    expect(byId.get(base.id)).toMatchObject({ content: '', embeds: [], attachments: [], components: [] });
    expect(byId.get(mentioned.id)?.content).toBe(mentioned.content);
    expect(byId.get(withPoll.id)).not.toHaveProperty('poll');
    expect(byId.get(withPoll.id)?.attachments).toEqual([]);
    const forwarded = byId.get((forward as { id: string }).id) as {
      message_snapshots?: { message: unknown }[];
    };
    expect(forwarded.message_snapshots?.[0]?.message).toMatchObject({ content: '', embeds: [] });
  });
});

describe('the adapter against the sandbox', () => {
  it('waits out an exhausted channel bucket and a spent global limit within its budget', async () => {
    // Prepare
    const s = await start({ routeLimit: { limit: 2, windowMs: 300 } }, [message(T, 5, 'x')]);
    const channel = source(s);
    const started = Date.now();

    // Act
    for (let i = 0; i < 5; i += 1) await channel.fetchPage({ channelId: CHANNEL, after: '0', limit: 1 });
    s.exhaustGlobal();
    const afterGlobal = await channel.fetchPage({ channelId: CHANNEL, after: '0', limit: 1 });

    // Assess
    expect(afterGlobal).toHaveLength(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
  });

  it('ends a shared rate limit longer than it may wait with a RateLimitedError naming the reset', async () => {
    // Prepare
    const s = await start({}, [message(T, 5, 'x')]);
    s.limitShared(CHANNEL, 900);
    const before = Date.now();

    // Act
    const refused = source(s).fetchPage({ channelId: CHANNEL, after: '0', limit: 1 });

    // Assess
    const error = await refused.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    const limited = error as RateLimitedError;
    expect(limited.message).toMatch(
      /shared rate limit of channel 1200000000000000000 exhausted; it resets at \d{4}-/,
    );
    expect(limited.resetAt.getTime() - before).toBeGreaterThanOrEqual(899_000);
  });

  it('names View Channel in a ConfigError for 403 Missing Access', async () => {
    // Prepare
    const s = await start({ permissions: { [CHANNEL]: { viewChannel: false } } });

    // Act
    const refused = source(s).fetchPage({ channelId: CHANNEL, after: '0', limit: 1 });

    // Assess
    await expect(refused).rejects.toBeInstanceOf(ConfigError);
    await expect(refused).rejects.toThrow(/Missing Access \(code 50001\).*View Channel/);
  });
});

describe('collect through the adapter', () => {
  it('fails naming MESSAGE_CONTENT when the bot lacks the intent', async () => {
    // Prepare
    const seeded = seedDiscordChannelWithFacts({ channelId: CHANNEL, now: new Date(T) });
    const s = await start({ messageContentIntent: false }, seeded.messages);

    // Act
    const collected = collectChannelPosts(collectDeps(s), { run: runRef('r1', T), steps: {} });

    // Assess
    await expect(collected).rejects.toBeInstanceOf(ConfigError);
    await expect(collected).rejects.toThrow(/MESSAGE_CONTENT/);
  });

  it('fails naming Read Message History when the bot may not read the history', async () => {
    // Prepare
    const seeded = seedDiscordChannelWithFacts({ channelId: CHANNEL, now: new Date(T) });
    const s = await start({ permissions: { [CHANNEL]: { readMessageHistory: false } } }, seeded.messages);

    // Act
    const collected = collectChannelPosts(collectDeps(s), { run: runRef('r1', T), steps: {} });

    // Assess
    await expect(collected).rejects.toThrow(/Read Message History/);
  });

  it('keeps the links of forwards and components-v2 cards in the seeded channel', async () => {
    // Prepare
    const seeded = seedDiscordChannelWithFacts({ channelId: CHANNEL, now: new Date(T) });
    const extra = [
      forwardedMessage(
        message(T, 1, '', 1),
        { id: '42', username: 'alice' },
        {
          content: '',
          embeds: [{ url: 'https://x.com/fwd/status/424242', description: 'forwarded launch' }],
        },
      ),
      componentsOnlyMessage(message(T, 1, '', 2), ['Card', 'https://fixvx.com/card/status/434343']),
    ];
    const s = await start({}, [...seeded.messages, ...extra]);
    const deps = collectDeps(s);

    // Act
    const record = await collectChannelPosts(deps, { run: runRef('r1', T), steps: {} });

    // Assess
    expect(record.status).toBe('succeeded');
    const posts = csvToPosts(deps.store.objects.get(csvKeyOf('demo', 'r1')) ?? '');
    const links = posts.map((p) => p.postLink);
    expect(links).toContain('https://x.com/fwd/status/424242');
    expect(links).toContain('https://x.com/card/status/434343');
    expect(new Set(links).size).toBe(seeded.distinctStatusLinks + 2);
    // A message whose id is not a snowflake can never be paged to (Discord ids always are).
    expect(record.counts.malformed).toBe(seeded.malformedIds.filter((id) => /^\d+$/.test(id)).length);
  });

  it('ends partial at the fetch limit; --resume finishes with the same CSV as one long read', async () => {
    // Prepare
    const seeded = seedDiscordChannelWithFacts({ channelId: CHANNEL, now: new Date(T) });
    const s = await start({}, seeded.messages);
    const whole = collectDeps(s);
    const store = new FakeObjectStore();
    const input = { run: runRef('r1', T), steps: {} };

    // Act
    await collectChannelPosts(whole, input);
    const first = await collectChannelPosts(collectDeps(s, 100, store), input);
    const records = [first];
    while (records.at(-1)?.status === 'partial')
      records.push(await collectChannelPosts(collectDeps(s, 100, store), input));

    // Assess
    expect(first).toMatchObject({ status: 'partial', counts: { truncated: 1, messagesSeen: 100 } });
    expect(first.notes?.stoppedAfterId).toMatch(/^\d+$/);
    expect(records.at(-1)?.status).toBe('succeeded');
    expect(store.objects.get(csvKeyOf('demo', 'r1'))).toBe(whole.store.objects.get(csvKeyOf('demo', 'r1')));
  });
});

describe('quota use', () => {
  it("reports each answer's route bucket from its X-RateLimit-Limit and -Remaining headers", async () => {
    // Prepare
    const s = await start({ routeLimit: { limit: 2, windowMs: 200 } }, [message(T, 1, 'a')]);
    const uses: QuotaUse[] = [];
    const channel = createDiscordChannelSource({
      token: 'bot-token',
      baseUrl: `${s.url}/api`,
      timeoutMs: 2_000,
      retry: { baseDelayMs: 5, maxWaitMs: 2_000, maxAttempts: 6 },
      onQuota: (use) => uses.push(use),
    });

    // Act: the third page waits for the bucket to reset (the client knows it is spent), then is answered
    for (let i = 0; i < 3; i++) await channel.fetchPage({ channelId: CHANNEL, after: '0', limit: 100 });

    // Assess
    expect(uses).toEqual(
      [1, 2, 1].map((used) => ({ api: 'discord', quota: 'route-bucket', used, limit: 2 })),
    );
  });
});
