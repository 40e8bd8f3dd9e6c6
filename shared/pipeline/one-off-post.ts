/**
 * One-off posts: a single post or thread scheduled for one moment, outside the
 * daily pipeline. Scheduling validates everything that can be known before the
 * moment (length by X's own rules, the time zone, the time being ahead); the
 * firing (the local daemon, or the `publish-post` Lambda a one-time Scheduler
 * schedule invokes) claims the post and publishes it through the same
 * publication journal as the daily draft, keyed by the run id `post-<postId>`,
 * so a repeated firing never posts twice.
 */
import { randomBytes } from 'node:crypto';
import type { PipelineConfig } from '../config/schema';
import { timeZoneProblem } from '../domain/schedule/time-zone';
import { instantsOf, type LocalDateTime } from '../domain/schedule/zoned-time';
import { isValidPost, normalizeDraft, splitIntoThread, weightedLength } from '../domain/tweet-length';
import { PermanentError, UnknownOutcomeError } from '../errors';
import type {
  PublicationJournal,
  PublishedPart,
  Publisher,
  ScheduledPost,
  ScheduledPostStore,
} from '../ports';
import { publishPartsOnce } from './journalled-publish';

/** The journal's run id of a one-off post: never the id of a daily run (those start with a schedule name, `manual-` or `replay-`). */
export const postRunId = (postId: string) => `post-${postId}`;

const LOCAL_AT = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?$/;
/** A line holding only `---` separates the parts of a thread written by hand. */
const PART_SEPARATOR = /^\s*---\s*$/m;

export interface PostRequest {
  pipeline: PipelineConfig;
  /** `YYYY-MM-DD HH:MM[:SS]` on the wall clock of `timeZone`. */
  localAt: string;
  timeZone: string;
  platform?: 'x' | 'typefully';
  text: string;
  /** `text`, `file <path>`, `run <runId>`. */
  source: string;
  now: Date;
  postId?: string;
}

/** The instant a local wall-clock time names in `timeZone`; a time the clocks skip is refused. */
export function instantOfLocal(localAt: string, timeZone: string): Date {
  const problem = timeZoneProblem(timeZone);
  if (problem) throw new PermanentError(problem);
  const match = LOCAL_AT.exec(localAt.trim());
  if (!match) throw new PermanentError(`--at "${localAt}" is not "YYYY-MM-DD HH:MM" (24-hour, optional :SS)`);
  const [year, month, day, hour, minute, second] = match.slice(1).map((v) => Number(v ?? 0)) as number[];
  const local: LocalDateTime = {
    year: year ?? 0,
    month: month ?? 0,
    day: day ?? 0,
    hour: hour ?? 0,
    minute: minute ?? 0,
  };
  const probe = new Date(Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute));
  if (
    probe.getUTCMonth() !== local.month - 1 ||
    probe.getUTCDate() !== local.day ||
    local.hour > 23 ||
    (second ?? 0) > 59
  ) {
    throw new PermanentError(`--at "${localAt}" is not a date and time that exist`);
  }
  const instants = instantsOf(timeZone, local);
  // A time in the spring-forward gap never shows on the clock: ask for another rather than guess.
  const first = instants[0];
  if (first === undefined) {
    throw new PermanentError(`--at "${localAt}" does not exist in ${timeZone} (the clocks skip it that day)`);
  }
  // A time that shows twice (fall back) is its first occurrence.
  return new Date(first + (second ?? 0) * 1000);
}

/**
 * The parts of the post: text separated by `---` lines is a thread as written
 * (each part must be a valid post); otherwise text too long for one post is
 * split into a thread as the daily draft is. A thread longer than the
 * pipeline's `maxThreadParts` is refused rather than cut.
 */
export function postParts(text: string, maxParts: number): string[] {
  let parts: string[];
  if (PART_SEPARATOR.test(text)) {
    parts = text
      .split(PART_SEPARATOR)
      .map(normalizeDraft)
      .filter((p) => p.length > 0);
    for (const [i, part] of parts.entries()) {
      if (!isValidPost(part)) {
        throw new PermanentError(
          `part ${i + 1}/${parts.length} is not a valid post on X (${weightedLength(part)} of 280 weighted characters)`,
        );
      }
    }
  } else {
    parts = splitIntoThread(text);
  }
  if (parts.length === 0) throw new PermanentError('the post has no text');
  if (parts.length > maxParts) {
    throw new PermanentError(
      `the text makes a thread of ${parts.length} posts, more than the pipeline's maxThreadParts (${maxParts}); shorten it`,
    );
  }
  return parts;
}

const compactTime = (at: Date) => at.toISOString().replace(/[-:]/g, '').slice(0, 13);

/** Validate a request and make the pending post to store; every problem is one PermanentError. */
export function prepareScheduledPost(request: PostRequest): ScheduledPost {
  const { pipeline } = request;
  const platform =
    request.platform ?? (pipeline.publisher.kind === 'none' ? undefined : pipeline.publisher.kind);
  if (!platform) {
    throw new PermanentError(
      `pipeline ${pipeline.id} publishes nowhere (publisher none): give --platform x|typefully`,
    );
  }
  if (platform === 'typefully' && !pipeline.publisher.typefullySocialSetId) {
    throw new PermanentError(
      `pipeline ${pipeline.id} has no publisher.typefullySocialSetId to post to Typefully`,
    );
  }
  const at = instantOfLocal(request.localAt, request.timeZone);
  if (at.getTime() <= request.now.getTime()) {
    throw new PermanentError(
      `--at ${request.localAt} ${request.timeZone} (${at.toISOString()}) is not in the future`,
    );
  }
  const parts = postParts(request.text, pipeline.publisher.maxThreadParts);
  return {
    pipelineId: pipeline.id,
    postId: request.postId ?? `${compactTime(at)}Z-${randomBytes(3).toString('hex')}`,
    platform,
    parts,
    localAt: request.localAt.trim(),
    timeZone: request.timeZone,
    at: at.toISOString(),
    status: 'pending',
    createdAt: request.now.toISOString(),
    source: request.source,
  };
}

export interface PublishPostDeps {
  posts: ScheduledPostStore;
  journal: PublicationJournal;
  /** The publisher of the post's platform. */
  publisher: (platform: ScheduledPost['platform']) => Promise<Publisher>;
  now: () => Date;
  log: (message: string, data: Record<string, unknown>) => void;
}

export type PublishPostOutcome =
  | { status: 'published' | 'failed'; post: ScheduledPost }
  /** Not pending (cancelled, already claimed or done), or not due yet: nothing was done. */
  | { status: 'not-pending' | 'not-due' | 'missing'; post?: ScheduledPost };

/**
 * Publish one due post: claim it (pending → publishing; only one firing wins),
 * publish its parts through the publication journal, then mark it published
 * or failed. Returns what happened; never throws for the post's own failure.
 */
export async function publishScheduledPost(
  deps: PublishPostDeps,
  pipelineId: string,
  postId: string,
  options: {
    /**
     * Also take a post left `publishing` by a firing that died (the local
     * daemon, the only publisher of its data directory, after a crash): the
     * journal then adopts or resumes what that firing got out.
     */
    resumeClaimed?: boolean;
  } = {},
): Promise<PublishPostOutcome> {
  const stored = await deps.posts.get(pipelineId, postId);
  if (!stored) return { status: 'missing' };
  const resuming = options.resumeClaimed === true && stored.status === 'publishing';
  if (stored.status !== 'pending' && !resuming) return { status: 'not-pending', post: stored };
  if (Date.parse(stored.at) > deps.now().getTime()) return { status: 'not-due', post: stored };
  const claimed = resuming
    ? stored
    : await deps.posts.transition(pipelineId, postId, 'pending', 'publishing');
  if (!claimed) return { status: 'not-pending', post: (await deps.posts.get(pipelineId, postId)) ?? stored };
  try {
    const published = await publishThroughJournal(deps, claimed);
    const first = published[0];
    const done = await deps.posts.transition(pipelineId, postId, 'publishing', 'published', {
      ...(first ? { postUrl: first.url } : {}),
      publishedAt: deps.now().toISOString(),
    });
    return { status: 'published', post: done ?? claimed };
  } catch (error) {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    deps.log('one-off post failed', { pipelineId, postId, error: message });
    const failed = await deps.posts.transition(pipelineId, postId, 'publishing', 'failed', {
      error: message,
    });
    return { status: 'failed', post: failed ?? claimed };
  }
}

/** A post's parts through the daily draft's journal protocol, under the run id `post-<postId>`. */
async function publishThroughJournal(deps: PublishPostDeps, post: ScheduledPost): Promise<PublishedPart[]> {
  const outcome = await publishPartsOnce(
    { journal: deps.journal, publisher: () => deps.publisher(post.platform), log: deps.log },
    post.pipelineId,
    postRunId(post.postId),
    post.parts,
  );
  if (outcome.status === 'unknown') {
    throw new UnknownOutcomeError(`part ${outcome.index + 1} may or may not be out: ${outcome.reason}`);
  }
  return outcome.published;
}

/** Cancel a pending post; anything else is left as it is and said why. */
export async function cancelScheduledPost(
  posts: ScheduledPostStore,
  pipelineId: string,
  postId: string,
  now: Date,
): Promise<{ cancelled: true; post: ScheduledPost } | { cancelled: false; reason: string }> {
  const post = await posts.get(pipelineId, postId);
  if (!post) return { cancelled: false, reason: `post ${postId} of pipeline ${pipelineId} does not exist` };
  const done = await posts.transition(pipelineId, postId, 'pending', 'cancelled', {
    cancelledAt: now.toISOString(),
  });
  if (done) return { cancelled: true, post: done };
  const current = (await posts.get(pipelineId, postId)) ?? post;
  const what =
    current.status === 'published'
      ? `was already published${current.postUrl ? ` (${current.postUrl})` : ''}`
      : `is ${current.status}`;
  return { cancelled: false, reason: `post ${postId} ${what}: nothing changed` };
}
