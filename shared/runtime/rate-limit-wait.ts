import type { RateLimitedError } from '../errors';

/** The longest single wait the state machine takes for a rate limit (a Wait state costs nothing). */
export const MAX_STATE_MACHINE_WAIT_S = 15 * 60;
/**
 * Waits end this long after the run started, leaving the rest of the
 * execution's hour for the steps themselves; a quota that resets later ends
 * the step and the run is resumed after the reset.
 */
export const RUN_WAIT_BUDGET_MS = 30 * 60_000;

/**
 * How long the state machine should wait before running the task again for
 * this rate limit, or undefined when its reset is beyond what the run may wait
 * (one wait of at most 15 minutes, ending within 30 minutes of the run's start).
 */
export function stateMachineWaitSeconds(
  error: RateLimitedError,
  runStartedAt: string,
  startedMs: number,
): number | undefined {
  const waitSeconds = Math.max(1, Math.ceil(error.retryAfterMs / 1000));
  const resumeAt = startedMs + waitSeconds * 1000;
  return waitSeconds <= MAX_STATE_MACHINE_WAIT_S &&
    resumeAt <= new Date(runStartedAt).getTime() + RUN_WAIT_BUDGET_MS
    ? waitSeconds
    : undefined;
}

/** The error's message, naming its reset time when it does not already: the operator needs it to resume. */
export const withResetTime = (error: RateLimitedError) =>
  /resets at/.test(error.message)
    ? error.message
    : `${error.message} (it resets at ${error.resetAt.toISOString()})`;
