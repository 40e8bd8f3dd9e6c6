import { comparableText } from '../domain/tweet-length';
import { errorForStatus, TransientError, UnknownOutcomeError } from '../errors';
import type { PublishedPart, Publisher } from '../ports';
import { type RetryOptions, retryTransient } from './retry';

export interface TypefullyOptions {
  apiKey: string;
  socialSetId: string;
  /** ISO time, `now` or `next-free-slot`. */
  publishAt: string;
  baseUrl: string;
  timeoutMs?: number;
  retry?: Partial<RetryOptions>;
}

interface Draft {
  id: number | string;
  share_url?: string | null;
  preview?: string | null;
  platforms?: { x?: { posts?: { text: string }[] } };
}

/** Typefully API v2: the whole thread becomes one draft of the social set. */
export function createTypefullyPublisher(options: TypefullyOptions): Publisher {
  const base = `${options.baseUrl.replace(/\/$/, '')}/v2/social-sets/${encodeURIComponent(options.socialSetId)}`;
  const timeout = options.timeoutMs ?? 20_000;
  const retry: RetryOptions = { maxAttempts: 3, baseDelayMs: 1000, maxWaitMs: 15_000, ...options.retry };
  const headers = { authorization: `Bearer ${options.apiKey}`, 'content-type': 'application/json' };

  async function send(path: string, init: RequestInit, sideEffect: boolean): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, { ...init, headers, signal: AbortSignal.timeout(timeout) });
    } catch (error) {
      const message = `typefully request failed: ${(error as Error).message}`;
      throw sideEffect
        ? new UnknownOutcomeError(message, { cause: error })
        : new TransientError(message, { cause: error });
    }
    const text = await response.text();
    if (!response.ok) {
      const retryAfter = Number(response.headers.get('retry-after'));
      throw errorForStatus(
        'typefully',
        response.status,
        text.slice(0, 300),
        retryAfter > 0 ? retryAfter * 1000 : undefined,
      );
    }
    return text ? JSON.parse(text) : {};
  }

  const partOf = (draft: Draft): PublishedPart => ({
    id: String(draft.id),
    url: draft.share_url ?? `https://typefully.com/?d=${draft.id}`,
  });

  return {
    kind: 'typefully',
    takesWholeThread: true,
    async publish(parts) {
      const draft = (await send(
        '/drafts',
        {
          method: 'POST',
          body: JSON.stringify({
            platforms: { x: { enabled: true, posts: parts.map((text) => ({ text })) } },
            publish_at: options.publishAt,
          }),
        },
        true,
      )) as Draft;
      return partOf(draft);
    },
    async findRecent(text) {
      const page = (await retryTransient(
        () => send('/drafts?limit=20', { method: 'GET' }, false),
        retry,
      )) as {
        results?: Draft[];
      };
      const wanted = comparableText(text);
      const found = (page.results ?? []).find((d) => {
        const first = d.platforms?.x?.posts?.[0]?.text ?? d.preview ?? '';
        return comparableText(first) === wanted;
      });
      return found ? partOf(found) : undefined;
    },
  };
}
