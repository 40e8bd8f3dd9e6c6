import { processedPrefix, runPrefix } from '../config/resources';
import type { PipelineConfig } from '../config/schema';
import { csvToPosts, postsToCsv } from '../domain/csv';
import { messageToPost } from '../domain/discord-message';
import { type CollectedPost, KEY_COLUMN } from '../domain/post';
import { compareSnowflakes, isSnowflake, maxSnowflake } from '../domain/snowflake';
import { collectionWindow } from '../domain/window';
import type { ChannelSource, ObjectStore, SheetStore, StepRecord } from '../ports';
import { type StepInput, skipped, succeeded } from './run-state';

export interface CollectDeps {
  pipeline: PipelineConfig;
  channel: ChannelSource;
  store: ObjectStore;
  /** Needed only for the since_last window. */
  sheet: () => Promise<SheetStore>;
  log: (message: string, data: Record<string, unknown>) => void;
}

const PAGE_SIZE = 100;

export const csvKeyOf = (pipelineId: string, runId: string) => `${runPrefix(pipelineId, runId)}posts.csv`;
export const rawKeyOf = (pipelineId: string, runId: string) => `${runPrefix(pipelineId, runId)}messages.json`;

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

export interface CollectedChannel {
  posts: CollectedPost[];
  raw: unknown[];
  messagesSeen: number;
  malformed: number;
  withoutLink: number;
  duplicateLinks: number;
  pages: number;
}

/**
 * Read the channel forward from `afterId` to `untilId`, 100 messages a request.
 * Discord answers newest-first even when paging forward, so each page is sorted
 * and the cursor moves to its highest id.
 */
export async function readChannel(
  deps: Pick<CollectDeps, 'pipeline' | 'channel' | 'log'>,
  afterId: string,
  untilId: string,
): Promise<CollectedChannel> {
  const { discord } = deps.pipeline;
  const result: CollectedChannel = {
    posts: [],
    raw: [],
    messagesSeen: 0,
    malformed: 0,
    withoutLink: 0,
    duplicateLinks: 0,
    pages: 0,
  };
  const seenLinks = new Set<string>();
  let cursor = afterId;
  while (result.messagesSeen < discord.fetchLimit) {
    const limit = Math.min(PAGE_SIZE, discord.fetchLimit - result.messagesSeen);
    const page = await deps.channel.fetchPage({ channelId: discord.channelId, after: cursor, limit });
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
      const verdict = messageToPost(raw, discord.linkFilter);
      if (verdict.kind === 'malformed') {
        result.malformed += 1;
        deps.log('malformed message skipped', { messageId: verdict.messageId, reason: verdict.reason });
      } else if (verdict.kind === 'no-link') {
        result.withoutLink += 1;
      } else if (seenLinks.has(verdict.post.postLink)) {
        result.duplicateLinks += 1;
      } else {
        seenLinks.add(verdict.post.postLink);
        result.posts.push(verdict.post);
      }
    }
    const reachedEnd = page.length < limit || !next || compareSnowflakes(next, untilId) >= 0;
    if (reachedEnd) break;
    cursor = next;
  }
  return result;
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

/** The newest message id anywhere in the sheet: the start of a since_last window. */
async function newestKnownId(sheet: SheetStore, pipeline: PipelineConfig): Promise<string | undefined> {
  const { mainTab, archiveTab } = pipeline.sheet;
  const columns = await sheet.readColumn([mainTab, archiveTab], KEY_COLUMN);
  return maxSnowflake([...columns.values()].flat());
}

/**
 * Collect the channel's posts for this run into `runs/<pipeline>/<run>/posts.csv`
 * (and the raw messages beside it). Written once per run id: a re-run of the
 * same run reuses the stored CSV instead of reading Discord again.
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

  const window = deps.pipeline.discord.window;
  const newest =
    window.mode === 'since_last' ? await newestKnownId(await deps.sheet(), deps.pipeline) : undefined;
  const span = collectionWindow(window, new Date(run.referenceTime), newest);
  const channel = await readChannel(deps, span.afterId, span.untilId);

  const rawKey = rawKeyOf(run.pipelineId, run.runId);
  // Raw first: the CSV is the commit mark a re-run looks for.
  await deps.store.putIfAbsent(rawKey, JSON.stringify(channel.raw), 'application/json');
  const written = await deps.store.putIfAbsent(csvKey, postsToCsv(channel.posts), 'text/csv; charset=utf-8');
  if (!written) deps.log('csv was written by a concurrent attempt; keeping that one', { csvKey });

  return succeeded(
    started,
    {
      messagesSeen: channel.messagesSeen,
      postsKept: channel.posts.length,
      malformed: channel.malformed,
      withoutLink: channel.withoutLink,
      duplicateLinks: channel.duplicateLinks,
      discordRequests: channel.pages,
    },
    { csvKey, rawKey, windowFrom: span.from, windowUntil: span.until },
  );
}
