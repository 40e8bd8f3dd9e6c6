import { isValidPost } from '../../../shared/domain/tweet-length';
import { type SandboxServer, startSandboxServer } from './http';
import { type Clock, Quota } from './quota';

export interface XTweet {
  id: string;
  text: string;
  inReplyTo?: string;
  createdAt: string;
}

export interface XSandbox extends SandboxServer {
  tweets(): XTweet[];
  /** POST /2/tweets windows: 15 minutes (x-rate-limit-*) and the per-user 24 hours (x-user-limit-24hour-*). */
  quotas: { window: Quota; userDay: Quota };
}

/**
 * What the developer plan allows. Free: 17 posts / 24 hours per user and no
 * timeline reading (its table lists only POST/DELETE tweets and users/me);
 * Basic: 100 posts / 24 hours per user, timelines readable.
 * https://developer.x.com/en/docs/twitter-api/rate-limits ("X API v2 rate limits - Free"),
 * tweepy/tweepy discussion #2129 (Basic: 100 requests / 24 hours per user).
 */
export const X_PLANS = {
  free: { postsPer24Hours: 17, readsTimeline: false },
  basic: { postsPer24Hours: 100, readsTimeline: true },
} as const;

export interface XSandboxOptions {
  port?: number;
  username?: string;
  /** Default `basic`, so a lost answer can be reconciled; `free` cannot read the timeline. */
  plan?: keyof typeof X_PLANS;
  /** Overrides the plan's per-user 24-hour post cap. */
  postsPer24Hours?: number;
  /** POST /2/tweets per 15 minutes per user (100: docs.x.com rate-limit tables, per user). */
  postsPer15Minutes?: number;
  now?: Clock;
}

/** X API v2, the part we use: post (or reply), who am I, my recent posts. */
export async function startXSandbox(options: XSandboxOptions = {}): Promise<XSandbox> {
  const now = options.now ?? Date.now;
  const plan = X_PLANS[options.plan ?? 'basic'];
  const window = new Quota({ limit: options.postsPer15Minutes ?? 100, windowMs: 15 * 60_000, now });
  const userDay = new Quota({
    limit: options.postsPer24Hours ?? plan.postsPer24Hours,
    windowMs: 24 * 3_600_000,
    now,
  });
  const tweets: XTweet[] = [];
  const user = {
    id: '1500000000000000001',
    name: 'Digest Sandbox',
    username: options.username ?? 'digest_sandbox',
  };
  let next = 1_900_000_000_000_000_000n;
  const seconds = (ms: number) => String(Math.ceil(ms / 1000));
  const limits = () => ({
    'x-rate-limit-limit': '900',
    'x-rate-limit-remaining': '899',
    'x-rate-limit-reset': seconds(now() + 900_000),
  });
  type Verdict = ReturnType<Quota['take']>;
  // Header names as twitter-api-v2 reads them (src/client-mixins/request-handler.helper.ts).
  const postLimits = (w: Verdict, d: Verdict) => ({
    'x-rate-limit-limit': String(w.limit),
    'x-rate-limit-remaining': String(w.remaining),
    'x-rate-limit-reset': seconds(w.resetAt),
    'x-user-limit-24hour-limit': String(d.limit),
    'x-user-limit-24hour-remaining': String(d.remaining),
    'x-user-limit-24hour-reset': seconds(d.resetAt),
  });
  const tooMany = (headers: Record<string, string>) => ({
    status: 429,
    headers,
    body: { title: 'Too Many Requests', detail: 'Too Many Requests', type: 'about:blank', status: 429 },
  });
  const problem = (status: number, title: string, detail: string) => ({
    status,
    headers: limits(),
    body: { title, detail, type: 'about:blank', status },
  });
  const server = await startSandboxServer({
    name: 'x',
    ...(options.port ? { port: options.port } : {}),
    // Estimate: a post takes ~0.5 s at api.x.com, a read ~0.3 s (no published figure).
    realisticLatency: (request) => (request.method === 'POST' ? 500 : 300),
    faultResponse: (fault) =>
      fault.kind === 'rate-limit'
        ? {
            status: 429,
            headers: {
              ...limits(),
              'x-rate-limit-remaining': '0',
              'x-rate-limit-reset': seconds(now() + fault.retryAfterSeconds * 1000),
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
        // The 15-minute window first, then the 24-hour cap: a refused call does not count.
        const w = window.take();
        if (!w.allowed) {
          return tooMany({
            'x-rate-limit-limit': String(w.limit),
            'x-rate-limit-remaining': '0',
            'x-rate-limit-reset': seconds(w.resetAt),
          });
        }
        const d = userDay.take();
        if (!d.allowed) return tooMany(postLimits(w, d));
        const headers = postLimits(w, d);
        // X counts with twitter-text: what parseTweet calls invalid is refused.
        if (!isValidPost(text)) {
          return {
            ...problem(
              403,
              'Forbidden',
              'Your Tweet text is too long. For more information on how Twitter determines text length see https://github.com/twitter/twitter-text.',
            ),
            headers,
          };
        }
        if (tweets.some((t) => t.text === text)) {
          return {
            ...problem(403, 'Forbidden', 'You are not allowed to create a Tweet with duplicate content.'),
            headers,
          };
        }
        const replyTo = body.reply?.in_reply_to_tweet_id;
        if (replyTo && !tweets.some((t) => t.id === replyTo)) {
          return problem(400, 'Invalid Request', 'One or more parameters to your request was invalid.');
        }
        next += 1n;
        const tweet: XTweet = {
          id: next.toString(),
          text,
          createdAt: new Date(now()).toISOString(),
          ...(replyTo ? { inReplyTo: replyTo } : {}),
        };
        tweets.push(tweet);
        return {
          status: 201,
          headers,
          body: { data: { id: tweet.id, text, edit_history_tweet_ids: [tweet.id] } },
        };
      }
      if (request.method === 'GET' && request.path === '/2/users/me') {
        return { status: 200, headers: limits(), body: { data: user } };
      }
      const timeline = request.path.match(/^\/2\/users\/(\d+)\/tweets$/);
      if (request.method === 'GET' && timeline && !plan.readsTimeline) {
        // Body as reported for plans without timeline access (xdevplatform/samples#129,
        // lunaperegrina/twitter-banner-followers#2).
        return {
          status: 403,
          headers: limits(),
          body: {
            client_id: '27316216',
            detail:
              'When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens from a Twitter developer App that is attached to a Project. You can create a project via the developer portal.',
            registration_url: 'https://developer.twitter.com/en/docs/projects/overview',
            title: 'Client Forbidden',
            required_enrollment: 'Appropriate Level of API Access',
            reason: 'client-not-enrolled',
            type: 'https://api.twitter.com/2/problems/client-forbidden',
          },
        };
      }
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
  return { ...server, quotas: { window, userDay }, tweets: () => tweets.map((t) => ({ ...t })) };
}
