import { processedPrefix, RAW_MESSAGES_TAG, runPrefix } from '../config/resources';
import type { PipelineConfig } from '../config/schema';
import { csvToPosts, postsToCsv } from '../domain/csv';
import { contentVisibility, messageToPost } from '../domain/discord-message';
import { extractXStatusLinks } from '../domain/links';
import { type CollectedPost, KEY_COLUMN } from '../domain/post';
import { compareSnowflakes, isSnowflake, maxSnowflake, snowflakeToMs } from '../domain/snowflake';
import { collectionWindow } from '../domain/window';
import { ConfigError, TransientError } from '../errors';
import type { ChannelSource, ObjectStore, SheetStore, StepRecord } from '../ports';
import { partial, type StepInput, skipped, succeeded } from './run-state';

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
export const partKeyOf = (pipelineId: string, runId: string, n: number) =>
  `${runPrefix(pipelineId, runId)}collect-part-${String(n).padStart(4, '0')}.json`;

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

export interface CollectedChannel extends ChannelCounts {
  posts: CollectedPost[];
  raw: unknown[];
  pages: number;
  /** Where the next read starts: after the newest message read so far. */
  cursor: string;
  /** Why reading stopped: the window's end, the fetch limit or the time budget. */
  stop: 'end' | 'limit' | 'time';
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
 * moves to its highest id. `seenKeys` carries the posts of earlier parts of the run.
 * A failure after some pages is thrown with the progress so far attached.
 */
export async function readChannel(
  deps: Pick<CollectDeps, 'pipeline' | 'channel' | 'log' | 'budgetMs' | 'now'>,
  afterId: string,
  untilId: string,
  seenKeys: Set<string> = new Set(),
): Promise<CollectedChannel> {
  const { discord } = deps.pipeline;
  const now = deps.now ?? Date.now;
  const deadline = now() + (deps.budgetMs ?? DEFAULT_BUDGET_MS);
  const result: CollectedChannel = {
    ...zeroCounts(),
    posts: [],
    raw: [],
    pages: 0,
    cursor: afterId,
    stop: 'end',
  };
  for (;;) {
    if (result.messagesSeen >= discord.fetchLimit) {
      result.stop = 'limit';
      break;
    }
    if (result.pages > 0 && now() >= deadline) {
      result.stop = 'time';
      break;
    }
    const limit = Math.min(PAGE_SIZE, discord.fetchLimit - result.messagesSeen);
    let page: unknown[];
    try {
      page = await deps.channel.fetchPage({ channelId: discord.channelId, after: result.cursor, limit });
    } catch (error) {
      throw new ReadInterrupted(error, result);
    }
    result.pages += 1;
    const next = maxSnowflake(page.map(idOf).filter(isSnowflake));
    const inWindow = page
      .filter((m) => {
        const id = idOf(m);
        // Messages without a usable id cannot be placed; they are judged (and counted) as malformed below.
        return !isSnowflake(id) || compareSnowflakes(id, untilId) <= 0;
      })
      .sort((a, b) => compareIds(idOf(a), idOf(b)));
    for (const raw of inWindow) {
      result.messagesSeen += 1;
      result.raw.push(raw);
      const visibility = contentVisibility(raw);
      if (visibility !== 'unknown') result[visibility] += 1;
      const verdict = messageToPost(raw, discord.linkFilter);
      if (verdict.kind === 'malformed') {
        result.malformed += 1;
        deps.log('malformed message skipped', { messageId: verdict.messageId, reason: verdict.reason });
      } else if (verdict.kind === 'no-link') {
        result.withoutLink += 1;
      } else if (seenKeys.has(dedupeKeyOf(verdict.post))) {
        result.duplicateLinks += 1;
      } else {
        seenKeys.add(dedupeKeyOf(verdict.post));
        result.posts.push(verdict.post);
      }
    }
    const reachedEnd = page.length < limit || !next || compareSnowflakes(next, untilId) >= 0;
    if (next && compareSnowflakes(next, result.cursor) > 0) result.cursor = next;
    if (reachedEnd) {
      result.stop = 'end';
      break;
    }
  }
  return result;
}

/** A read that failed after some pages: the pages read are saved before the error goes on. */
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
 * One stretch of the window already read by an earlier, cut-short attempt of
 * this run: written once (putIfAbsent), never rewritten, numbered from 1.
 */
interface CollectPart {
  /** The window's end, fixed by the first part so a resume reads the same window. */
  untilId: string;
  windowFrom: string;
  /** Where the next part starts. */
  cursor: string;
  raw: unknown[];
  posts: CollectedPost[];
  counts: ChannelCounts;
}

async function readParts(store: ObjectStore, pipelineId: string, runId: string): Promise<CollectPart[]> {
  const parts: CollectPart[] = [];
  for (let n = 1; ; n += 1) {
    const text = await store.getText(partKeyOf(pipelineId, runId, n));
    if (text === undefined) return parts;
    parts.push(JSON.parse(text) as CollectPart);
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

const timeOf = (id: string) => new Date(snowflakeToMs(id)).toISOString();

/**
 * Collect the channel's posts for this run into `runs/<pipeline>/<run>/posts.csv`
 * (and the raw messages beside it). Written once per run id: a re-run of the
 * same run reuses the stored CSV instead of reading Discord again.
 *
 * A window larger than one invocation may read (the fetch limit, the time
 * budget, a rate limit that resets later) is read in parts. Each cut-short
 * attempt saves what it read as the next `collect-part-NNNN.json` (write-once,
 * so nothing an earlier attempt stored is ever overwritten) and ends partial
 * (or rethrows the error); `--resume` reads the parts back, continues after
 * the last one's cursor (so no message is read twice or skipped), and, once
 * the window's end is reached, writes messages.json and posts.csv from all
 * the parts at once. posts.csv therefore stays what later steps rely on: the
 * commit mark of a whole window, never of a piece of it.
 */
export async function collectChannelPosts(deps: CollectDeps, input: StepInput): Promise<StepRecord> {
  const started = Date.now();
  const { run } = input;
  if (run.sourceRunId) {
    return skipped(started, `replay of ${run.sourceRunId}: its stored CSV is processed again`);
  }
  const csvKey = csvKeyOf(run.pipelineId, run.runId);
  const stored = await deps.store.getText(csvKey);
  if (stored !== undefined) {
    const posts = csvToPosts(stored);
    deps.log('csv already collected for this run; reusing it', { csvKey, posts: posts.length });
    return succeeded(started, { postsKept: posts.length }, { csvKey, reused: 'true' });
  }

  const parts = await readParts(deps.store, run.pipelineId, run.runId);
  const last = parts.at(-1);
  let window: { afterId: string; untilId: string; from: string; until: string };
  if (last) {
    window = {
      afterId: last.cursor,
      untilId: last.untilId,
      from: last.windowFrom,
      until: timeOf(last.untilId),
    };
    deps.log('resuming collection after the stored parts', { parts: parts.length, after: last.cursor });
  } else {
    const config = deps.pipeline.discord.window;
    const newest =
      config.mode === 'since_last' ? await newestKnownId(await deps.sheet(), deps.pipeline) : undefined;
    window = collectionWindow(config, new Date(run.referenceTime), newest);
  }
  const seenKeys = new Set(parts.flatMap((p) => p.posts.map(dedupeKeyOf)));

  let channel: CollectedChannel;
  try {
    channel = await readChannel(deps, window.afterId, window.untilId, seenKeys);
  } catch (error) {
    if (!(error instanceof ReadInterrupted)) throw error;
    if (error.progress.pages > 0) {
      await savePart(deps, run.pipelineId, run.runId, parts.length + 1, window, error.progress);
      deps.log('discord failed mid-window; what was read is saved for --resume', {
        stoppedAfter: error.progress.cursor,
      });
    }
    throw error.error;
  }
  const partsBefore = parts.length;

  if (missingMessageContentIntent(channel)) {
    throw new ConfigError(
      `discord returned ${channel.blank} messages with empty content, embeds, attachments and components ` +
        `in channel ${deps.pipeline.discord.channelId}: the bot lacks the MESSAGE_CONTENT privileged intent. ` +
        'Enable "Message Content Intent" under Bot → Privileged Gateway Intents in the Discord Developer Portal',
    );
  }
  if (channel.messagesSeen === 0 && parts.length === 0) await checkHistoryVisible(deps, window);

  if (channel.stop !== 'end') {
    const n = parts.length + 1;
    await savePart(deps, run.pipelineId, run.runId, n, window, channel);
    const total = sumCounts([...parts.map((p) => p.counts), channel]);
    const why =
      channel.stop === 'limit'
        ? `the fetch limit of ${deps.pipeline.discord.fetchLimit} messages was reached`
        : 'the time budget of this invocation ran out';
    return partial(
      started,
      `${why} with more messages in the window; --resume continues after message ${channel.cursor} (${timeOf(channel.cursor)})`,
      {
        messagesSeen: total.messagesSeen,
        malformed: total.malformed,
        withoutLink: total.withoutLink,
        duplicateLinks: total.duplicateLinks,
        postsKept: parts.reduce((s, p) => s + p.posts.length, 0) + channel.posts.length,
        discordRequests: channel.pages,
        truncated: 1,
        partsStored: n,
      },
      {
        stoppedAfterId: channel.cursor,
        stoppedAt: timeOf(channel.cursor),
        windowFrom: window.from,
        windowUntil: window.until,
      },
    );
  }

  // The whole window is read: all parts plus this last stretch make the run's CSV.
  const posts = [...parts.flatMap((p) => p.posts), ...channel.posts];
  const raw = [...parts.flatMap((p) => p.raw), ...channel.raw];
  const total = sumCounts([...parts.map((p) => p.counts), channel]);
  const rawKey = rawKeyOf(run.pipelineId, run.runId);
  // Raw first: the CSV is the commit mark a re-run looks for.
  await deps.store.putIfAbsent(rawKey, JSON.stringify(raw), 'application/json', RAW_MESSAGES);
  const written = await deps.store.putIfAbsent(csvKey, postsToCsv(posts), 'text/csv; charset=utf-8');
  if (!written) deps.log('csv was written by a concurrent attempt; keeping that one', { csvKey });

  return succeeded(
    started,
    {
      messagesSeen: total.messagesSeen,
      postsKept: posts.length,
      malformed: total.malformed,
      withoutLink: total.withoutLink,
      duplicateLinks: total.duplicateLinks,
      discordRequests: channel.pages,
      ...(partsBefore > 0 ? { partsResumed: partsBefore } : {}),
    },
    { csvKey, rawKey, windowFrom: window.from, windowUntil: window.until },
  );
}

async function savePart(
  deps: CollectDeps,
  pipelineId: string,
  runId: string,
  n: number,
  window: { untilId: string; from: string },
  channel: CollectedChannel,
): Promise<void> {
  const part: CollectPart = {
    untilId: window.untilId,
    windowFrom: window.from,
    cursor: channel.cursor,
    raw: channel.raw,
    posts: channel.posts,
    counts: countsOf(channel),
  };
  const key = partKeyOf(pipelineId, runId, n);
  if (!(await deps.store.putIfAbsent(key, JSON.stringify(part), 'application/json', RAW_MESSAGES))) {
    // Another attempt of this run stored the same part first: retrying resumes from its copy.
    throw new TransientError(`collect part ${key} was written by a concurrent attempt`);
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
