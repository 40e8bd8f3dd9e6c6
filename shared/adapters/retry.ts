import { RateLimitedError, TransientError, UnknownOutcomeError } from '../errors';

export interface RetryOptions {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** First backoff for transient errors; doubled each attempt, with full jitter. */
  baseDelayMs: number;
  /**
   * The longest single wait this process may do. A rate limit asking for more is
   * rethrown at once, so the state machine waits instead of a billed Lambda.
   */
  maxWaitMs: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Retry `operation` on TransientError (backoff with full jitter) and on
 * RateLimitedError (the upstream's own wait), within `maxAttempts` and never
 * waiting longer than `maxWaitMs` at once. Permanent errors pass straight
 * through, and so does UnknownOutcomeError: a write whose answer was lost may
 * have happened, so only the caller, after looking, may try it again.
 */
export async function retryTransient<T>(operation: () => Promise<T>, options: RetryOptions): Promise<T> {
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await operation();
    } catch (error) {
      const retryable = error instanceof TransientError && !(error instanceof UnknownOutcomeError);
      if (!retryable || attempt >= options.maxAttempts) throw error;
      const wait =
        error instanceof RateLimitedError
          ? error.retryAfterMs
          : Math.floor(random() * options.baseDelayMs * 2 ** (attempt - 1));
      if (wait > options.maxWaitMs) throw error;
      await sleep(wait);
    }
  }
}

/**
 * `retryTransient` for a client call whose failures first need translating
 * into our error classes (an SDK's own error types in, DigestError out).
 */
export function retryMapped<T>(
  operation: () => Promise<T>,
  toError: (error: unknown) => Error,
  options: RetryOptions,
): Promise<T> {
  return retryTransient(async () => {
    try {
      return await operation();
    } catch (error) {
      throw toError(error);
    }
  }, options);
}
