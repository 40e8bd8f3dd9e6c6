import { weightedLength } from '../../../shared/domain/tweet-length';
import { type SandboxServer, startSandboxServer } from './http';

export interface XTweet {
  id: string;
  text: string;
  inReplyTo?: string;
  createdAt: string;
}

export interface XSandbox extends SandboxServer {
  tweets(): XTweet[];
}

/** X API v2, the part we use: post (or reply), who am I, my recent posts. */
export async function startXSandbox(options: { port?: number; username?: string } = {}): Promise<XSandbox> {
  const tweets: XTweet[] = [];
  const user = {
    id: '1500000000000000001',
    name: 'Digest Sandbox',
    username: options.username ?? 'digest_sandbox',
  };
  let next = 1_900_000_000_000_000_000n;
  const limits = () => ({
    'x-rate-limit-limit': '100',
    'x-rate-limit-remaining': '99',
    'x-rate-limit-reset': String(Math.ceil(Date.now() / 1000) + 900),
  });
  const problem = (status: number, title: string, detail: string) => ({
    status,
    headers: limits(),
    body: { title, detail, type: 'about:blank', status },
  });
  const server = await startSandboxServer({
    name: 'x',
    ...(options.port ? { port: options.port } : {}),
    faultResponse: (fault) =>
      fault.kind === 'rate-limit'
        ? {
            status: 429,
            headers: {
              ...limits(),
              'x-rate-limit-remaining': '0',
              'x-rate-limit-reset': String(Math.ceil(Date.now() / 1000) + fault.retryAfterSeconds),
            },
            body: {
              title: 'Too Many Requests',
              detail: 'Too Many Requests',
              type: 'about:blank',
              status: 429,
            },
          }
        : problem(500, 'Internal Server Error', 'Internal Server Error'),
    route: (request) => {
      const auth = String(request.headers.authorization ?? '');
      if (
        !auth.startsWith('OAuth ') ||
        !auth.includes('oauth_consumer_key') ||
        !auth.includes('oauth_signature')
      ) {
        return problem(401, 'Unauthorized', 'Unauthorized');
      }
      if (request.method === 'POST' && request.path === '/2/tweets') {
        const body = request.body as { text?: string; reply?: { in_reply_to_tweet_id?: string } };
        const text = body.text ?? '';
        if (!text || weightedLength(text) > 280) {
          return problem(
            403,
            'Forbidden',
            'Your Tweet text is too long. For more information on how Twitter determines text length see https://github.com/twitter/twitter-text.',
          );
        }
        if (tweets.some((t) => t.text === text)) {
          return problem(403, 'Forbidden', 'You are not allowed to create a Tweet with duplicate content.');
        }
        const replyTo = body.reply?.in_reply_to_tweet_id;
        if (replyTo && !tweets.some((t) => t.id === replyTo)) {
          return problem(400, 'Invalid Request', 'One or more parameters to your request was invalid.');
        }
        next += 1n;
        const tweet: XTweet = {
          id: next.toString(),
          text,
          createdAt: new Date().toISOString(),
          ...(replyTo ? { inReplyTo: replyTo } : {}),
        };
        tweets.push(tweet);
        return {
          status: 201,
          headers: limits(),
          body: { data: { id: tweet.id, text, edit_history_tweet_ids: [tweet.id] } },
        };
      }
      if (request.method === 'GET' && request.path === '/2/users/me') {
        return { status: 200, headers: limits(), body: { data: user } };
      }
      const timeline = request.path.match(/^\/2\/users\/(\d+)\/tweets$/);
      if (request.method === 'GET' && timeline) {
        const max = Math.min(100, Number(request.query.get('max_results') ?? 10));
        const data = [...tweets]
          .reverse()
          .slice(0, max)
          .map((t) => ({ id: t.id, text: t.text }));
        return { status: 200, headers: limits(), body: { data, meta: { result_count: data.length } } };
      }
      return problem(404, 'Not Found Error', `no route for ${request.method} ${request.path}`);
    },
  });
  return { ...server, tweets: () => tweets.map((t) => ({ ...t })) };
}
