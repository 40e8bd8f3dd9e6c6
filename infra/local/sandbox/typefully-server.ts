import twitterText from 'twitter-text';
import { type SandboxResponse, type SandboxServer, startSandboxServer } from './http';
import { type Clock, Quota } from './quota';

/*
 * Typefully API v2 as its OpenAPI describes it (mirrored in raycast/extensions
 * extensions/typefully/api.json, src/lib/types.ts): create a draft, list drafts
 * (paged, items without `platforms`), get one draft (with `platforms`).
 */

export interface TypefullyDraft {
  id: number;
  social_set_id: number | string;
  status: 'draft' | 'scheduled' | 'published' | 'error' | 'publishing';
  draft_title: string | null;
  preview: string;
  private_url: string;
  share_url: string | null;
  tags: string[];
  scratchpad_text: string | null;
  created_at: string;
  updated_at: string;
  published_at: string | null;
  scheduled_date: string | null;
  publish_state?: 'in_progress';
  platforms: { x: { enabled: boolean; posts: { text: string }[] } };
}

export interface TypefullySandbox extends SandboxServer {
  drafts(): TypefullyDraft[];
  /** The per-user and per-social-set request windows, to exhaust in tests. */
  quotas: { user: Quota; socialSet: Quota };
}

export interface TypefullySandboxOptions {
  apiKey: string;
  socialSetId: string;
  port?: number;
  /** Tag slugs that exist in the social set ("Tags must already exist in the social set"). */
  tags?: string[];
  /**
   * Requests per minute. Typefully documents the headers, not the figures:
   * these are estimates.
   */
  userLimitPerMinute?: number;
  draftsCreatePerMinute?: number;
  now?: Clock;
}

const PREVIEW_LENGTH = 100; // list and detail `preview` hold the first post cut short (observed ~100 characters)
const error = (status: number, code: string, message: string, details?: unknown[]): SandboxResponse => ({
  status,
  body: { error: { code, message, ...(details ? { details } : {}) } },
});
const isoWithZone = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

export async function startTypefullySandbox(options: TypefullySandboxOptions): Promise<TypefullySandbox> {
  const now = options.now ?? Date.now;
  const drafts: TypefullyDraft[] = [];
  const existingTags = new Set(options.tags ?? []);
  const user = new Quota({ limit: options.userLimitPerMinute ?? 60, windowMs: 60_000, now });
  const socialSet = new Quota({ limit: options.draftsCreatePerMinute ?? 30, windowMs: 60_000, now });
  let next = 5000;

  const limitHeaders = (
    u: { limit: number; remaining: number; resetAt: number },
    s?: { limit: number; remaining: number; resetAt: number },
  ): Record<string, string> => ({
    'x-ratelimit-user-limit': String(u.limit),
    'x-ratelimit-user-remaining': String(u.remaining),
    'x-ratelimit-user-reset': String(Math.ceil(u.resetAt / 1000)),
    ...(s
      ? {
          'x-ratelimit-socialset-limit': String(s.limit),
          'x-ratelimit-socialset-remaining': String(s.remaining),
          'x-ratelimit-socialset-reset': String(Math.ceil(s.resetAt / 1000)),
          'x-ratelimit-socialset-resource': 'drafts.create',
        }
      : {}),
  });
  const rateLimited = (headers: Record<string, string>): SandboxResponse => ({
    ...error(429, 'RATE_LIMITED', 'Rate limit exceeded. Try again later.'),
    headers,
  });
  const listItem = ({ platforms: _platforms, publish_state: _state, ...item }: TypefullyDraft) => item;

  const server = await startSandboxServer({
    name: 'typefully',
    ...(options.port ? { port: options.port } : {}),
    // Estimate: a create or list round trip to api.typefully.com from Europe takes a few hundred ms.
    realisticLatency: (request) => (request.method === 'POST' ? 450 : 250),
    faultResponse: (fault) =>
      fault.kind === 'rate-limit'
        ? rateLimited({
            'x-ratelimit-user-limit': '60',
            'x-ratelimit-user-remaining': '0',
            'x-ratelimit-user-reset': String(Math.ceil(now() / 1000) + fault.retryAfterSeconds),
          })
        : error(500, 'INTERNAL_ERROR', 'Internal server error.'),
    route: (request) => {
      if (request.headers.authorization !== `Bearer ${options.apiKey}`)
        return error(401, 'UNAUTHORIZED', 'Invalid or missing API key.');
      const match = request.path.match(/^\/v2\/social-sets\/([^/]+)\/drafts(?:\/([^/]+))?$/);
      if (!match) return error(404, 'NOT_FOUND', 'Resource not found.');
      if (match[1] !== options.socialSetId)
        return error(403, 'FORBIDDEN', 'You do not have access to this social set.');
      const userVerdict = user.take();
      if (!userVerdict.allowed) return rateLimited(limitHeaders(userVerdict));
      const draftId = match[2];

      if (request.method === 'POST' && draftId === undefined) {
        const setVerdict = socialSet.take();
        const headers = limitHeaders(userVerdict, setVerdict);
        if (!setVerdict.allowed) return rateLimited(headers);
        const body = (request.body ?? {}) as {
          platforms?: { x?: { enabled?: boolean; posts?: { text?: string }[] } };
          publish_at?: string | null;
          draft_title?: string | null;
          tags?: string[];
          share?: boolean;
          scratchpad_text?: string | null;
        };
        const x = body.platforms?.x;
        if (!x?.enabled)
          return { ...error(400, 'VALIDATION_ERROR', 'At least one platform must be enabled'), headers };
        const posts = x.posts ?? [];
        const empty = posts.findIndex((p) => !p.text);
        if (posts.length === 0 || empty >= 0) {
          return {
            ...error(422, 'VALIDATION_ERROR', 'Some fields are invalid.', [
              { field: `platforms.x.posts.${Math.max(empty, 0)}.text`, message: 'Must not be empty.' },
            ]),
            headers,
          };
        }
        const publishAt = body.publish_at ?? null;
        if (
          publishAt !== null &&
          publishAt !== 'now' &&
          publishAt !== 'next-free-slot' &&
          !isoWithZone.test(publishAt)
        ) {
          return {
            ...error(422, 'VALIDATION_ERROR', 'Some fields are invalid.', [
              {
                field: 'publish_at',
                message: 'An ISO 8601 datetime with timezone, "now" or "next-free-slot".',
              },
            ]),
            headers,
          };
        }
        if ((body.draft_title ?? '').length > 512) {
          return {
            ...error(422, 'VALIDATION_ERROR', 'Some fields are invalid.', [
              { field: 'draft_title', message: 'At most 512 characters.' },
            ]),
            headers,
          };
        }
        const unknownTag = (body.tags ?? []).find((t) => !existingTags.has(t));
        if (unknownTag)
          return { ...error(400, 'VALIDATION_ERROR', `Tag "${unknownTag}" does not exist.`), headers };
        if (publishAt === 'now' && posts.some((p) => twitterText.extractUrls(p.text ?? '').length > 0)) {
          // x_policy_url_direct_publish_blocked in the OpenAPI's 403 examples.
          return {
            ...error(
              403,
              'FORBIDDEN',
              'This is not allowed by X policy. Direct publishing of X drafts containing URLs is blocked.',
            ),
            headers,
          };
        }
        next += 1;
        const created = new Date(now()).toISOString();
        const draft: TypefullyDraft = {
          id: next,
          social_set_id: Number(options.socialSetId) || options.socialSetId,
          // "now" publishes asynchronously: status stays "draft", publish_state "in_progress".
          status: publishAt === null || publishAt === 'now' ? 'draft' : 'scheduled',
          draft_title: body.draft_title ?? null,
          preview: (posts[0]?.text ?? '').slice(0, PREVIEW_LENGTH),
          private_url: `https://typefully.com/?a=${options.socialSetId}&d=${next}`,
          share_url: body.share ? `https://typefully.com/t/${next.toString(36)}` : null,
          tags: body.tags ?? [],
          scratchpad_text: body.scratchpad_text ?? null,
          created_at: created,
          updated_at: created,
          published_at: null,
          scheduled_date:
            publishAt === 'next-free-slot'
              ? new Date(now() + 3_600_000).toISOString()
              : publishAt && publishAt !== 'now'
                ? new Date(publishAt).toISOString()
                : null,
          ...(publishAt === 'now' ? { publish_state: 'in_progress' as const } : {}),
          platforms: { x: { enabled: true, posts: posts.map((p) => ({ text: p.text ?? '' })) } },
        };
        drafts.push(draft);
        return { status: 201, headers, body: draft };
      }
      const headers = limitHeaders(userVerdict);
      if (request.method === 'GET' && draftId !== undefined) {
        const draft = drafts.find((d) => String(d.id) === draftId);
        return draft
          ? { status: 200, headers, body: draft }
          : { ...error(404, 'NOT_FOUND', 'Resource not found.'), headers };
      }
      if (request.method === 'GET') {
        const limit = Number(request.query.get('limit') ?? 10);
        const offset = Number(request.query.get('offset') ?? 0);
        if (!Number.isInteger(limit) || limit < 1 || limit > 50 || !Number.isInteger(offset) || offset < 0) {
          return {
            ...error(422, 'VALIDATION_ERROR', 'Some fields are invalid.', [
              { field: 'limit', message: 'Between 1 and 50.' },
            ]),
            headers,
          };
        }
        const status = request.query.get('status');
        const tags = request.query.getAll('tag');
        const orderBy = request.query.get('order_by') ?? '-updated_at';
        const field = orderBy.replace(/^-/, '') as 'created_at' | 'updated_at';
        const sign = orderBy.startsWith('-') ? -1 : 1;
        const matching = drafts
          .filter((d) => !status || d.status === status)
          .filter((d) => tags.every((t) => d.tags.includes(t)))
          .sort((a, b) => sign * (String(a[field]).localeCompare(String(b[field])) || a.id - b.id));
        const page = matching.slice(offset, offset + limit).map(listItem);
        const link = (o: number) => {
          const query = new URLSearchParams(request.query);
          query.set('offset', String(o));
          query.set('limit', String(limit));
          return `https://api.typefully.com${request.path}?${query}`;
        };
        return {
          status: 200,
          headers,
          body: {
            results: page,
            count: matching.length,
            limit,
            offset,
            next: offset + limit < matching.length ? link(offset + limit) : null,
            previous: offset > 0 ? link(Math.max(0, offset - limit)) : null,
          },
        };
      }
      return { ...error(405, 'METHOD_NOT_ALLOWED', 'Method not allowed.'), headers };
    },
  });
  return {
    ...server,
    quotas: { user, socialSet },
    drafts: () => drafts.map((d) => structuredClone(d)),
  };
}
