import { describe, expect, it } from 'vitest';
import { RAW_MESSAGES_TAG } from '../../shared/config/resources';
import { csvToPosts } from '../../shared/domain/csv';
import { ConfigError, RateLimitedError } from '../../shared/errors';
import {
  chunkKeyOf,
  collectChannelPosts,
  csvKeyOf,
  missingMessageContentIntent,
  rawKeyOf,
} from '../../shared/pipeline/collect';
import type { StepInput } from '../../shared/pipeline/run-state';
import type { ChannelPageRequest, ChannelSource } from '../../shared/ports';
import { FakeChannel, FakeObjectStore, FakeSheetStore, silentLog, testPipeline } from '../support/fakes';
import { runRef } from '../support/harness';
import { linkMessages, message } from '../support/messages';

const T = '2026-11-24T09:00:00.000Z';
const input = (): StepInput => ({ run: runRef('r1', T), steps: {} });

function deps(channel: ChannelSource, fetchLimit: number, store = new FakeObjectStore()) {
  const pipeline = testPipeline({
    discord: { channelId: '1200000000000000000', window: { mode: 'daily', days: 1 }, fetchLimit },
  });
  const sheet = new FakeSheetStore();
  return { pipeline, channel, store, sheet: async () => sheet, log: silentLog };
}

/** Fails the n-th page request once with the given error, then answers like FakeChannel. */
class FlakyChannel extends FakeChannel {
  private calls = 0;
  constructor(
    messages: { id: string }[],
    private readonly failOn: number,
    private readonly error: Error,
  ) {
    super(messages);
  }
  override async fetchPage(request: ChannelPageRequest): Promise<unknown[]> {
    this.calls += 1;
    if (this.calls === this.failOn) throw this.error;
    return super.fetchPage(request);
  }
}

describe('missingMessageContentIntent', () => {
  it.each([
    [{ blank: 0, readable: 0 }, false, 'an empty window proves nothing'],
    [{ blank: 0, readable: 50 }, false, 'all readable'],
    [{ blank: 3, readable: 40 }, false, 'a few odd blank messages among normal ones'],
    [{ blank: 1, readable: 0 }, true, 'every authored message blank'],
    [{ blank: 200, readable: 2 }, true, 'all blank but the two that mention the bot'],
    [{ blank: 9, readable: 1 }, false, 'too few to tell'],
  ])('%o → %s (%s)', (counts, expected) => {
    // Act + Assess
    expect(missingMessageContentIntent(counts)).toBe(expected);
  });
});

describe('collectChannelPosts', () => {
  it('fails with a ConfigError naming MESSAGE_CONTENT when every message comes back blank', async () => {
    // Prepare
    const blank = linkMessages(T, 30).map((m) => ({ ...m, content: '' }));
    const d = deps(new FakeChannel(blank), 1000);

    // Act
    const collected = collectChannelPosts(d, input());

    // Assess
    await expect(collected).rejects.toBeInstanceOf(ConfigError);
    await expect(collected).rejects.toThrow(/MESSAGE_CONTENT.*Developer Portal/);
    expect(d.store.objects.size).toBe(0);
  });

  it('succeeds on an empty window and on a window with a few blank messages among normal ones', async () => {
    // Prepare
    const mixed = [...linkMessages(T, 20), message(T, 300, ''), message(T, 301, '')];

    // Act
    const empty = await collectChannelPosts(deps(new FakeChannel([]), 1000), input());
    const some = await collectChannelPosts(deps(new FakeChannel(mixed), 1000), input());

    // Assess
    expect(empty.status).toBe('succeeded');
    expect(some.status).toBe('succeeded');
    expect(some.counts.postsKept).toBe(20);
  });

  it('ends partial at the fetch limit, and --resume continues where it stopped: nothing lost, nothing twice', async () => {
    // Prepare
    const messages = linkMessages(T, 250);
    const store = new FakeObjectStore();
    const channel = new FakeChannel(messages);

    // Act
    const first = await collectChannelPosts(deps(channel, 100, store), input());
    const csvAfterFirst = store.objects.has(csvKeyOf('demo', 'r1'));
    const second = await collectChannelPosts(deps(channel, 100, store), input());
    const third = await collectChannelPosts(deps(channel, 100, store), input());

    // Assess
    expect(first.status).toBe('partial');
    expect(first.counts).toMatchObject({ messagesSeen: 100, postsKept: 100, truncated: 1, partsStored: 1 });
    expect(first.notes?.reason).toMatch(/fetch limit of 100 messages.*--resume continues after message \d+/);
    expect(first.notes?.stoppedAfterId).toBe(messages[150]?.id);
    expect(csvAfterFirst).toBe(false);
    expect(second.status).toBe('partial');
    expect(third.status).toBe('succeeded');
    expect(third.counts).toMatchObject({ messagesSeen: 250, postsKept: 250, partsResumed: 2 });
    const posts = csvToPosts(store.objects.get(csvKeyOf('demo', 'r1')) ?? '');
    expect(new Set(posts.map((p) => p.messageId)).size).toBe(250);
    expect(posts.map((p) => p.messageId)).toEqual(messages.map((m) => m.id).reverse());
    expect(JSON.parse(store.objects.get(rawKeyOf('demo', 'r1')) ?? '[]')).toHaveLength(250);
    // The raw messages, in the file and in each chunk, carry the tag their shorter retention expires them by;
    // the CSV and the chunks' manifest do not.
    const tagged = [...store.tags.keys()].sort();
    expect(tagged).toEqual(
      [...store.objects.keys()]
        .filter((k) => k.endsWith('messages.json') || /\/chunks\/\d+\.json$/.test(k))
        .sort(),
    );
    expect(tagged.length).toBeGreaterThan(1);
    for (const key of tagged)
      expect(store.tags.get(key)).toEqual({ [RAW_MESSAGES_TAG.key]: RAW_MESSAGES_TAG.value });
    // Each request starts after the newest id read before it.
    const afters = channel.requests.map((r) => r.after);
    expect(new Set(afters).size).toBe(afters.length);
  });

  it('keeps raw messages and posts exact through its chunks, even messages that spell the chunk keys', async () => {
    // Prepare: texts and fields that look like the chunk's own keys, read back across a resume.
    const messages = linkMessages(T, 30).map((m, i) =>
      i % 4 === 0
        ? { ...m, content: `${m.content} ,"posts":[ ,"raw":[ "}]`, extra: { posts: [i], raw: ['"posts":'] } }
        : m,
    );
    const store = new FakeObjectStore();
    const channel = new FakeChannel(messages);

    // Act
    const first = await collectChannelPosts(deps(channel, 20, store), input());
    const second = await collectChannelPosts(deps(channel, 20, store), input());

    // Assess
    expect([first.status, second.status]).toEqual(['partial', 'succeeded']);
    const byId = (list: { id: string }[]) => [...list].sort((a, b) => a.id.localeCompare(b.id));
    expect(byId(JSON.parse(store.objects.get(rawKeyOf('demo', 'r1')) ?? '[]'))).toEqual(byId(messages));
    const posts = csvToPosts(store.objects.get(csvKeyOf('demo', 'r1')) ?? '');
    expect(posts).toHaveLength(30);
    expect(posts.filter((p) => p.content.includes(',"posts":[ ,"raw":[ "}]'))).toHaveLength(8);
  });

  it('dedupes a status posted in two parts under two spellings', async () => {
    // Prepare
    const messages = [
      message(T, 10, 'first https://x.com/acme/status/777'),
      message(T, 5, 'again <https://fxtwitter.com/acme/status/777>'),
    ];
    const store = new FakeObjectStore();

    // Act
    const channel = new FakeChannel(messages);
    const records = [];
    // One message per invocation: the last one reads the empty page that proves the window's end.
    for (let i = 0; i < 3; i += 1) records.push(await collectChannelPosts(deps(channel, 1, store), input()));
    const done = records[2];

    // Assess
    expect(records.map((r) => r.status)).toEqual(['partial', 'partial', 'succeeded']);
    expect(done?.counts).toMatchObject({ postsKept: 1, duplicateLinks: 1 });
  });

  it('saves what it read before a long rate limit, so --resume reads only the rest', async () => {
    // Prepare
    const messages = linkMessages(T, 250);
    const store = new FakeObjectStore();
    const limited = new RateLimitedError('discord shared rate limit exhausted', 600_000);
    const flaky = new FlakyChannel(messages, 2, limited);

    // Act
    const interrupted = collectChannelPosts(deps(flaky, 1000, store), input());
    await expect(interrupted).rejects.toBe(limited);
    const resumed = await collectChannelPosts(deps(flaky, 1000, store), input());

    // Assess
    expect(store.objects.has(chunkKeyOf('demo', 'r1', 1))).toBe(true);
    expect(resumed.status).toBe('succeeded');
    expect(resumed.counts).toMatchObject({ messagesSeen: 250, postsKept: 250, discordRequests: 2 });
  });

  it('stops at its time budget and ends partial', async () => {
    // Prepare
    let clock = 0;
    const channel: ChannelSource = {
      fetchPage: async (request) => {
        clock += 60_000; // each page takes a minute
        return new FakeChannel(linkMessages(T, 500)).fetchPage(request);
      },
    };

    // Act
    const record = await collectChannelPosts(
      { ...deps(channel, 1000), budgetMs: 150_000, now: () => clock },
      input(),
    );

    // Assess
    expect(record.status).toBe('partial');
    expect(record.counts.messagesSeen).toBe(300);
    expect(record.notes?.reason).toMatch(/time budget/);
  });

  it('out of time, asks the state machine to run it again, and the next invocation goes on where it stopped', async () => {
    // Prepare: each page takes a minute; a budget of 2.5 minutes reads three pages an invocation.
    let clock = 0;
    const inner = new FakeChannel(linkMessages(T, 450));
    const channel: ChannelSource = {
      fetchPage: async (request) => {
        clock += 60_000;
        return inner.fetchPage(request);
      },
    };
    const store = new FakeObjectStore();
    const timed = { ...deps(channel, 1000, store), budgetMs: 150_000, now: () => clock };

    // Act
    const first = await collectChannelPosts(timed, input());
    const second = await collectChannelPosts(timed, { ...input(), steps: { collect: first } });

    // Assess
    expect(first).toMatchObject({ status: 'partial', continues: true });
    expect(first.counts).toMatchObject({ messagesSeen: 300, discordRequests: 3 });
    expect(second.status).toBe('succeeded');
    expect(second.continues).toBeUndefined();
    expect(second.counts).toMatchObject({ messagesSeen: 450, postsKept: 450, discordRequests: 5 });
  });

  it('stops at the fetch limit without asking to be run again: the limit is the user’s', async () => {
    // Act
    const record = await collectChannelPosts(deps(new FakeChannel(linkMessages(T, 500)), 200), input());

    // Assess
    expect(record.status).toBe('partial');
    expect(record.continues).toBeUndefined();
  });

  it('fails naming Read Message History when nothing comes back but the channel has a message in the window', async () => {
    // Prepare
    const lastId = message(T, 30, 'hidden').id;
    const channel: ChannelSource = { fetchPage: async () => [], lastMessageId: async () => lastId };
    const quiet: ChannelSource = {
      fetchPage: async () => [],
      lastMessageId: async () => message(T, 3000, 'old').id,
    };

    // Act
    const hidden = collectChannelPosts(deps(channel, 1000), input());
    const calm = await collectChannelPosts(deps(quiet, 1000), input());

    // Assess
    await expect(hidden).rejects.toThrow(/Read Message History/);
    await expect(hidden).rejects.toBeInstanceOf(ConfigError);
    expect(calm.status).toBe('succeeded');
  });

  it('stores the window as chunks of at most 1,000 messages while it reads, and the CSV from them once', async () => {
    // Prepare: the channel notes how many chunks are stored when each page is asked for.
    // A message a minute: 1,400 fit the one-day window.
    const messages = linkMessages(T, 1_400);
    const store = new FakeObjectStore();
    const inner = new FakeChannel(messages);
    const chunksAtPage: number[] = [];
    const channel: ChannelSource = {
      fetchPage: async (request) => {
        chunksAtPage.push([...store.objects.keys()].filter((k) => /chunks\/\d+\.json$/.test(k)).length);
        return inner.fetchPage(request);
      },
    };

    // Act
    const record = await collectChannelPosts(deps(channel, 5_000, store), input());

    // Assess
    expect(record).toMatchObject({
      status: 'succeeded',
      counts: { messagesSeen: 1_400, postsKept: 1_400, chunks: 2 },
    });
    // Chunk 1 is stored before page 11 is read: the channel is never held whole.
    expect(chunksAtPage.slice(0, 11)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    const sizes = [1, 2].map(
      (n) =>
        (JSON.parse(store.objects.get(chunkKeyOf('demo', 'r1', n)) ?? '{}') as { raw: unknown[] }).raw.length,
    );
    expect(sizes).toEqual([1_000, 400]);
    // The CSV streamed from the chunks: one header, every post once, in message order.
    const csv = store.objects.get(csvKeyOf('demo', 'r1')) ?? '';
    expect(csv.match(/^message_id,/gm)).toHaveLength(1);
    expect(csvToPosts(csv).map((p) => p.messageId)).toEqual(messages.map((m) => m.id).reverse());
    expect(JSON.parse(store.objects.get(rawKeyOf('demo', 'r1')) ?? '[]')).toHaveLength(1_400);
  });
});
