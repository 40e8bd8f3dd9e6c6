import { Agent as HttpAgent } from 'node:http';
import { ApiRequestError, ApiResponseError, TwitterApi, type TwitterRateLimit } from 'twitter-api-v2';
import { comparableText } from '../domain/tweet-length';
import {
  DuplicatePostError,
  errorForStatus,
  PermanentError,
  quotaExhausted,
  TransientError,
  UnknownOutcomeError,
} from '../errors';
import type { PublishedPart, Publisher, QuotaObserver } from '../ports';
import { type RetryOptions, retryMapped } from './retry';

export interface XClientOptions {
  appKey: string;
  appSecret: string;
  accessToken: string;
  accessSecret: string;
  /** e.g. https://api.x.com */
  baseUrl: string;
}

/** The client to send through (one per container, shared/runtime/publisher.ts), or what to make one from. */
export type XOptions = (XClientOptions | { client: TwitterApi; baseUrl: string }) & {
  timeoutMs?: number;
  retry?: Partial<RetryOptions>;
  /** Told what each post's answer says of POST /2/tweets' windows. */
  onQuota?: QuotaObserver;
};

/**
 * The post windows' use as X's headers give it ("Every API response includes headers showing your current
 * rate limit status": https://docs.x.com/fundamentals/rate-limits), parsed by twitter-api-v2 into
 * `rateLimit` (x-rate-limit-*), `rateLimit.userDay` (x-user-limit-24hour-*) and `rateLimit.day`.
 */
function reportPostLimits(rateLimit: TwitterRateLimit | undefined, onQuota: QuotaObserver | undefined) {
  if (!rateLimit || !onQuota) return;
  const windows = [
    ['15-minute-window', rateLimit],
    ['user-24-hour', rateLimit.userDay],
    ['app-24-hour', rateLimit.day],
  ] as const;
  for (const [quota, window] of windows) {
    if (window && Number.isFinite(window.limit) && Number.isFinite(window.remaining))
      onQuota({ api: 'x', quota, used: window.limit - window.remaining, limit: window.limit });
  }
}

/** Looking on the account is not allowed by the plan: only the operator can tell. Never leaves this module. */
class PlanRefusedError extends PermanentError {
  override name = 'PlanRefusedError';
}

/** X's answer when the plan may not use an endpoint (e.g. read a timeline on Free). */
function isPlanRefusal(error: ApiResponseError): boolean {
  // Body seen in the wild: {title:'Client Forbidden', reason:'client-not-enrolled',
  // type:'https://api.twitter.com/2/problems/client-forbidden'} (xdevplatform/samples#150, #129).
  const data = error.data as { reason?: string; type?: string };
  return (
    error.code === 403 &&
    (data?.reason === 'client-not-enrolled' || /client-forbidden/.test(data?.type ?? ''))
  );
}

function toDigestError(error: unknown, sideEffect: boolean, now = Date.now()): Error {
  if (error instanceof ApiResponseError) {
    const detail = JSON.stringify(error.data).slice(0, 300);
    if (error.code === 403 && /duplicate/i.test(detail))
      return new DuplicatePostError(`x refused a duplicate post: ${detail}`);
    if (error.code === 429) {
      // twitter-api-v2 parses x-user-limit-24hour-* into rateLimit.userDay (PLhery/node-twitter-api-v2#618,
      // src/client-mixins/request-handler.helper.ts): the per-user 24-hour post cap (17 on Free:
      // https://developer.x.com/en/docs/twitter-api/rate-limits). It resets hours later: end the step.
      const { userDay, day } = error.rateLimit ?? {};
      if (userDay && userDay.remaining <= 0)
        return quotaExhausted(
          'x',
          `per-user 24-hour post cap (${userDay.limit} posts)`,
          new Date(userDay.reset * 1000),
          now,
        );
      if (day && day.remaining <= 0)
        return quotaExhausted(
          'x',
          `per-app 24-hour cap (${day.limit} requests)`,
          new Date(day.reset * 1000),
          now,
        );
      const reset = error.rateLimit?.reset;
      // The 15-minute window (x-rate-limit-*): a wait short enough is retried in process.
      if (reset) return quotaExhausted('x', '15-minute request window', new Date(reset * 1000), now);
    }
    return errorForStatus('x', error.code, detail);
  }
  // No answer at all: for a post, it may or may not exist now. X has no idempotency key.
  const cause = error instanceof ApiRequestError ? (error.requestError ?? error) : (error as Error);
  const message = `x request failed: ${cause?.message ?? String(error)}`;
  return sideEffect
    ? new UnknownOutcomeError(message, { cause: error })
    : new TransientError(message, { cause: error });
}

/** The twitter-api-v2 client: the account's OAuth 1.0a keys and its agent, the same for every invocation. */
export function createXClient(options: XClientOptions): TwitterApi {
  // The library calls https.request; with an http:// base (a sandbox, a proxy) an http agent makes that work.
  const settings = options.baseUrl.startsWith('http://')
    ? { httpAgent: new HttpAgent({ keepAlive: true }) }
    : {};
  return new TwitterApi(
    {
      appKey: options.appKey,
      appSecret: options.appSecret,
      accessToken: options.accessToken,
      accessSecret: options.accessSecret,
    },
    settings,
  );
}

/** X API v2 through twitter-api-v2, OAuth 1.0a user context. */
export function createXPublisher(options: XOptions): Publisher {
  const base = options.baseUrl.replace(/\/$/, '');
  const client = 'client' in options ? options.client : createXClient(options);
  const prefix = `${base}/2/`;
  const timeout = options.timeoutMs ?? 20_000;
  const retry: RetryOptions = { maxAttempts: 3, baseDelayMs: 1000, maxWaitMs: 15_000, ...options.retry };
  let me: { id: string; username: string } | undefined;

  const read = <T>(operation: () => Promise<T>) =>
    retryMapped(
      operation,
      (error) =>
        error instanceof ApiResponseError && isPlanRefusal(error)
          ? new PlanRefusedError(JSON.stringify(error.data).slice(0, 300))
          : toDigestError(error, false),
      retry,
    );

  const urlOf = (id: string) =>
    me ? `https://x.com/${me.username}/status/${id}` : `https://x.com/i/web/status/${id}`;

  return {
    kind: 'x',
    takesWholeThread: false,
    async publish({ parts, replyTo }): Promise<PublishedPart> {
      const [text] = parts;
      if (parts.length !== 1 || text === undefined) throw new TypeError('x publishes one part per call');
      let answer: { data: { id: string; text: string } };
      try {
        // Never retried here: after a lost answer the caller must look before posting again.
        const full = await client.post<{ data: { id: string; text: string } }>(
          'tweets',
          { text, ...(replyTo ? { reply: { in_reply_to_tweet_id: replyTo } } : {}) },
          { prefix, timeout, fullResponse: true },
        );
        reportPostLimits(full.rateLimit, options.onQuota);
        answer = full.data;
      } catch (error) {
        if (error instanceof ApiResponseError) reportPostLimits(error.rateLimit, options.onQuota);
        // An answer (even 429 or 5xx) means nothing was posted; no answer means we cannot know.
        throw toDigestError(error, !(error instanceof ApiResponseError));
      }
      return { id: answer.data.id, url: urlOf(answer.data.id) };
    },
    async findPublished({ parts }) {
      const [text = ''] = parts;
      try {
        me ??= (await read(() => client.get('users/me', undefined, { prefix, timeout }))).data as {
          id: string;
          username: string;
        };
        const user = me;
        // GET /2/users/:id/tweets (https://docs.x.com/x-api/posts/timelines): our own latest posts.
        const answer = await read(() =>
          client.get(`users/${user.id}/tweets`, { max_results: 20 }, { prefix, timeout }),
        );
        const wanted = comparableText(text);
        const found = ((answer as { data?: { id: string; text: string }[] }).data ?? []).find(
          (t) => comparableText(t.text) === wanted,
        );
        return found
          ? { status: 'found', part: { id: found.id, url: urlOf(found.id) } }
          : { status: 'absent' };
      } catch (error) {
        if (!(error instanceof PlanRefusedError)) throw error;
        return {
          status: 'refused',
          reason: 'the X plan may not read the account timeline (403 client-not-enrolled)',
        };
      }
    },
  };
}
