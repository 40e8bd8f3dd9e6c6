import {
  type LatencyProfile,
  latencyProfile,
  type SandboxResponse,
  type SandboxServer,
  startSandboxServer,
} from './http';
import { Quota } from './quota';

/** What the bot is allowed to do in one channel (Discord permission names). */
export interface ChannelPermissions {
  viewChannel: boolean;
  readMessageHistory: boolean;
}

export interface DiscordSandbox extends SandboxServer {
  addMessages(channelId: string, messages: unknown[]): void;
  /** Turn the bot's MESSAGE_CONTENT privileged intent on or off (Developer Portal → Bot). */
  setMessageContentIntent(enabled: boolean): void;
  /** Grant or revoke the bot's permissions in a channel. */
  setPermissions(channelId: string, permissions: Partial<ChannelPermissions>): void;
  /**
   * The channel itself is being rate limited for everyone (a busy resource):
   * every request to it is answered 429 with `X-RateLimit-Scope: shared` until
   * `seconds` have passed.
   */
  limitShared(channelId: string, seconds: number): void;
  /** Use up the bot's global 50 requests/second now. */
  exhaustGlobal(): void;
}

export interface DiscordSandboxOptions {
  token: string;
  channels: Record<string, unknown[]>;
  port?: number;
  latency?: LatencyProfile;
  /** The bot's own user id: its messages and those that mention it keep their content without the intent. */
  botUserId?: string;
  /** Default true, as the README asks operators to enable it. */
  messageContentIntent?: boolean;
  permissions?: Record<string, Partial<ChannelPermissions>>;
  /** Per-channel bucket of GET …/messages; defaults to 5 per 5 s (realistic) or 5 per 50 ms (fast). */
  routeLimit?: { limit: number; windowMs: number };
}

/**
 * Per-route buckets as Discord runs them: a bucket's window opens with its first
 * request and resets `X-RateLimit-Reset-After` seconds later (rate-limits.mdx, Header Format).
 */
class RouteBuckets {
  private readonly open = new Map<string, { start: number; count: number }>();
  constructor(
    readonly limit: number,
    private readonly windowMs: number,
  ) {}
  take(key: string, nowMs: number): { allowed: boolean; remaining: number; resetAt: number } {
    let entry = this.open.get(key);
    if (!entry || nowMs >= entry.start + this.windowMs) {
      entry = { start: nowMs, count: 0 };
      this.open.set(key, entry);
    }
    const resetAt = entry.start + this.windowMs;
    if (entry.count >= this.limit) return { allowed: false, remaining: 0, resetAt };
    entry.count += 1;
    return { allowed: true, remaining: this.limit - entry.count, resetAt };
  }
}

const idOf = (m: unknown) =>
  BigInt((m as { id?: string }).id?.match(/^\d+$/) ? (m as { id: string }).id : '0');

const error = (status: number, message: string, code: number): SandboxResponse => ({
  status,
  // Discord's JSON error body: {"message","code"}. discord/discord-api-docs developers/topics/opcodes-and-status-codes.mdx
  body: { message, code },
});

/**
 * Without MESSAGE_CONTENT "an app will receive empty values in the content,
 * embeds, attachments, and components fields while poll will be omitted",
 * except in messages it sent or that mention it (discord/discord-api-docs
 * developers/resources/message.mdx, developers/events/gateway.mdx Message
 * Content Intent). The docs do not say what a forward's snapshot keeps; we
 * blank it too, as it is the same message content (an assumption).
 */
function withoutContent(message: unknown, botUserId: string | undefined): unknown {
  if (typeof message !== 'object' || message === null) return message;
  const m = message as Record<string, unknown>;
  const author = m.author as { id?: unknown } | undefined;
  const mentions = Array.isArray(m.mentions) ? (m.mentions as { id?: unknown }[]) : [];
  if (botUserId && (author?.id === botUserId || mentions.some((u) => u.id === botUserId))) return message;
  const blank = (fields: Record<string, unknown>) => {
    const { poll: _omitted, ...rest } = fields;
    return { ...rest, content: '', embeds: [], attachments: [], components: [] };
  };
  const snapshots = Array.isArray(m.message_snapshots)
    ? (m.message_snapshots as { message?: Record<string, unknown> }[]).map((s) => ({
        ...s,
        message: blank(s.message ?? {}),
      }))
    : undefined;
  return { ...blank(m), ...(snapshots ? { message_snapshots: snapshots } : {}) };
}

/**
 * Discord REST v10, the part we read: a channel, and its messages newest first,
 * paged by snowflake; with Discord's permissions, intent, error bodies and rate limits.
 */
export async function startDiscordSandbox(options: DiscordSandboxOptions): Promise<DiscordSandbox> {
  const channels = new Map(Object.entries(options.channels).map(([id, msgs]) => [id, [...msgs]]));
  const permissions = new Map(Object.entries(options.permissions ?? {}));
  let intent = options.messageContentIntent ?? true;
  const sharedUntil = new Map<string, number>();
  const profile = options.latency ?? latencyProfile();
  // The bucket size is not documented ("should not be hard coded"); 5 per 5 s is what
  // people observe on GET /channels/{id}/messages: discord/discord-api-docs#8161 ("0/5"),
  // EionRobb/purple-discord#378 ("5-per-5-second"). The fast profile keeps the protocol, not the wait.
  const routeLimit = options.routeLimit ?? { limit: 5, windowMs: profile === 'realistic' ? 5_000 : 50 };
  const buckets = new RouteBuckets(routeLimit.limit, routeLimit.windowMs);

  // "All bots can make up to 50 requests per second": developers/topics/rate-limits.mdx, Global Rate Limit.
  const global = new Quota({ limit: 50, windowMs: 1_000 });
  const BUCKET = 'a06de3f2b5f1c2e4d8b7a9c0e1f2a3b4';

  const rateHeaders = (remaining: number, resetAt: number): Record<string, string> => {
    const resetAfter = Math.max(0, resetAt - Date.now()) / 1000;
    // On every answer; Reset in epoch seconds, Reset-After in seconds, both with decimals. rate-limits.mdx, Header Format.
    return {
      'x-ratelimit-limit': String(routeLimit.limit),
      'x-ratelimit-remaining': String(remaining),
      'x-ratelimit-reset': (resetAt / 1000).toFixed(3),
      'x-ratelimit-reset-after': resetAfter.toFixed(3),
      'x-ratelimit-bucket': BUCKET,
    };
  };
  const tooMany = (
    scope: 'user' | 'shared' | 'global',
    retryAfterSeconds: number,
    headers: Record<string, string>,
  ): SandboxResponse => ({
    status: 429,
    headers: {
      ...headers,
      // Retry-After in whole seconds, retry_after with decimals, X-RateLimit-Scope only on 429s,
      // X-RateLimit-Global only for the global limit: rate-limits.mdx, Exceeding A Rate Limit.
      'retry-after': String(Math.ceil(retryAfterSeconds)),
      'x-ratelimit-scope': scope,
      ...(scope === 'global' ? { 'x-ratelimit-global': 'true' } : {}),
    },
    body: {
      message: scope === 'shared' ? 'The resource is being rate limited.' : 'You are being rate limited.',
      retry_after: Number(retryAfterSeconds.toFixed(3)),
      global: scope === 'global',
    },
  });

  const server = await startSandboxServer({
    name: 'discord',
    latency: profile,
    ...(options.port ? { port: options.port } : {}),
    // No published figure: an estimate of a REST read from a European client (tens to ~200 ms).
    realisticLatency: () => 150,
    faultResponse: (fault) =>
      tooMany('user', fault.retryAfterSeconds, rateHeaders(0, Date.now() + fault.retryAfterSeconds * 1000)),
    route: (request) => {
      const match = request.path.match(/^\/api\/v10\/channels\/(\d+)(\/messages)?$/);
      if (!match || request.method !== 'GET') return error(404, '404: Not Found', 0);
      if (request.headers.authorization !== `Bot ${options.token}`) return error(401, '401: Unauthorized', 0);
      const channelId = match[1] ?? '';

      const now = Date.now();
      const globally = global.take(options.token);
      if (!globally.allowed) return tooMany('global', (globally.resetAt - now) / 1000, {});
      // Per route and top-level resource (the channel): rate-limits.mdx, per-route rate limits.
      const bucketKey = `${match[2] ?? ''}:${channelId}`;
      const shared = sharedUntil.get(channelId) ?? 0;
      if (shared > now) {
        // A shared 429 leaves the bot's own bucket alone (the docs' example keeps Remaining 9).
        return tooMany('shared', (shared - now) / 1000, rateHeaders(routeLimit.limit - 1, shared));
      }
      const bucket = buckets.take(bucketKey, now);
      if (!bucket.allowed)
        return tooMany('user', (bucket.resetAt - now) / 1000, rateHeaders(0, bucket.resetAt));
      const headers = rateHeaders(bucket.remaining, bucket.resetAt);

      const messages = channels.get(channelId);
      if (!messages) return { ...error(404, 'Unknown Channel', 10003), headers };
      const granted = { viewChannel: true, readMessageHistory: true, ...permissions.get(channelId) };
      // Without VIEW_CHANNEL the channel is invisible: 403 Missing Access (50001). message.mdx, Get Channel Messages.
      if (!granted.viewChannel) return { ...error(403, 'Missing Access', 50001), headers };
      const sorted = [...messages].sort((a, b) => (idOf(a) < idOf(b) ? -1 : 1));
      if (!match[2]) {
        // GET /channels/{id}: the channel object; last_message_id "may not point to an existing or valid message".
        const last = sorted.at(-1) as { id?: string } | undefined;
        return {
          status: 200,
          headers,
          body: {
            id: channelId,
            type: 0,
            guild_id: '1100000000000000000',
            name: 'links',
            last_message_id: last?.id ?? null,
          },
        };
      }

      const limit = Number(request.query.get('limit') ?? 50);
      if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
        return {
          status: 400,
          headers,
          body: {
            code: 50035,
            message: 'Invalid Form Body',
            errors: {
              limit: {
                _errors: [
                  { code: 'NUMBER_TYPE_MAX', message: 'int value should be less than or equal to 100.' },
                ],
              },
            },
          },
        };
      }
      // "If the current user is missing the READ_MESSAGE_HISTORY permission in the channel,
      // then no messages will be returned": a 200 with []. message.mdx, Get Channel Messages.
      if (!granted.readMessageHistory) return { status: 200, headers, body: [] };
      const after = request.query.get('after');
      const before = request.query.get('before');
      let page: unknown[];
      if (after) page = sorted.filter((m) => idOf(m) > BigInt(after)).slice(0, limit);
      else if (before) page = sorted.filter((m) => idOf(m) < BigInt(before)).slice(-limit);
      else page = sorted.slice(-limit);
      // Newest first, whatever the direction ("from newest to oldest"): message.mdx, Get Channel Messages.
      const shown = intent ? page : page.map((m) => withoutContent(m, options.botUserId));
      return { status: 200, headers, body: shown.reverse() };
    },
  });
  return {
    ...server,
    addMessages: (channelId, msgs) => {
      channels.set(channelId, [...(channels.get(channelId) ?? []), ...msgs]);
    },
    setMessageContentIntent: (enabled) => {
      intent = enabled;
    },
    setPermissions: (channelId, granted) => {
      permissions.set(channelId, { ...permissions.get(channelId), ...granted });
    },
    limitShared: (channelId, seconds) => {
      sharedUntil.set(channelId, Date.now() + seconds * 1000);
    },
    exhaustGlobal: () => global.exhaust(options.token),
  };
}
