import { resumeScheduleName } from '../config/aws-names';
import { DEFAULT_AUTO_RESUME, planAutoResume } from '../domain/auto-resume';
import type { AutoResumeRecord, ResumeScheduler, RunLedger, RunStatus, StepName, StepRecord } from '../ports';
import type { StartRunInput } from './begin-run';
import type { RunRef } from './run-state';

export interface AutoResumeDeps {
  ledger: RunLedger;
  /**
   * In AWS: the one-time Scheduler schedule that starts the resume. Locally there is none: the daemon
   * fires the plans it finds in the ledger.
   */
  scheduler?: ResumeScheduler;
  /** The pipeline's `autoResumeMinutes`; `[]` turns automatic resume off. */
  backoffMinutes: readonly number[] | undefined;
  now: () => Date;
  log: (message: string, data: Record<string, unknown>) => void;
}

/** Scheduler invokes with 60-second precision: a resume due now is set a minute ahead, never in the past. */
const MIN_LEAD_MS = 60_000;

/**
 * The input the resume's execution starts with: the same run id, `resume`, and which automatic attempt it
 * is (BeginRun takes the run only while that plan is still `scheduled`, so it runs once).
 */
export function resumeInput(
  run: Pick<RunRef, 'pipelineId' | 'runId' | 'trigger' | 'scheduleName'>,
  attempt: number,
): StartRunInput {
  return {
    pipelineId: run.pipelineId,
    trigger: run.trigger,
    ...(run.scheduleName ? { scheduleName: run.scheduleName } : {}),
    runId: run.runId,
    resume: true,
    autoResumeAttempt: attempt,
  };
}

/**
 * After a run closed partial or failed: plan its automatic resume if its cause is transient (a quota that
 * resets, an outage), record the plan on the run, and in AWS create the one-time schedule that starts it.
 * The run is already closed, so nothing here throws (a retried FinishRun would close and count it again):
 * a schedule that could not be created is written on the plan, for `runs show`.
 */
export async function scheduleAutoResume(
  deps: AutoResumeDeps,
  run: RunRef,
  status: RunStatus,
  steps: Partial<Record<StepName, StepRecord>>,
): Promise<AutoResumeRecord | undefined> {
  // A dry run changes nothing worth finishing; a replay's source run is not kept on the record to resume it by.
  if (run.dryRun || run.trigger === 'replay') return undefined;
  const now = deps.now();
  const backoffMinutes = deps.backoffMinutes ?? DEFAULT_AUTO_RESUME.backoffMinutes;
  // The attempt counts this execution's own place in the chain, so a retried FinishRun plans the same one.
  const plan = planAutoResume(status, steps, run.autoResumeAttempt ?? 0, now, { backoffMinutes });
  if (!plan) {
    if (run.autoResumeAttempt) {
      deps.log('no further automatic resume', { runId: run.runId, attempts: run.autoResumeAttempt, status });
    }
    return undefined;
  }
  const at = new Date(Math.max(Date.parse(plan.at), now.getTime() + MIN_LEAD_MS)).toISOString();
  const name = resumeScheduleName(run.pipelineId, run.runId, plan.attempt);
  const record: AutoResumeRecord = {
    attempt: plan.attempt,
    at,
    reason: plan.reason,
    state: 'scheduled',
    ...(deps.scheduler ? { scheduleName: name } : {}),
  };
  try {
    await deps.ledger.recordAutoResume(run.pipelineId, run.runId, record);
    if (deps.scheduler) {
      try {
        await deps.scheduler.schedule({
          name,
          at,
          input: resumeInput(run, plan.attempt),
          description: `automatic resume ${plan.attempt} of run ${run.runId} (${run.pipelineId})`,
        });
      } catch (error) {
        const failed = { ...record, error: describe(error) };
        await deps.ledger.recordAutoResume(run.pipelineId, run.runId, failed);
        deps.log('automatic resume not scheduled', { runId: run.runId, name, error: failed.error });
        return failed;
      }
    }
    deps.log('automatic resume planned', {
      runId: run.runId,
      attempt: plan.attempt,
      at,
      reason: plan.reason,
    });
    return record;
  } catch (error) {
    deps.log('automatic resume not recorded', { runId: run.runId, error: describe(error) });
    return undefined;
  }
}

const describe = (error: unknown) =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);
