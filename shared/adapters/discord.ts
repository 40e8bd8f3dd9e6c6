import { DiscordAPIError, HTTPError, RateLimitError, REST } from '@discordjs/rest';
import { Routes } from 'discord-api-types/v10';
import { errorForStatus, TransientError } from '../errors';
import type { ChannelSource } from '../ports';
import { type RetryOptions, retryMapped } from './retry';

export interface DiscordOptions {
  token: string;
  /** e.g. https://discord.com/api; the client appends /v10. */
  baseUrl: string;
  timeoutMs?: number;
  retry?: Partial<RetryOptions>;
}

function toDigestError(error: unknown): Error {
  if (error instanceof RateLimitError) {
    return errorForStatus('discord', 429, 'rate limited', error.retryAfter);
  }
  if (error instanceof DiscordAPIError || error instanceof HTTPError) {
    return errorForStatus('discord', error.status, error.message);
  }
  return new TransientError(`discord request failed: ${(error as Error).message}`, { cause: error });
}

/**
 * Discord over REST only (no gateway socket to hold a Lambda open). 429s are
 * rejected, not retried forever: `retryMapped` honours `retry_after` while
 * it fits the caller's budget and hands longer waits to the state machine.
 */
export function createDiscordChannelSource(options: DiscordOptions): ChannelSource {
  const rest = new REST({
    api: options.baseUrl,
    version: '10',
    timeout: options.timeoutMs ?? 15_000,
    retries: 0,
    rejectOnRateLimit: () => true,
  }).setToken(options.token);
  const retry: RetryOptions = { maxAttempts: 4, baseDelayMs: 500, maxWaitMs: 10_000, ...options.retry };
  return {
    fetchPage: (request) =>
      retryMapped(
        async () => {
          const query = new URLSearchParams({ after: request.after, limit: String(request.limit) });
          const page = await rest.get(Routes.channelMessages(request.channelId), { query });
          return Array.isArray(page) ? (page as unknown[]) : [];
        },
        toDigestError,
        retry,
      ),
  };
}
