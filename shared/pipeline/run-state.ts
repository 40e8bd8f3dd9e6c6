import * as z from 'zod';
import { RUN_ID_PATTERN } from '../domain/run-id';
import type { StepName, StepRecord } from '../ports';

/**
 * What travels between states: ids, keys and counts only (Lambda payloads are
 * capped at 256 KiB). Every larger fact lives in S3 or in the sheet.
 */
export const runRefSchema = z.object({
  pipelineId: z.string().min(1),
  runId: z.string().regex(RUN_ID_PATTERN),
  trigger: z.enum(['schedule', 'manual', 'replay']),
  /** The end of the collection window: the scheduled time, or the start of a manual run. */
  referenceTime: z.iso.datetime(),
  startedAt: z.iso.datetime(),
  dryRun: z.boolean(),
  /** The schedule that fired this run (kept across a resume); its time zone dates the draft. */
  scheduleName: z.string().optional(),
  /** Replay: the earlier run whose CSV this run processes again. */
  sourceRunId: z.string().regex(RUN_ID_PATTERN).optional(),
  /** This execution is the run's n-th automatic resume (shared/pipeline/auto-resume.ts). */
  autoResumeAttempt: z.number().int().min(1).optional(),
  proceed: z.boolean(),
  /**
   * Set by BeginRun when the pipeline's draft needs a person's approval before Publish: how long the
   * AwaitReview task waits for the decision (its TimeoutSecondsPath).
   */
  review: z.object({ timeoutSeconds: z.number().int().min(1) }).optional(),
});
export type RunRef = z.infer<typeof runRefSchema>;

/** A step's outcome as the state machine holds it: its own record, or the error Catch put in its place. */
const stepRecordSchema = z.object({
  status: z.enum(['succeeded', 'partial', 'failed', 'skipped']),
  endedAt: z.string(),
  durationMs: z.number().optional(),
  counts: z.record(z.string(), z.number()),
  notes: z.record(z.string(), z.string()).optional(),
  error: z.object({ name: z.string(), message: z.string() }).optional(),
  waitSeconds: z.number().optional(),
  retryAt: z.string().optional(),
  continues: z.boolean().optional(),
});
const caughtErrorSchema = z.object({ Error: z.string(), Cause: z.string().optional() });

export const stepInputSchema = z.object({
  run: runRefSchema,
  steps: z.record(z.string(), z.union([stepRecordSchema, caughtErrorSchema])).default({}),
});
export type StepInput = z.infer<typeof stepInputSchema>;

/** Read a previous step's outcome, turning a caught error into a failed record. */
export function stepOutcome(input: StepInput, step: StepName): StepRecord | undefined {
  const raw = input.steps[step];
  if (!raw) return undefined;
  if ('Error' in raw) {
    // The review task's TimeoutSeconds ran out: no one decided, which is not a transient failure to retry.
    if (step === 'review' && raw.Error === 'States.Timeout') {
      return {
        status: 'failed',
        endedAt: new Date().toISOString(),
        counts: {},
        error: {
          name: 'ReviewExpired',
          message: 'no decision before the review expired: nothing was published',
        },
      };
    }
    return {
      status: 'failed',
      endedAt: new Date().toISOString(),
      counts: {},
      error: { name: raw.Error, message: causeMessage(raw.Cause) },
    };
  }
  return raw;
}

/** Step Functions puts the Lambda's error as JSON text in `Cause`: keep its message only. */
function causeMessage(cause: string | undefined): string {
  if (!cause) return '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // not JSON: the cause is the message
  }
  return cause.slice(0, 500);
}

export const succeeded = (
  startedAt: number,
  counts: Record<string, number>,
  notes?: Record<string, string>,
) => record('succeeded', startedAt, counts, notes);

/** Some of the work is done and the rest is known: the run ends partial and a resume finishes it. */
export const partial = (
  startedAt: number,
  reason: string,
  counts: Record<string, number>,
  notes?: Record<string, string>,
) => record('partial', startedAt, counts, { ...notes, reason });

export const skipped = (startedAt: number, reason: string, counts: Record<string, number> = {}) =>
  record('skipped', startedAt, counts, { reason });

function record(
  status: StepRecord['status'],
  startedAt: number,
  counts: Record<string, number>,
  notes?: Record<string, string>,
): StepRecord {
  const now = Date.now();
  return {
    status,
    endedAt: new Date(now).toISOString(),
    durationMs: now - startedAt,
    counts,
    ...(notes ? { notes } : {}),
  };
}
