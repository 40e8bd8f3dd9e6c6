import { errorForStatus, quotaExhausted, TransientError, UnknownOutcomeError } from '../errors';
import type { PublishedPart, Publisher, PublishUnit } from '../ports';
import { type RetryOptions, retryTransient } from './retry';

/*
 * Typefully API v2, from its OpenAPI (mirrored in raycast/extensions
 * extensions/typefully/api.json and src/lib/types.ts).
 */

export interface TypefullyOptions {
  apiKey: string;
  socialSetId: string;
  /** ISO time with a time zone, `now` or `next-free-slot` (validated by the config schema). */
  publishAt: string;
  baseUrl: string;
  timeoutMs?: number;
  retry?: Partial<RetryOptions>;
  /** How many list pages (50 drafts each) reconciliation reads at most. */
  maxLookupPages?: number;
}

/** A list item: no `platforms`, and `preview` is cut, so neither identifies a draft. */
interface DraftListItem {
  id?: number | null;
  draft_title?: string | null;
  private_url: string;
  share_url?: string | null;
}

interface DraftPage {
  results?: DraftListItem[];
  count?: number;
  next?: string | null;
}

/**
 * What a draft reliably carries back in the list: its title (internal, never
 * posted; ≤ 512 characters). Tags would need to exist in the social set first.
 */
export const draftTitleOf = (unit: Pick<PublishUnit, 'pipelineId' | 'runId'>) =>
  `discord-digest ${unit.pipelineId} ${unit.runId}`;

/** The later reset of the two documented limits (per user, per social set), if one is spent. */
function limitReset(headers: Headers): { quota: string; resetAt: Date } | undefined {
  // "X-RateLimit-User-*" and "X-RateLimit-SocialSet-*": Limit, Remaining, Reset (Unix seconds).
  const spent = (['User', 'SocialSet'] as const)
    .map((scope) => ({
      scope,
      limit: headers.get(`x-ratelimit-${scope.toLowerCase()}-limit`),
      remaining: Number(headers.get(`x-ratelimit-${scope.toLowerCase()}-remaining`)),
      reset: Number(headers.get(`x-ratelimit-${scope.toLowerCase()}-reset`)),
    }))
    .filter((l) => l.limit !== null && l.remaining <= 0 && l.reset > 0)
    .sort((a, b) => b.reset - a.reset)[0];
  if (!spent) return undefined;
  const quota = spent.scope === 'User' ? 'per-user rate limit' : 'per-social-set rate limit';
  return { quota: `${quota} (${spent.limit} requests)`, resetAt: new Date(spent.reset * 1000) };
}

/** Typefully API v2: the whole thread becomes one draft of the social set. */
export function createTypefullyPublisher(options: TypefullyOptions): Publisher {
  const base = `${options.baseUrl.replace(/\/$/, '')}/v2/social-sets/${encodeURIComponent(options.socialSetId)}`;
  const timeout = options.timeoutMs ?? 20_000;
  const retry: RetryOptions = { maxAttempts: 3, baseDelayMs: 1000, maxWaitMs: 15_000, ...options.retry };
  const maxPages = options.maxLookupPages ?? 20;
  const headers = { authorization: `Bearer ${options.apiKey}`, 'content-type': 'application/json' };

  async function send(path: string, init: RequestInit, sideEffect: boolean): Promise<unknown> {
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${base}${path}`, { ...init, headers, signal: AbortSignal.timeout(timeout) });
      text = await response.text();
    } catch (error) {
      const message = `typefully request failed: ${(error as Error).message}`;
      throw sideEffect
        ? new UnknownOutcomeError(message, { cause: error })
        : new TransientError(message, { cause: error });
    }
    if (!response.ok) {
      // Errors are {"error":{"code","message","details"}} (APIErrorResponse).
      let detail = text.slice(0, 300);
      try {
        const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
        if (body.error) detail = `${body.error.code}: ${body.error.message}`;
      } catch {
        // not JSON: keep the text
      }
      if (response.status === 429) {
        const spent = limitReset(response.headers);
        if (spent) throw quotaExhausted('typefully', spent.quota, spent.resetAt);
        const retryAfter = Number(response.headers.get('retry-after'));
        throw errorForStatus('typefully', 429, detail, retryAfter > 0 ? retryAfter * 1000 : undefined);
      }
      throw errorForStatus('typefully', response.status, detail);
    }
    return text ? JSON.parse(text) : {};
  }

  const partOf = (draft: DraftListItem): PublishedPart => ({
    id: String(draft.id),
    // private_url is documented on every draft (DraftDetail, DraftListItem); share_url only when shared.
    url: draft.private_url ?? draft.share_url ?? '',
  });

  return {
    kind: 'typefully',
    takesWholeThread: true,
    async publish(unit) {
      const draft = (await send(
        '/drafts',
        {
          method: 'POST',
          body: JSON.stringify({
            platforms: { x: { enabled: true, posts: unit.parts.map((text) => ({ text })) } },
            draft_title: draftTitleOf(unit),
            publish_at: options.publishAt,
          }),
        },
        true,
      )) as DraftListItem;
      return partOf(draft);
    },
    async findPublished(unit) {
      const title = draftTitleOf(unit);
      // Newest first; page through (limit ≤ 50) until the title is found or the list ends.
      for (let page = 0; page < maxPages; page += 1) {
        const answer = (await retryTransient(
          () => send(`/drafts?limit=50&offset=${page * 50}&order_by=-created_at`, { method: 'GET' }, false),
          retry,
        )) as DraftPage;
        const found = (answer.results ?? []).find((d) => d.draft_title === title && d.id != null);
        if (found) return { status: 'found', part: partOf(found) };
        if (!answer.next || (answer.results ?? []).length === 0) return { status: 'absent' };
      }
      return {
        status: 'refused',
        reason: `more than ${maxPages * 50} drafts in the social set to look through for "${title}"`,
      };
    },
  };
}
