import {
  DiscordAPIError,
  HTTPError,
  RateLimitError,
  REST,
  RESTEvents,
  type ResponseLike,
} from '@discordjs/rest';
// The REST part only (error codes and routes), not the gateway and payload enums of discord-api-types/v10.
import { RESTJSONErrorCodes, Routes } from 'discord-api-types/rest/v10';
import {
  AuthError,
  ConfigError,
  errorForStatus,
  quotaExhausted,
  RateLimitedError,
  TransientError,
} from '../errors';
import type { ChannelSource, QuotaObserver } from '../ports';
import { type RetryOptions, retryMapped } from './retry';

export interface DiscordOptions {
  token: string;
  /** e.g. https://discord.com/api; the client appends /v10. */
  baseUrl: string;
  timeoutMs?: number;
  retry?: Partial<RetryOptions>;
  /** Told what each answer's X-RateLimit-Limit/-Remaining say of its route's bucket. */
  onQuota?: QuotaObserver;
}

/**
 * The route bucket's use from an answer's headers: X-RateLimit-Limit ("the number of requests that can be
 * made") and X-RateLimit-Remaining (discord/discord-api-docs developers/topics/rate-limits.mdx, Header Format).
 */
function reportBucket(response: ResponseLike, onQuota: QuotaObserver): void {
  const limit = Number(response.headers.get('x-ratelimit-limit'));
  const remaining = Number(response.headers.get('x-ratelimit-remaining'));
  // An answer without them (no bucket on that route) says nothing.
  if (!response.headers.has('x-ratelimit-limit') || !Number.isFinite(limit) || !Number.isFinite(remaining))
    return;
  onQuota({ api: 'discord', quota: 'route-bucket', used: limit - remaining, limit });
}

/**
 * Our error for a Discord failure. The JSON error codes name what is missing
 * (discord/discord-api-docs developers/topics/opcodes-and-status-codes.mdx);
 * reading messages needs View Channel, and without Read Message History the
 * channel answers no messages at all (developers/resources/message.mdx, Get Channel Messages).
 */
function toDigestError(error: unknown, channelId: string, maxWaitMs: number): Error {
  if (error instanceof RateLimitError) {
    // @discordjs/rest: retryAfter and timeToReset in ms; scope from X-RateLimit-Scope
    // (user, global or shared); global when the bot's 50 req/s are spent.
    // discordjs/discord.js packages/rest/src/lib/errors/RateLimitError.ts
    const scope = error.global ? 'global' : error.scope;
    const what =
      scope === 'shared'
        ? `shared rate limit of channel ${channelId}`
        : `${scope} rate limit on ${error.route}`;
    const waitMs = Math.max(error.retryAfter, error.sublimitTimeout ?? 0);
    // A wait this process cannot afford (a shared limit can ask for many minutes) ends the step naming its reset.
    if (waitMs > maxWaitMs) return quotaExhausted('discord', what, new Date(Date.now() + waitMs));
    return new RateLimitedError(`discord answered 429: ${what}, retry after ${waitMs} ms`, waitMs, {
      cause: error,
    });
  }
  if (error instanceof DiscordAPIError) {
    const detail = `${error.message} (code ${error.code})`;
    switch (error.code) {
      case RESTJSONErrorCodes.MissingAccess:
        return new ConfigError(
          `discord answered 403 ${detail} for channel ${channelId}: the bot lacks the View Channel permission there ` +
            '(or is not in that server); grant it View Channel and Read Message History on the channel',
          { cause: error },
        );
      case RESTJSONErrorCodes.MissingPermissions:
        return new ConfigError(
          `discord answered 403 ${detail} for channel ${channelId}: grant the bot View Channel and Read Message History on the channel`,
          { cause: error },
        );
      case RESTJSONErrorCodes.UnknownChannel:
        return new ConfigError(`discord has no channel ${channelId} (code 10003): check discord.channelId`, {
          cause: error,
        });
    }
    if (error.status === 401) {
      return new AuthError(`discord answered 401 ${detail}: DISCORD_BOT_TOKEN is not a valid bot token`, {
        cause: error,
      });
    }
    return errorForStatus('discord', error.status, detail);
  }
  if (error instanceof HTTPError) return errorForStatus('discord', error.status, error.message);
  return new TransientError(`discord request failed: ${(error as Error).message}`, { cause: error });
}

/**
 * Discord over REST only (no gateway socket to hold a Lambda open). 429s are
 * rejected, not waited for inside the client: `retryMapped` honours the wait
 * (route, shared or global) while it fits the caller's budget and hands longer
 * waits to the state machine as a RateLimitedError naming the reset.
 */
export function createDiscordChannelSource(options: DiscordOptions): ChannelSource {
  // One per invocation, unlike the other SDK clients: it remembers each route's limit until the reset it was
  // told and refuses requests until then, while when to wait and when to resume is decided from Discord's
  // answers by this adapter and the state machine (test/e2e/rate-limit-wait.test.ts resumes a run whose
  // limit was lifted). Connections are pooled by Node's fetch whatever the instance. Requests go through global fetch ("to use global fetch, simply provide
  // `makeRequest: fetch`": @discordjs/rest RESTOptions.makeRequest), the transport of the package's web
  // build the bundles take (infra/bundling.ts), so tests and Lambda send the same way.
  const rest = new REST({
    api: options.baseUrl,
    version: '10',
    timeout: options.timeoutMs ?? 15_000,
    retries: 0,
    rejectOnRateLimit: () => true,
    makeRequest: fetch,
  }).setToken(options.token);
  const { onQuota } = options;
  // The client hands each raw answer to its `response` listeners (a 429 too), before it reads the body.
  if (onQuota) rest.on(RESTEvents.Response, (_request, response) => reportBucket(response, onQuota));
  const retry: RetryOptions = { maxAttempts: 4, baseDelayMs: 500, maxWaitMs: 10_000, ...options.retry };
  const call = <T>(channelId: string, operation: () => Promise<T>) =>
    retryMapped(operation, (error) => toDigestError(error, channelId, retry.maxWaitMs), retry);
  return {
    fetchPage: (request) =>
      call(request.channelId, async () => {
        const query = new URLSearchParams({ after: request.after, limit: String(request.limit) });
        const page = await rest.get(Routes.channelMessages(request.channelId), { query });
        return Array.isArray(page) ? (page as unknown[]) : [];
      }),
    lastMessageId: (channelId) =>
      call(channelId, async () => {
        const channel = (await rest.get(Routes.channel(channelId))) as { last_message_id?: unknown };
        return typeof channel.last_message_id === 'string' ? channel.last_message_id : undefined;
      }),
  };
}
