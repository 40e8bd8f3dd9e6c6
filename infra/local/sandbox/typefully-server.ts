import { type SandboxServer, startSandboxServer } from './http';

export interface TypefullySandbox extends SandboxServer {
  drafts(): unknown[];
}

/** Typefully API v2: create a draft in a social set, list its drafts. */
export async function startTypefullySandbox(options: {
  apiKey: string;
  socialSetId: string;
  port?: number;
}): Promise<TypefullySandbox> {
  const drafts: Record<string, unknown>[] = [];
  let next = 5000;
  const server = await startSandboxServer({
    name: 'typefully',
    ...(options.port ? { port: options.port } : {}),
    faultResponse: (fault) =>
      fault.kind === 'rate-limit'
        ? {
            status: 429,
            headers: { 'retry-after': String(fault.retryAfterSeconds) },
            body: { detail: 'Rate limit exceeded' },
          }
        : { status: 500, body: { detail: 'Internal server error' } },
    route: (request) => {
      if (request.headers.authorization !== `Bearer ${options.apiKey}`)
        return { status: 401, body: { detail: 'Invalid API key' } };
      const match = request.path.match(/^\/v2\/social-sets\/([^/]+)\/drafts$/);
      if (!match) return { status: 404, body: { detail: 'Not found' } };
      if (match[1] !== options.socialSetId) return { status: 404, body: { detail: 'Social set not found' } };
      if (request.method === 'POST') {
        const body = request.body as {
          platforms?: { x?: { enabled?: boolean; posts?: { text?: string }[] } };
          publish_at?: string;
        };
        const posts = body.platforms?.x?.posts ?? [];
        if (!body.platforms?.x?.enabled || posts.length === 0 || posts.some((p) => !p.text)) {
          return { status: 422, body: { detail: 'platforms.x.posts must hold at least one post with text' } };
        }
        next += 1;
        const draft = {
          id: next,
          social_set_id: options.socialSetId,
          status: body.publish_at === 'now' ? 'publishing' : 'scheduled',
          publish_at: body.publish_at ?? null,
          preview: posts[0]?.text ?? '',
          share_url: `https://typefully.com/t/${next}`,
          platforms: { x: { enabled: true, posts } },
          created_at: new Date().toISOString(),
        };
        drafts.push(draft);
        return { status: 201, body: draft };
      }
      if (request.method === 'GET') {
        const limit = Number(request.query.get('limit') ?? 10);
        const results = [...drafts].reverse().slice(0, limit);
        return { status: 200, body: { results, count: drafts.length, next: null, previous: null } };
      }
      return { status: 405, body: { detail: 'Method not allowed' } };
    },
  });
  return { ...server, drafts: () => drafts.map((d) => ({ ...d })) };
}
