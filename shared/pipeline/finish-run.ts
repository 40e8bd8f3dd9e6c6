import {
  type AutoResumeRecord,
  type ResumeScheduler,
  type RunLedger,
  type RunStatus,
  type ScheduleStateStore,
  STEP_NAMES,
  type StepName,
  type StepRecord,
} from '../ports';
import { scheduleAutoResume } from './auto-resume';
import { type Notice, noticesForRun } from './notify';
import { type StepInput, stepOutcome } from './run-state';

export interface FinishRunDeps {
  ledger: RunLedger;
  /** A scheduled run's outcome is counted against its schedule. */
  schedules: ScheduleStateStore;
  /** The pipeline's `maxConsecutiveFailures`: that many failed scheduled runs in a row pause the schedule. */
  maxConsecutiveFailures: number;
  /**
   * In AWS: disable the deployed schedule once it paused itself, so Scheduler stops delivering. The ledger's
   * pause is what counts (BeginRun skips paused runs), so locally there is nothing else to do.
   */
  disableSchedule?: (pipelineId: string, scheduleName: string) => Promise<void>;
  /** Automatic resume: the pipeline's `autoResumeMinutes`, and in AWS the Scheduler that fires the resume. */
  autoResume?: { backoffMinutes: readonly number[] | undefined; scheduler?: ResumeScheduler };
  /** Tell a person what needs one (a failed or partial run, a paused schedule, …); once per run and event. */
  notify?: (notice: Notice) => Promise<unknown>;
  now: () => Date;
  log: (message: string, data: Record<string, unknown>) => void;
}

export interface RunReport {
  pipelineId: string;
  runId: string;
  status: RunStatus;
  reason?: string;
  steps: Partial<Record<StepName, StepRecord>>;
  /** Set when this run's failure paused its schedule: why. */
  schedulePaused?: string;
  /** Set when the run will be resumed by itself: when, and why. */
  autoResume?: AutoResumeRecord;
}

/**
 * succeeded: no step failed or stopped short. failed: the run produced nothing
 * (every step that ran failed). partial: the rest, including a step that did
 * part of its work (`partial`), a failure after some work succeeded, and a
 * step stopped by a quota that resets after the run could wait.
 */
export function runStatus(steps: Partial<Record<StepName, StepRecord>>): {
  status: RunStatus;
  reason?: string;
} {
  const failed = STEP_NAMES.filter((s) => steps[s]?.status === 'failed');
  const short = STEP_NAMES.filter((s) => steps[s]?.status === 'partial');
  if (failed.length === 0 && short.length === 0) return { status: 'succeeded' };
  const reason = [
    ...short.map((s) => `${s}: ${steps[s]?.notes?.reason ?? 'partly done'}`),
    ...failed.map((s) =>
      `${s}: ${steps[s]?.error?.name ?? 'Error'} ${steps[s]?.error?.message ?? ''}`.trim(),
    ),
  ];
  const worked = STEP_NAMES.some((s) => steps[s]?.status === 'succeeded' || steps[s]?.status === 'partial');
  // A step stopped by a quota that resets later is work postponed, not lost: a resume finishes it.
  const waitingOnQuota = failed.some((s) => steps[s]?.error?.name === 'RateLimitedError');
  return { status: worked || waitingOnQuota ? 'partial' : 'failed', reason: reason.join('; ') };
}

/** Close the run's record with its final status and release the pipeline's lock. */
export async function finishRun(deps: FinishRunDeps, input: StepInput): Promise<RunReport> {
  const { run } = input;
  const steps: Partial<Record<StepName, StepRecord>> = {};
  for (const name of STEP_NAMES) {
    const outcome = stepOutcome(input, name);
    if (!outcome) continue;
    steps[name] = outcome;
    // Successful steps recorded themselves; a caught failure is recorded here.
    if (outcome.status === 'failed') await deps.ledger.recordStep(run.pipelineId, run.runId, name, outcome);
  }
  const result = runStatus(steps);
  await deps.ledger.finishRun(run.pipelineId, run.runId, {
    status: result.status,
    endedAt: deps.now().toISOString(),
    ...(result.reason ? { reason: result.reason } : {}),
  });
  await deps.ledger.releaseLock(run.pipelineId, run.runId);
  deps.log('run finished', { runId: run.runId, status: result.status });
  const schedulePaused = await countScheduledOutcome(deps, input, result.status);
  const autoResume = deps.autoResume
    ? await scheduleAutoResume({ ...deps, ...deps.autoResume }, run, result.status, steps)
    : undefined;
  const report: RunReport = {
    pipelineId: run.pipelineId,
    runId: run.runId,
    status: result.status,
    ...(result.reason ? { reason: result.reason } : {}),
    steps,
    ...(schedulePaused ? { schedulePaused } : {}),
    ...(autoResume ? { autoResume } : {}),
  };
  await notifyOutcome(deps, report, {
    at: run.startedAt,
    ...(run.scheduleName ? { scheduleName: run.scheduleName } : {}),
  });
  return report;
}

/**
 * Every problem of the run reaches a person. The run is closed already: a
 * notification that fails is logged, never thrown (a retried FinishRun would
 * close and count the run again); each is journalled, so a retry sends none twice.
 */
async function notifyOutcome(
  deps: FinishRunDeps,
  report: RunReport,
  run: Parameters<typeof noticesForRun>[1],
): Promise<void> {
  if (!deps.notify) return;
  for (const notice of noticesForRun(report, run)) {
    try {
      await deps.notify(notice);
    } catch (error) {
      deps.log('notification not sent', { event: notice.event, error: describe(error) });
    }
  }
}

/**
 * Count a scheduled run's outcome against its schedule; the run that makes it
 * `maxConsecutiveFailures` failures in a row pauses it (and in AWS disables it).
 * The run is already closed: a failure here is logged, never thrown, since a
 * retried FinishRun would count the same run twice.
 */
async function countScheduledOutcome(
  deps: FinishRunDeps,
  input: StepInput,
  status: RunStatus,
): Promise<string | undefined> {
  const { run } = input;
  if (run.trigger !== 'schedule' || !run.scheduleName) return undefined;
  // A run's failure counts once: its automatic resumes failing again must not pause the schedule for one outage.
  if (run.autoResumeAttempt !== undefined && status === 'failed') return undefined;
  const scheduleName = run.scheduleName;
  try {
    const { state, autoPaused } = await deps.schedules.recordRunOutcome(
      run.pipelineId,
      scheduleName,
      { runId: run.runId, status, at: deps.now().toISOString() },
      deps.maxConsecutiveFailures,
    );
    if (!autoPaused) return undefined;
    deps.log('schedule paused after consecutive failures', {
      scheduleName,
      consecutiveFailures: state.consecutiveFailures,
      reason: state.reason,
    });
    const reason = state.reason ?? `paused after ${state.consecutiveFailures} failed runs in a row`;
    try {
      await deps.disableSchedule?.(run.pipelineId, scheduleName);
    } catch (error) {
      // The ledger's pause still holds (BeginRun skips), and the next deploy re-applies it to Scheduler.
      deps.log('paused schedule not disabled in Scheduler', { scheduleName, error: describe(error) });
    }
    return reason;
  } catch (error) {
    deps.log('schedule outcome not recorded', { scheduleName, error: describe(error) });
    return undefined;
  }
}

const describe = (error: unknown) =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);
