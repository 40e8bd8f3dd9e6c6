/**
 * Automatic resume: a run that ended partial or failed on a transient cause
 * (a quota that resets later, an outage) is resumed by itself under the same
 * run id — at the quota's reset when one is known, else after a growing
 * delay — and never after a cause a retry cannot fix (bad credentials, an
 * invalid config, a publication whose outcome only an operator can settle).
 */
import { STEP_NAMES, type StepName, type StepRecord } from '../ports';

export interface AutoResumePolicy {
  /** Delays of the 1st, 2nd, 3rd… automatic resume when no reset time is known. */
  backoffMinutes: readonly number[];
}

export const DEFAULT_AUTO_RESUME: AutoResumePolicy = { backoffMinutes: [5, 10, 20] };

/** Error names a later attempt can get past on its own. */
const TRANSIENT = new Set([
  'TransientError',
  'RateLimitedError',
  'States.Timeout',
  'Lambda.ServiceException',
]);

export interface ResumePlan {
  /** When to resume (ISO). */
  at: string;
  /** 1 for the first automatic resume of this run. */
  attempt: number;
  reason: string;
}

/**
 * When to resume a run that ended with these steps, if at all. `attempt` is
 * the number of automatic resumes already made; after the last backoff step
 * the run is left for the operator.
 */
export function planAutoResume(
  status: 'succeeded' | 'partial' | 'failed' | string,
  steps: Partial<Record<StepName, StepRecord>>,
  attemptsSoFar: number,
  now: Date,
  policy: AutoResumePolicy = DEFAULT_AUTO_RESUME,
): ResumePlan | undefined {
  if (status !== 'partial' && status !== 'failed') return undefined;
  const stopped = STEP_NAMES.map((name) => [name, steps[name]] as const).filter(
    ([, s]) => s?.status === 'failed' || s?.status === 'partial',
  );
  if (stopped.length === 0) return undefined;
  // One cause the run cannot get past by itself is enough to leave it to the operator.
  const transient = stopped.every(
    ([, s]) => (s?.status === 'partial' && s.retryAt !== undefined) || TRANSIENT.has(s?.error?.name ?? ''),
  );
  if (!transient) return undefined;
  const delay = policy.backoffMinutes[attemptsSoFar];
  if (delay === undefined) return undefined;
  const resets = stopped.map(([, s]) => Date.parse(s?.retryAt ?? '')).filter((t) => !Number.isNaN(t));
  const at = resets.length > 0 ? Math.max(...resets, now.getTime()) : now.getTime() + delay * 60_000;
  const names = stopped.map(([name]) => name).join(', ');
  return {
    at: new Date(at).toISOString(),
    attempt: attemptsSoFar + 1,
    reason: resets.length
      ? `${names} stopped on a quota that resets at ${new Date(Math.max(...resets)).toISOString()}`
      : `${names} failed on a transient error; retry ${attemptsSoFar + 1} of ${policy.backoffMinutes.length} after ${delay} min`,
  };
}
