/**
 * Each real client (@discordjs/rest, @googleapis/sheets, the Gemini adapter's REST calls,
 * X and Typefully: x.test.ts, typefully.test.ts) against its sandbox server on
 * loopback: request shapes, auth failures, 429 with the server's wait, 5xx.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDiscordChannelWithFacts } from '../../infra/local/sandbox/discord-seed';
import { type DiscordSandbox, startDiscordSandbox } from '../../infra/local/sandbox/discord-server';
import { type GeminiSandbox, startGeminiSandbox } from '../../infra/local/sandbox/gemini-server';
import { type SheetsSandbox, startSheetsSandbox } from '../../infra/local/sandbox/sheets-server';
import { createDiscordChannelSource } from '../../shared/adapters/discord';
import { createGeminiAnalyzer } from '../../shared/adapters/gemini';
import { createGoogleAuth, createSheetStore } from '../../shared/adapters/sheets';
import { AuthError, InvalidResponseError, RateLimitedError, TransientError } from '../../shared/errors';

const CHANNEL = '1187654321098765432';
const fast = { baseDelayMs: 5, maxWaitMs: 2_000 };
const seeded = seedDiscordChannelWithFacts({ channelId: CHANNEL, now: new Date('2026-11-24T08:00:00Z') });
let discord: DiscordSandbox;
let sheets: SheetsSandbox;
let gemini: GeminiSandbox;

beforeAll(async () => {
  discord = await startDiscordSandbox({ token: 'bot-token', channels: { [CHANNEL]: seeded.messages } });
  sheets = await startSheetsSandbox({ token: 'sheet-token', spreadsheets: ['book-1', 'book-2'] });
  gemini = await startGeminiSandbox({ apiKey: 'gem-key' });
});
afterAll(async () => {
  await Promise.all([discord, sheets, gemini].map((s) => s?.close()));
});

describe('the seeded channel', () => {
  it('is realistic: ≥ 200 messages, ids ascending with time, malformed ones present', () => {
    // Assess
    expect(seeded.messages.length).toBeGreaterThanOrEqual(200);
    expect(seeded.malformedIds.length).toBeGreaterThan(0);
    expect(seeded.distinctStatusLinks).toBeGreaterThan(50);
    const valid = seeded.messages.filter((m) => /^\d+$/.test((m as { id: string }).id)) as {
      id: string;
      timestamp: string;
    }[];
    for (let i = 1; i < valid.length; i++)
      expect(BigInt(valid[i]?.id ?? 0) > BigInt(valid[i - 1]?.id ?? 0)).toBe(true);
    expect(seeded.messages.some((m) => ((m as { embeds?: unknown[] }).embeds ?? []).length > 0)).toBe(true);
  });
});

describe('discord', () => {
  const source = (token = 'bot-token', retry = fast) =>
    createDiscordChannelSource({ token, baseUrl: `${discord.url}/api`, timeoutMs: 2_000, retry });

  it('pages after a snowflake, newest first, 100 at most', async () => {
    // Act
    const page = (await source().fetchPage({ channelId: CHANNEL, after: '0', limit: 100 })) as {
      id: string;
    }[];

    // Assess
    expect(page).toHaveLength(100);
    expect(BigInt(page[0]?.id ?? 0) > BigInt(page[99]?.id ?? 0)).toBe(true);
    expect(discord.faults.calls.at(-1)?.path).toBe(`/api/v10/channels/${CHANNEL}/messages`);
  });

  it('a bad token is an AuthError', async () => {
    // Act + Assess
    await expect(
      source('wrong').fetchPage({ channelId: CHANNEL, after: '0', limit: 5 }),
    ).rejects.toBeInstanceOf(AuthError);
  });

  it("honours a 429's retry_after, and hands a longer wait back as RateLimitedError", async () => {
    // Prepare
    discord.faults.add({ kind: 'rate-limit', path: '/messages', retryAfterSeconds: 1 });
    const started = Date.now();

    // Act
    const page = await source().fetchPage({ channelId: CHANNEL, after: '0', limit: 5 });
    discord.faults.add({ kind: 'rate-limit', path: '/messages', retryAfterSeconds: 30 });
    const refused = source().fetchPage({ channelId: CHANNEL, after: '0', limit: 5 });

    // Assess
    expect(page).toHaveLength(5);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    await expect(refused).rejects.toBeInstanceOf(RateLimitedError);
  });

  it('retries a 500, and reports a lasting one as TransientError', async () => {
    // Prepare
    discord.faults.add({ kind: 'server-error', path: '/messages' });

    // Act
    const page = await source().fetchPage({ channelId: CHANNEL, after: '0', limit: 3 });
    discord.faults.add({ kind: 'server-error', path: '/messages', times: 10 });
    const down = source().fetchPage({ channelId: CHANNEL, after: '0', limit: 3 });

    // Assess
    expect(page).toHaveLength(3);
    await expect(down).rejects.toBeInstanceOf(TransientError);
    discord.faults.clear();
  });
});

describe('sheets', () => {
  const store = (book = 'book-1', token = 'sheet-token') =>
    createSheetStore({
      spreadsheetId: book,
      auth: createGoogleAuth(token),
      rootUrl: `${sheets.url}/`,
      timeoutMs: 2_000,
      retry: fast,
    });

  it('creates a tab with headers, appends and reads back values with commas, quotes and newlines', async () => {
    // Prepare
    const s = store();
    const headers = await s.ensureTab('Posts', ['message_id', 'content']);

    // Act
    await s.appendRows('Posts', headers, [
      { message_id: '1', content: 'a, "b"\nc' },
      { message_id: '2', content: '日本 🚀' },
    ]);
    const column = await store().readColumn(['Posts', 'Missing'], 'message_id');
    const table = await store().readTable('Posts');

    // Assess
    expect(sheets.tab('book-1', 'Posts')?.[0]).toEqual(['message_id', 'content']);
    expect(column.get('Posts')).toEqual(['1', '2']);
    expect(column.get('Missing')).toEqual([]);
    expect(table.rows.map((r) => r.values.content)).toEqual(['a, "b"\nc', '日本 🚀']);
  });

  it('adds missing headers at the end and respects columns moved by hand', async () => {
    // Prepare
    sheets.setTab('book-2', 'Posts', [
      ['content', 'notes', 'message_id'],
      ['x', 'keep', '9'],
    ]);
    const s = store('book-2');

    // Act
    const headers = await s.ensureTab('Posts', ['message_id', 'content', 'summary']);
    await s.appendRows('Posts', headers, [{ message_id: '10', content: 'y', summary: 'z' }]);
    await s.updateTabs([
      { tab: 'Posts', headers, updates: [{ rowNumber: 2, values: { summary: 'updated' } }] },
    ]);

    // Assess
    expect(sheets.tab('book-2', 'Posts')).toEqual([
      ['content', 'notes', 'message_id', 'summary'],
      ['x', 'keep', '9', 'updated'],
      ['y', '', '10', 'z'],
    ]);
  });

  it('moves rows to the archive in one atomic batchUpdate: a failure changes neither tab', async () => {
    // Prepare
    const s = store('book-2');
    const archiveHeaders = await s.ensureTab('Archive', ['message_id', 'content']);
    const before = { main: sheets.tab('book-2', 'Posts'), archive: sheets.tab('book-2', 'Archive') };
    sheets.faults.add({ kind: 'server-error', method: 'POST', path: /[^s]:batchUpdate$/, times: 10 });

    // Act
    const move = {
      mainTab: 'Posts',
      mainHeaders: ['content', 'notes', 'message_id', 'summary'],
      archiveTab: 'Archive',
      archiveHeaders,
      archiveRow: 2,
      rows: [2],
      drop: [],
      stamp: {},
    };
    const failed = s.moveRows(move);
    await expect(failed).rejects.toBeInstanceOf(TransientError);
    sheets.faults.clear();
    const calls = sheets.faults.calls.length;
    await s.moveRows(move);

    // Assess
    expect(before.main).toHaveLength(3);
    expect(sheets.tab('book-2', 'Posts')?.map((r) => r[2])).toEqual(['message_id', '10']);
    expect(sheets.tab('book-2', 'Archive')?.[1]).toEqual(['9', 'x']);
    expect(sheets.faults.calls.length - calls).toBe(1);
  });

  it("writes another tab's cells in the move's atomic batchUpdate, or alone when nothing moves", async () => {
    // Prepare
    const draftHeaders = ['run_id', 'status', 'post_id', 'post_url'];
    sheets.setTab('book-2', 'Drafts', [draftHeaders, ['r1', 'drafted'], ['r2', 'drafted']]);
    sheets.setTab('book-2', 'Posts', [
      ['message_id', 'content'],
      ['11', 'a'],
      ['12', 'b'],
    ]);
    const s = store('book-2');
    const archiveHeaders = await s.ensureTab('Archive', ['message_id', 'content']);
    const mark = (rowNumber: number, values: Record<string, string>) => [
      { tab: 'Drafts', headers: draftHeaders, updates: [{ rowNumber, values }] },
    ];
    const move = {
      mainTab: 'Posts',
      mainHeaders: ['message_id', 'content'],
      archiveTab: 'Archive',
      archiveHeaders,
      archiveRow: (sheets.tab('book-2', 'Archive')?.length ?? 1) + 1,
      rows: [2],
      drop: [],
      stamp: {},
      writes: mark(2, { status: 'published', post_id: '77', post_url: 'https://x.com/i/status/77' }),
    };
    sheets.faults.add({ kind: 'server-error', method: 'POST', path: /[^s]:batchUpdate$/, times: 10 });

    // Act
    await expect(s.moveRows(move)).rejects.toBeInstanceOf(TransientError);
    const afterFailure = sheets.tab('book-2', 'Drafts');
    sheets.faults.clear();
    const calls = sheets.faults.calls.length;
    await s.moveRows(move);
    await s.moveRows({ ...move, rows: [], writes: mark(3, { status: 'not-published' }) });

    // Assess
    expect(afterFailure?.slice(1)).toEqual([
      ['r1', 'drafted'],
      ['r2', 'drafted'],
    ]);
    expect(sheets.tab('book-2', 'Drafts')?.slice(1)).toEqual([
      ['r1', 'published', '77', 'https://x.com/i/status/77'],
      ['r2', 'not-published'],
    ]);
    expect(sheets.tab('book-2', 'Posts')?.map((r) => r[0])).toEqual(['message_id', '12']);
    expect(sheets.tab('book-2', 'Archive')?.at(-1)).toEqual(['11', 'a']);
    expect(sheets.faults.calls.slice(calls).map((c) => `${c.method} ${c.path}`)).toEqual([
      'POST /v4/spreadsheets/book-2:batchUpdate',
      'POST /v4/spreadsheets/book-2:batchUpdate',
    ]);
  });

  it('a bad token is an AuthError; a 429 is waited out', async () => {
    // Prepare
    sheets.faults.add({ kind: 'rate-limit', method: 'GET' });

    // Act
    const table = await store().readTable('Posts');

    // Assess
    expect(table.rows.length).toBe(2);
    await expect(store('book-1', 'wrong').readTable('Posts')).rejects.toBeInstanceOf(AuthError);
  });
});

describe('gemini', () => {
  const analyzer = (apiKey = 'gem-key') =>
    createGeminiAnalyzer({ apiKey, baseUrl: gemini.url, timeoutMs: 2_000, retry: fast });
  const settings = { model: 'gemini-2.5-flash', topic: 'AI', language: 'English', temperature: 0.2 };
  const posts = Array.from({ length: 30 }, (_, i) => ({
    messageId: String(i),
    content: i % 2 ? 'Launching our new agent framework today, with docs and a waitlist for everyone' : 'gm',
    postLink: `https://x.com/p${i}/status/${i}`,
    author: `@p${i}`,
  }));

  it('analyses a whole batch in one structured-output request', async () => {
    // Prepare
    const before = gemini.requests.length;

    // Act
    const result = await analyzer().analyzePosts(posts, settings);

    // Assess
    expect(gemini.requests.length - before).toBe(1);
    const request = gemini.requests.at(-1) as { generationConfig?: Record<string, unknown> };
    expect(request.generationConfig).toMatchObject({ responseMimeType: 'application/json' });
    expect(result).toHaveLength(30);
    expect(result.every((r) => r.summary.split(/\s+/).length <= 25)).toBe(true);
    expect(result.find((r) => r.messageId === '1')?.isNewProject).toBe(true);
  });

  it.each([
    ['not JSON', 'Here you go!', 'STOP'],
    ['the wrong shape', '{"a":1}', 'STOP'],
    ['empty at MAX_TOKENS', '', 'MAX_TOKENS'],
  ])('an answer that is %s is an InvalidResponseError', async (_l, text, reason) => {
    // Prepare
    gemini.queueAnswer(text, reason);

    // Act + Assess
    await expect(analyzer().analyzePosts(posts, settings)).rejects.toBeInstanceOf(InvalidResponseError);
  });

  it('waits out a 429 with its RetryInfo, retries a 500; a bad key is permanent', async () => {
    // Prepare
    gemini.faults.add({ kind: 'rate-limit', retryAfterSeconds: 1 });
    gemini.faults.add({ kind: 'server-error', nth: 2 });

    // Act
    const draft = await analyzer().writeDraft(
      [
        {
          messageId: '1',
          isNewProject: true,
          projectHandle: '@p1',
          projectLink: 'x',
          summary: 'New',
          postLink: 'https://x.com/p1/status/1',
        },
      ],
      { ...settings, maxDraftItems: 3, targetLength: 280, dateLabel: 'Nov 24' },
    );

    // Assess
    expect(draft).toContain('@p1');
    await expect(analyzer('bad').analyzePosts(posts, settings)).rejects.toThrow(/gemini answered 400/);
  });
});
