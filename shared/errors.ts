/**
 * Error classes are the contract with Step Functions: `Retry` and `Catch` match on
 * `error.name`, so transient and permanent failures get distinct names.
 * Every class sets `name` explicitly because minifiers rename classes.
 */
export class DigestError extends Error {
  override name = 'DigestError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Worth retrying later: 429, 5xx, timeouts, throttling. */
export class TransientError extends DigestError {
  override name = 'TransientError';
}

/**
 * The upstream asked us to wait; `retryAfterMs` is its own figure. A quota that
 * resets much later (a daily cap) carries `resetAt`, and its message names it,
 * so the run ends partial and the operator knows when `--resume` will work.
 */
export class RateLimitedError extends TransientError {
  override name = 'RateLimitedError';
  readonly resetAt: Date;
  constructor(
    message: string,
    readonly retryAfterMs: number,
    options?: { cause?: unknown; now?: number },
  ) {
    super(message, options);
    this.resetAt = new Date((options?.now ?? Date.now()) + retryAfterMs);
  }
}

/**
 * A quota that will not come back within this run (X's 24-hour cap, Gemini's
 * per-day quota, a shared Discord limit asking for many minutes): never retried
 * in process; the message names the quota and when it resets.
 */
export function quotaExhausted(service: string, quota: string, resetAt: Date, now = Date.now()) {
  return new RateLimitedError(
    `${service} ${quota} exhausted; it resets at ${resetAt.toISOString()}: resume the run after that`,
    Math.max(0, resetAt.getTime() - now),
    { now },
  );
}

/** Retrying will not help: bad credentials, forbidden, invalid input or config. */
export class PermanentError extends DigestError {
  override name = 'PermanentError';
}

export class ConfigError extends PermanentError {
  override name = 'ConfigError';
}

/** The spreadsheet would pass its cell limit: a retry would too, so the rows wait in the main tab. */
export class SheetFullError extends PermanentError {
  override name = 'SheetFullError';
}

export class AuthError extends PermanentError {
  override name = 'AuthError';
}

/** An upstream answered, but not with what its contract promises. */
export class InvalidResponseError extends PermanentError {
  override name = 'InvalidResponseError';
}

/**
 * A call with a side effect (a post) whose answer never came: it may or may not
 * have happened. The caller must look before it tries again.
 */
export class UnknownOutcomeError extends TransientError {
  override name = 'UnknownOutcomeError';
}

/** X refused a post as a duplicate of one already on the account. */
export class DuplicatePostError extends PermanentError {
  override name = 'DuplicatePostError';
}

/** The error name the state machine's Catch of a rate-limit wait matches. */
export const WAIT_FOR_RATE_LIMIT = 'WaitForRateLimit';

/**
 * A step or batch stopped by a rate limit the state machine waits out, for free: its Catch reads the time
 * to run it again from the caught Cause (the Lambda error document's errorMessage, which is that time alone,
 * as a Wait state's TimestampPath takes it), waits until then and runs it again. An error, not a result
 * field, so that a Choice after every step is not paid on every run: only a run that waits pays the
 * transitions of waiting. Not transient: Retry's fixed backoff is not what the upstream asked for.
 */
export class WaitForRateLimitError extends DigestError {
  override name = WAIT_FOR_RATE_LIMIT;
  constructor(readonly resumeAt: Date) {
    super(waitTimestamp(resumeAt));
  }
}

/**
 * A Wait state's timestamp: RFC 3339 with an uppercase T and Z, whole seconds ("Step Functions considers
 * the time value up to seconds and truncates milliseconds", so round up instead of waking early).
 * Source: https://docs.aws.amazon.com/step-functions/latest/dg/state-wait.html
 */
export function waitTimestamp(at: Date): string {
  return new Date(Math.ceil(at.getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** Names Step Functions retries with backoff; everything else is caught and recorded. */
export const TRANSIENT_ERROR_NAMES = ['TransientError', 'RateLimitedError', 'UnknownOutcomeError'] as const;

/** Classify an HTTP status the same way for every adapter. */
export function errorForStatus(
  service: string,
  status: number,
  detail: string,
  retryAfterMs?: number,
): DigestError {
  const message = `${service} answered ${status}: ${detail}`;
  if (status === 429) return new RateLimitedError(message, retryAfterMs ?? 1000);
  if (status >= 500 || status === 408) return new TransientError(message);
  if (status === 401 || status === 403) return new AuthError(message);
  return new PermanentError(message);
}

/**
 * The reviewer turned the draft down: the SendTaskFailure error name of the waiting review task, so the run
 * ends partial with nothing posted (and is never resumed by itself).
 */
export class ReviewRejectedError extends PermanentError {
  override name = 'ReviewRejected';
}

/** No decision came within `review.expiresHours`: nothing is posted. */
export class ReviewExpiredError extends PermanentError {
  override name = 'ReviewExpired';
}

/** An approve link that is altered, expired or for another run: refused, never acted on. */
export class ReviewLinkError extends PermanentError {
  override name = 'ReviewLinkError';
}
