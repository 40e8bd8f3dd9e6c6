import { processedPrefix, RAW_MESSAGES_TAG, runPrefix } from '../config/resources';
import type { PipelineConfig } from '../config/schema';
import { csvToPosts, postsToCsv } from '../domain/csv';
import { contentVisibility, messageToPost } from '../domain/discord-message';
import { extractXStatusLinks } from '../domain/links';
import { type CollectedPost, KEY_COLUMN } from '../domain/post';
import { compareSnowflakes, isSnowflake, maxSnowflake, snowflakeToMs } from '../domain/snowflake';
import { collectionWindow } from '../domain/window';
import { ConfigError, PermanentError, TransientError } from '../errors';
import type { ChannelSource, ObjectStore, SheetStore, StepRecord } from '../ports';
import { partial, type StepInput, skipped, stepOutcome, succeeded } from './run-state';

export interface CollectDeps {
  pipeline: PipelineConfig;
  channel: ChannelSource;
  store: ObjectStore;
  /** Needed only for the since_last window. */
  sheet: () => Promise<SheetStore>;
  log: (message: string, data: Record<string, unknown>) => void;
  /**
   * How long one invocation may spend reading before it stops and ends partial.
   * Default 8 minutes: the Collect Lambda times out at 10 (infra/pipeline-stack.ts).
   */
  budgetMs?: number;
  now?: () => number;
}

const PAGE_SIZE = 100;
const DEFAULT_BUDGET_MS = 8 * 60_000;

/** Raw messages (in the messages file and in each part) hold user names: tagged to expire sooner than the run. */
const RAW_MESSAGES = { tags: { [RAW_MESSAGES_TAG.key]: RAW_MESSAGES_TAG.value } };

export const csvKeyOf = (pipelineId: string, runId: string) => `${runPrefix(pipelineId, runId)}posts.csv`;
export const rawKeyOf = (pipelineId: string, runId: string) => `${runPrefix(pipelineId, runId)}messages.json`;
/** The n-th stretch of the window, stored as it was read (write-once), numbered from 1. */
export const chunkKeyOf = (pipelineId: string, runId: string, n: number) =>
  `${runPrefix(pipelineId, runId)}chunks/${String(n).padStart(5, '0')}.json`;
/** Written last, when the whole window is stored: how many chunks, and what they hold. */
export const manifestKeyOf = (pipelineId: string, runId: string) =>
  `${runPrefix(pipelineId, runId)}chunks/manifest.json`;

/** Messages per chunk: ten pages. A chunk (raw messages and posts) stays a few MiB at most. */
export const CHUNK_MESSAGES = 1_000;

export interface CollectManifest {
  chunks: number;
  posts: number;
  messages: number;
  windowFrom: string;
  windowUntil: string;
}

async function loadManifest(store: ObjectStore, pipelineId: string, runId: string) {
  const text = await store.getText(manifestKeyOf(pipelineId, runId));
  return text === undefined ? undefined : (JSON.parse(text) as CollectManifest);
}

/**
 * A run's collected posts, one chunk at a time: from its chunks when the run
 * stored them whole (the manifest says so), else from its posts.csv, where it
 * is now (a run collected before chunks, or archived under processed/).
 */
export async function* readRunPosts(
  store: ObjectStore,
  pipelineId: string,
  runId: string,
): AsyncGenerator<CollectedPost[]> {
  const manifest = await loadManifest(store, pipelineId, runId);
  if (manifest) {
    for (let n = 1; n <= manifest.chunks; n += 1) {
      const chunk = await readChunk(store, pipelineId, runId, n);
      if (!chunk)
        throw new PermanentError(`chunk ${chunkKeyOf(pipelineId, runId, n)} of the manifest is missing`);
      yield chunk.posts;
    }
    return;
  }
  const csv = await readRunCsv(store, pipelineId, runId);
  if (csv) yield csvToPosts(csv.text);
}

/**
 * The run's chunk files, manifest first, where they are now: Archive moves them under processed/ with the
 * CSV, manifest first, so a reader never finds a manifest whose chunks are gone (it reads the CSV then).
 */
export async function chunkFilesOf(store: ObjectStore, pipelineId: string, runId: string): Promise<string[]> {
  const key = manifestKeyOf(pipelineId, runId);
  const moved = `${processedPrefix(pipelineId, runId)}chunks/manifest.json`;
  const text = (await store.getText(key)) ?? (await store.getText(moved));
  if (text === undefined) return [];
  const { chunks } = JSON.parse(text) as CollectManifest;
  return [key, ...Array.from({ length: chunks }, (_, i) => chunkKeyOf(pipelineId, runId, i + 1))];
}

/** Where the run's CSV is, if its posts are stored (the manifest, or the CSV itself for older runs). */
export async function runPostsKey(store: ObjectStore, pipelineId: string, runId: string) {
  if (await loadManifest(store, pipelineId, runId)) return csvKeyOf(pipelineId, runId);
  return (await readRunCsv(store, pipelineId, runId))?.key;
}

/** A run's CSV, where it is now: under runs/ until the run is archived, under processed/ after. */
export async function readRunCsv(
  store: ObjectStore,
  pipelineId: string,
  runId: string,
): Promise<{ key: string; text: string } | undefined> {
  for (const key of [csvKeyOf(pipelineId, runId), `${processedPrefix(pipelineId, runId)}posts.csv`]) {
    const text = await store.getText(key);
    if (text !== undefined) return { key, text };
  }
  return undefined;
}

export interface ChannelCounts {
  messagesSeen: number;
  malformed: number;
  withoutLink: number;
  duplicateLinks: number;
  /** Messages a person or bot wrote that came back with nothing to read (see contentVisibility). */
  blank: number;
  /** Messages a person or bot wrote that came back with something to read. */
  readable: number;
}

/** A stretch of the window as read: the messages and posts of up to CHUNK_MESSAGES messages. */
export interface ChannelChunk extends ChannelCounts {
  posts: CollectedPost[];
  raw: unknown[];
  pages: number;
  /** Where the next read starts: after the newest message read so far. */
  cursor: string;
}

export interface CollectedChannel extends ChannelCounts {
  pages: number;
  cursor: string;
  /** Why reading stopped: the window's end, the fetch limit or the time budget. */
  stop: 'end' | 'limit' | 'time';
  /** What was read since the last chunk handed to `onChunk` (all of it without one). */
  rest: ChannelChunk;
}

const zeroCounts = (): ChannelCounts => ({
  messagesSeen: 0,
  malformed: 0,
  withoutLink: 0,
  duplicateLinks: 0,
  blank: 0,
  readable: 0,
});

/** One post per X status, however it was spelled; under `any`, one per link. */
export const dedupeKeyOf = (post: CollectedPost) =>
  extractXStatusLinks(post.postLink)[0]?.statusId ?? post.postLink;

/**
 * Read the channel forward from `afterId` to `untilId`, 100 messages a request,
 * at most `discord.fetchLimit` messages and `budgetMs` of time. Discord answers
 * newest-first even when paging forward, so each page is sorted and the cursor
 * moves to its highest id. `seenKeys` carries the posts of earlier chunks of the
 * run. Every CHUNK_MESSAGES messages the stretch read is handed to `onChunk`
 * and let go, so memory holds one chunk, not the channel. A failure after some
 * pages is thrown with the unstored stretch attached.
 */
export async function readChannel(
  deps: Pick<CollectDeps, 'pipeline' | 'channel' | 'log' | 'budgetMs' | 'now'>,
  afterId: string,
  untilId: string,
  seenKeys: Set<string> = new Set(),
  onChunk?: (chunk: ChannelChunk, total: ChannelCounts) => Promise<void>,
): Promise<CollectedChannel> {
  const { discord } = deps.pipeline;
  const now = deps.now ?? Date.now;
  const deadline = now() + (deps.budgetMs ?? DEFAULT_BUDGET_MS);
  const newChunk = (cursor: string): ChannelChunk => ({
    ...zeroCounts(),
    posts: [],
    raw: [],
    pages: 0,
    cursor,
  });
  const total: CollectedChannel = {
    ...zeroCounts(),
    pages: 0,
    cursor: afterId,
    stop: 'end',
    rest: newChunk(afterId),
  };
  let chunk = total.rest;
  for (;;) {
    if (total.messagesSeen >= discord.fetchLimit) {
      total.stop = 'limit';
      break;
    }
    if (total.pages > 0 && now() >= deadline) {
      total.stop = 'time';
      break;
    }
    const limit = Math.min(PAGE_SIZE, discord.fetchLimit - total.messagesSeen);
    let page: unknown[];
    try {
      page = await deps.channel.fetchPage({ channelId: discord.channelId, after: total.cursor, limit });
    } catch (error) {
      throw new ReadInterrupted(error, total);
    }
    total.pages += 1;
    chunk.pages += 1;
    const next = maxSnowflake(page.map(idOf).filter(isSnowflake));
    const inWindow = page
      .filter((m) => {
        const id = idOf(m);
        // Messages without a usable id cannot be placed; they are judged (and counted) as malformed below.
        return !isSnowflake(id) || compareSnowflakes(id, untilId) <= 0;
      })
      .sort((a, b) => compareIds(idOf(a), idOf(b)));
    for (const raw of inWindow) {
      chunk.raw.push(raw);
      const visibility = contentVisibility(raw);
      const verdict = messageToPost(raw, discord.linkFilter);
      for (const counts of [chunk, total]) {
        counts.messagesSeen += 1;
        if (visibility !== 'unknown') counts[visibility] += 1;
        if (verdict.kind === 'malformed') counts.malformed += 1;
        else if (verdict.kind === 'no-link') counts.withoutLink += 1;
      }
      if (verdict.kind === 'malformed') {
        deps.log('malformed message skipped', { messageId: verdict.messageId, reason: verdict.reason });
      } else if (verdict.kind === 'kept') {
        // Status ids, one per post: bounded by the posts kept (a few MB at 100,000), unlike the messages.
        if (seenKeys.has(dedupeKeyOf(verdict.post))) {
          chunk.duplicateLinks += 1;
          total.duplicateLinks += 1;
        } else {
          seenKeys.add(dedupeKeyOf(verdict.post));
          chunk.posts.push(verdict.post);
        }
      }
    }
    const reachedEnd = page.length < limit || !next || compareSnowflakes(next, untilId) >= 0;
    if (next && compareSnowflakes(next, total.cursor) > 0) total.cursor = next;
    chunk.cursor = total.cursor;
    if (reachedEnd) {
      total.stop = 'end';
      break;
    }
    if (onChunk && chunk.messagesSeen >= CHUNK_MESSAGES) {
      // A failure to store it is thrown as it is: nothing of the chunk was kept, a resume reads it again.
      await onChunk(chunk, total);
      chunk = newChunk(total.cursor);
      total.rest = chunk;
    }
  }
  return total;
}

/** A read that failed after some pages: the pages not yet stored are saved before the error goes on. */
class ReadInterrupted extends Error {
  constructor(
    readonly error: unknown,
    readonly progress: CollectedChannel,
  ) {
    super('read interrupted');
  }
}

function idOf(raw: unknown): string | undefined {
  return typeof raw === 'object' && raw !== null && 'id' in raw && typeof raw.id === 'string'
    ? raw.id
    : undefined;
}

function compareIds(a: string | undefined, b: string | undefined): number {
  if (isSnowflake(a) && isSnowflake(b)) return compareSnowflakes(a, b);
  return isSnowflake(a) ? -1 : isSnowflake(b) ? 1 : 0;
}

/**
 * Whether the messages read show that the bot lacks the MESSAGE_CONTENT intent.
 * Discord requires every message a person or bot sends to carry content, an
 * embed, an attachment, components, a sticker or a poll, so an authored message
 * with none of them was blanked by the missing intent. Messages that mention
 * the bot (and its own) keep their content without the intent, so a window
 * that is nine tenths blank (at least ten of them) is just as telling as an
 * all-blank one. An empty window proves nothing, and a few odd blank messages
 * among normal ones stay below both bars.
 */
export function missingMessageContentIntent(counts: Pick<ChannelCounts, 'blank' | 'readable'>): boolean {
  if (counts.blank === 0) return false;
  if (counts.readable === 0) return true;
  return counts.blank >= 10 && counts.blank >= 9 * counts.readable;
}

/** The newest message id anywhere in the sheet: the start of a since_last window. */
async function newestKnownId(sheet: SheetStore, pipeline: PipelineConfig): Promise<string | undefined> {
  const { mainTab, archiveTab } = pipeline.sheet;
  const columns = await sheet.readColumn([mainTab, archiveTab], KEY_COLUMN);
  return maxSnowflake([...columns.values()].flat());
}

/**
 * One stretch of the window, stored as it was read: written once
 * (putIfAbsent), never rewritten, numbered from 1. The last one's cursor is
 * where a resume goes on.
 */
interface CollectChunk {
  /** The window's end, fixed by the first chunk so a resume reads the same window. */
  untilId: string;
  windowFrom: string;
  /** Where the next chunk starts. */
  cursor: string;
  raw: unknown[];
  posts: CollectedPost[];
  counts: ChannelCounts;
}

/** A stored chunk as read back: its raw messages as the JSON text of their array, never parsed. */
type ChunkView = Omit<CollectChunk, 'raw'> & { rawJson: string };

const RAW_KEY = ',"raw":';
const POSTS_KEY = ',"posts":';

/**
 * saveChunk's JSON has its keys in CollectChunk's order (untilId, windowFrom, cursor, raw, posts, counts),
 * so the raw messages are the text between `,"raw":` (its first place: the fields before it are ids and
 * times) and `,"posts":` (its last place: posts and counts hold no such key, and a quote in a string is
 * escaped). Only the posts are parsed: a reader never builds the thousand messages' objects it does not
 * use. Any other layout is parsed whole.
 */
function parseChunk(text: string): ChunkView {
  const rawAt = text.indexOf(RAW_KEY);
  const postsAt = text.lastIndexOf(POSTS_KEY);
  if (rawAt > 0 && postsAt > rawAt) {
    const rawJson = text.slice(rawAt + RAW_KEY.length, postsAt);
    try {
      const head = JSON.parse(`${text.slice(0, rawAt)}}`) as Pick<
        CollectChunk,
        'untilId' | 'windowFrom' | 'cursor'
      >;
      const rest = JSON.parse(`{${text.slice(postsAt + 1)}`) as Pick<CollectChunk, 'posts' | 'counts'>;
      if (rawJson.startsWith('[') && rawJson.endsWith(']') && Array.isArray(rest.posts) && rest.counts) {
        return { untilId: head.untilId, windowFrom: head.windowFrom, cursor: head.cursor, ...rest, rawJson };
      }
    } catch {
      // not saveChunk's layout: parsed whole below
    }
  }
  const { raw, ...chunk } = JSON.parse(text) as CollectChunk;
  return { ...chunk, rawJson: JSON.stringify(raw) };
}

async function readChunk(
  store: ObjectStore,
  pipelineId: string,
  runId: string,
  n: number,
): Promise<ChunkView | undefined> {
  const text = await store.getText(chunkKeyOf(pipelineId, runId, n));
  return text === undefined ? undefined : parseChunk(text);
}

/** What the chunks an earlier attempt stored add up to, read one at a time. */
interface StoredChunks {
  count: number;
  last: ChunkView | undefined;
  counts: ChannelCounts;
  posts: number;
  seenKeys: Set<string>;
}

async function readStoredChunks(
  store: ObjectStore,
  pipelineId: string,
  runId: string,
): Promise<StoredChunks> {
  const stored: StoredChunks = {
    count: 0,
    last: undefined,
    counts: zeroCounts(),
    posts: 0,
    seenKeys: new Set(),
  };
  for (let n = 1; ; n += 1) {
    const chunk = await readChunk(store, pipelineId, runId, n);
    if (!chunk) return stored;
    stored.count = n;
    stored.counts = sumCounts([stored.counts, chunk.counts]);
    stored.posts += chunk.posts.length;
    for (const post of chunk.posts) stored.seenKeys.add(dedupeKeyOf(post));
    // Only the last chunk's cursor and window are needed: the others' messages are let go.
    stored.last = { ...chunk, rawJson: '[]', posts: [] };
  }
}

const sumCounts = (all: ChannelCounts[]): ChannelCounts =>
  all.reduce(
    (sum, c) => ({
      messagesSeen: sum.messagesSeen + c.messagesSeen,
      malformed: sum.malformed + c.malformed,
      withoutLink: sum.withoutLink + c.withoutLink,
      duplicateLinks: sum.duplicateLinks + c.duplicateLinks,
      blank: sum.blank + c.blank,
      readable: sum.readable + c.readable,
    }),
    zeroCounts(),
  );

const countsOf = (c: ChannelCounts): ChannelCounts => ({
  messagesSeen: c.messagesSeen,
  malformed: c.malformed,
  withoutLink: c.withoutLink,
  duplicateLinks: c.duplicateLinks,
  blank: c.blank,
  readable: c.readable,
});

/** Discord requests of the earlier invocations, when this one continues a Collect that ran out of time. */
function continuedRequests(input: StepInput): number {
  const earlier = stepOutcome(input, 'collect');
  return earlier?.continues ? (earlier.counts.discordRequests ?? 0) : 0;
}

const timeOf = (id: string) => new Date(snowflakeToMs(id)).toISOString();

function intentError(deps: CollectDeps, counts: ChannelCounts): ConfigError {
  return new ConfigError(
    `discord returned ${counts.blank} messages with empty content, embeds, attachments and components ` +
      `in channel ${deps.pipeline.discord.channelId}: the bot lacks the MESSAGE_CONTENT privileged intent. ` +
      'Enable "Message Content Intent" under Bot → Privileged Gateway Intents in the Discord Developer Portal',
  );
}

/**
 * Collect the channel's posts for this run. Pages are stored as they arrive,
 * every CHUNK_MESSAGES messages as the next `chunks/NNNNN.json` (write-once),
 * so the function holds one chunk, never the channel. Once the window's end
 * is reached, `posts.csv` and `messages.json` are written by streaming the
 * chunks, in order, into one multipart upload each, and then
 * `chunks/manifest.json`: the commit mark of a whole window, never of a piece
 * of it. A re-run of a committed run reuses it instead of reading Discord.
 *
 * A window larger than one invocation may read (the fetch limit, the time
 * budget, a rate limit that resets later) ends partial (or rethrows the
 * error) after storing the stretch read since the last chunk; `--resume`
 * continues after the last chunk's cursor, so no message is read twice or
 * skipped. Duplicates by message id cannot recur (ids only grow when paging
 * forward); duplicates by status are found with the status ids of every
 * chunk stored, read back one chunk at a time.
 */
export async function collectChannelPosts(deps: CollectDeps, input: StepInput): Promise<StepRecord> {
  const started = Date.now();
  const { run } = input;
  if (run.sourceRunId) {
    return skipped(started, `replay of ${run.sourceRunId}: its stored CSV is processed again`);
  }
  const csvKey = csvKeyOf(run.pipelineId, run.runId);
  const manifest = await loadManifest(deps.store, run.pipelineId, run.runId);
  if (manifest) {
    deps.log('posts already collected for this run; reusing them', { csvKey, posts: manifest.posts });
    return succeeded(started, { postsKept: manifest.posts }, { csvKey, reused: 'true' });
  }

  const stored = await readStoredChunks(deps.store, run.pipelineId, run.runId);
  const { last } = stored;
  let window: { afterId: string; untilId: string; from: string; until: string };
  if (last) {
    window = {
      afterId: last.cursor,
      untilId: last.untilId,
      from: last.windowFrom,
      until: timeOf(last.untilId),
    };
    deps.log('resuming collection after the stored chunks', { chunks: stored.count, after: last.cursor });
  } else {
    const config = deps.pipeline.discord.window;
    const newest =
      config.mode === 'since_last' ? await newestKnownId(await deps.sheet(), deps.pipeline) : undefined;
    window = collectionWindow(config, new Date(run.referenceTime), newest);
  }

  let chunks = stored.count;
  let postsKept = stored.posts;
  const store = async (chunk: ChannelChunk) => {
    chunks += 1;
    postsKept += chunk.posts.length;
    await saveChunk(deps, run.pipelineId, run.runId, chunks, window, chunk);
  };
  let channel: CollectedChannel;
  try {
    channel = await readChannel(
      deps,
      window.afterId,
      window.untilId,
      stored.seenKeys,
      async (chunk, total) => {
        // Checked before anything is stored: a resume after the intent is granted reads these messages again.
        if (missingMessageContentIntent(sumCounts([stored.counts, total]))) throw intentError(deps, total);
        await store(chunk);
      },
    );
  } catch (error) {
    if (!(error instanceof ReadInterrupted)) throw error;
    if (error.progress.rest.pages > 0) {
      await store(error.progress.rest);
      deps.log('discord failed mid-window; what was read is saved for --resume', {
        stoppedAfter: error.progress.cursor,
      });
    }
    throw error.error;
  }

  const total = sumCounts([stored.counts, channel]);
  if (missingMessageContentIntent(total)) throw intentError(deps, total);
  if (total.messagesSeen === 0) await checkHistoryVisible(deps, window);
  if (channel.rest.pages > 0) await store(channel.rest);

  const counts = {
    messagesSeen: total.messagesSeen,
    malformed: total.malformed,
    withoutLink: total.withoutLink,
    duplicateLinks: total.duplicateLinks,
    postsKept,
    // The invocations before this one of a Collect that continued, so the run's figure is the run's.
    discordRequests: channel.pages + continuedRequests(input),
  };
  if (channel.stop !== 'end') {
    const why =
      channel.stop === 'limit'
        ? `the fetch limit of ${deps.pipeline.discord.fetchLimit} messages was reached`
        : 'the time budget of this invocation ran out';
    const stopped = partial(
      started,
      `${why} with more messages in the window; --resume continues after message ${channel.cursor} (${timeOf(channel.cursor)})`,
      { ...counts, truncated: 1, partsStored: chunks },
      {
        stoppedAfterId: channel.cursor,
        stoppedAt: timeOf(channel.cursor),
        windowFrom: window.from,
        windowUntil: window.until,
      },
    );
    // Out of time, not out of messages: the state machine runs Collect again, which goes on after the last chunk.
    return channel.stop === 'time' ? { ...stopped, continues: true } : stopped;
  }

  // The whole window is stored: the chunks, in order, make the run's files.
  const rawKey = rawKeyOf(run.pipelineId, run.runId);
  const each = (piece: (chunk: ChunkView, n: number) => string) =>
    (async function* () {
      for (let n = 1; n <= chunks; n += 1) {
        const chunk = await readChunk(deps.store, run.pipelineId, run.runId, n);
        if (!chunk)
          throw new TransientError(`chunk ${chunkKeyOf(run.pipelineId, run.runId, n)} is not readable yet`);
        yield piece(chunk, n);
      }
    })();
  let written = 0;
  // Raw first, the CSV after it, the manifest last: the manifest is the commit mark a re-run looks for.
  await deps.store.putPiecesIfAbsent(
    rawKey,
    concat(
      ['['],
      each((chunk) => {
        // The array's elements as JSON.stringify wrote them: the text between its brackets.
        const text = chunk.rawJson.slice(1, -1);
        const piece = written > 0 && text ? `,${text}` : text;
        if (text) written += 1;
        return piece;
      }),
      [']'],
    ),
    'application/json',
    RAW_MESSAGES,
  );
  // One header: the first chunk's (an empty window still has it).
  const csvWritten = await deps.store.putPiecesIfAbsent(
    csvKey,
    concat(
      [postsToCsv([])],
      each((chunk) => postsToCsv(chunk.posts).replace(/^[^\n]*\n/, '')),
    ),
    'text/csv; charset=utf-8',
  );
  if (!csvWritten) deps.log('csv was written by a concurrent attempt; keeping that one', { csvKey });
  const committed: CollectManifest = {
    chunks,
    posts: postsKept,
    messages: total.messagesSeen,
    windowFrom: window.from,
    windowUntil: window.until,
  };
  await deps.store.putIfAbsent(
    manifestKeyOf(run.pipelineId, run.runId),
    JSON.stringify(committed),
    'application/json',
  );

  return succeeded(
    started,
    { ...counts, chunks, ...(stored.count > 0 ? { partsResumed: stored.count } : {}) },
    {
      csvKey,
      rawKey,
      chunksPrefix: `${runPrefix(run.pipelineId, run.runId)}chunks/`,
      windowFrom: window.from,
      windowUntil: window.until,
    },
  );
}

async function* concat(...parts: (Iterable<string> | AsyncIterable<string>)[]): AsyncGenerator<string> {
  for (const part of parts) yield* part;
}

async function saveChunk(
  deps: CollectDeps,
  pipelineId: string,
  runId: string,
  n: number,
  window: { untilId: string; from: string },
  chunk: ChannelChunk,
): Promise<void> {
  // Keys in this order: parseChunk cuts the raw messages out by it.
  const stored: CollectChunk = {
    untilId: window.untilId,
    windowFrom: window.from,
    cursor: chunk.cursor,
    raw: chunk.raw,
    posts: chunk.posts,
    counts: countsOf(chunk),
  };
  const key = chunkKeyOf(pipelineId, runId, n);
  if (!(await deps.store.putIfAbsent(key, JSON.stringify(stored), 'application/json', RAW_MESSAGES))) {
    // Another attempt of this run stored the same chunk first: retrying resumes from its copy.
    throw new TransientError(`collect chunk ${key} was written by a concurrent attempt`);
  }
}

/**
 * Without Read Message History Discord answers no messages at all, not an
 * error (discord/discord-api-docs developers/resources/message.mdx, Get
 * Channel Messages). An empty window whose channel says its last message is
 * inside the window is that, not a quiet day.
 */
async function checkHistoryVisible(deps: CollectDeps, window: { afterId: string; untilId: string }) {
  if (!deps.channel.lastMessageId) return;
  const lastId = await deps.channel.lastMessageId(deps.pipeline.discord.channelId);
  if (!lastId || !isSnowflake(lastId)) return;
  const inside =
    compareSnowflakes(lastId, window.afterId) > 0 && compareSnowflakes(lastId, window.untilId) <= 0;
  if (inside) {
    throw new ConfigError(
      `discord returned no messages for channel ${deps.pipeline.discord.channelId} although its last message ` +
        `(${lastId}, ${timeOf(lastId)}) is inside the window (unless it was deleted): grant the bot the Read Message History permission on the channel`,
    );
  }
}
