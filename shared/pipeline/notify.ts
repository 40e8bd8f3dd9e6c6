import type { DestinationConfig, NotifyEvent, PipelineConfig } from '../config/schema';
import type { DeliveryJournal, Destination, DigestMessage, StepName } from '../ports';
import { type DeliveryOutcome, deliverOnce } from './deliver';
import type { RunReport } from './finish-run';

/** One thing a person must hear about: what happened, to which run, and the one command that helps. */
export interface Notice {
  event: NotifyEvent;
  pipelineId: string;
  runId: string;
  /** One line: what happened. */
  what: string;
  /** The one command that helps. */
  command: string;
  /**
   * When it happened (ISO), fixed by the event rather than read from the clock: a retry
   * renders the same bytes (a signed webhook's receiver refuses one key with two bodies).
   */
  at: string;
  /**
   * Which occurrence of the event within the run, when it may legitimately happen more than once
   * (a review asked again by a resumed execution): part of the journal key, the same on every retry.
   */
  attempt?: string;
  /** Text shown between what happened and the command (the draft under review). */
  body?: readonly string[];
  /** Links to act on (a review's signed approve/reject links). */
  links?: readonly string[];
}

export interface NotifyDeps {
  pipeline: PipelineConfig;
  journal: DeliveryJournal;
  destinationFor: (spec: DestinationConfig) => Promise<Destination>;
  log: (message: string, data: Record<string, unknown>) => void;
}

const HEADLINES: Record<NotifyEvent, string> = {
  'run-failed': 'run failed',
  'run-partial': 'run partly done',
  'schedule-paused': 'schedule paused after failures',
  'run-missed': 'scheduled run did not happen',
  'publication-unknown': 'publication outcome unknown',
  'quota-exhausted': 'quota exhausted',
  'review-requested': 'draft waiting for review',
};

/** The journal key of one notification: one per run, event (and attempt) and destination, never more. */
export const notificationKeyOf = (notice: Notice, destination: string) =>
  `${notice.runId}#notify-${notice.event}${notice.attempt ? `-${notice.attempt}` : ''}#${destination}`;

export function noticeMessage(notice: Notice): DigestMessage {
  return {
    pipelineId: notice.pipelineId,
    runId: notice.runId,
    title: `discord-digest ${notice.pipelineId}: ${HEADLINES[notice.event]} (${notice.runId})`,
    parts: [
      notice.what,
      ...(notice.body ?? []),
      `pipeline ${notice.pipelineId}, run ${notice.runId}`,
      `what helps: ${notice.command}`,
    ],
    links: [...(notice.links ?? [])],
    createdAt: notice.at,
  };
}

/**
 * Tell each notify destination that listens for the notice's event, once per
 * run and event: the delivery journal's conditional put is the idempotency
 * record, so a retried FinishRun or a second watchdog pass sends nothing new.
 * Never throws: a notification that cannot go out is logged, and never stops a run.
 */
export async function sendNotice(deps: NotifyDeps, notice: Notice): Promise<DeliveryOutcome[]> {
  const outcomes: DeliveryOutcome[] = [];
  for (const spec of deps.pipeline.notify) {
    if (spec.on && !spec.on.includes(notice.event)) continue;
    let outcome: DeliveryOutcome;
    try {
      const destination = await deps.destinationFor(spec);
      outcome = await deliverOnce(
        deps.journal,
        destination,
        notice.pipelineId,
        notificationKeyOf(notice, spec.name),
        noticeMessage(notice),
      );
    } catch (error) {
      outcome = {
        status: 'failed',
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      };
    }
    deps.log('notification handled', { event: notice.event, destination: spec.name, status: outcome.status });
    outcomes.push(outcome);
  }
  return outcomes;
}

const runsShow = (runId: string) => `npm run digest -- runs show ${runId}`;

/**
 * What a finished run must tell a person, one notice per event (a failed run is not also partial).
 * `at` is the run's start, the same on every retry of FinishRun.
 */
export function noticesForRun(report: RunReport, run: { at: string; scheduleName?: string }): Notice[] {
  const { at } = run;
  const { pipelineId, runId } = report;
  const base = { pipelineId, runId, at };
  const notices: Notice[] = [];
  if (report.status === 'failed' || report.status === 'partial') {
    notices.push({
      ...base,
      event: report.status === 'failed' ? 'run-failed' : 'run-partial',
      what: `run ${report.status}: ${report.reason ?? 'see its steps'}`,
      command: runsShow(runId),
    });
  }
  if (report.schedulePaused) {
    const schedule = run.scheduleName ?? '<schedule>';
    notices.push({
      ...base,
      event: 'schedule-paused',
      what: `schedule ${schedule} paused: ${report.schedulePaused}`,
      command: `npm run digest -- schedules resume ${pipelineId}/${schedule} --reason "<what was fixed>"`,
    });
  }
  const publish = report.steps.publish;
  if ((publish?.counts.partsUnknown ?? 0) > 0) {
    notices.push({
      ...base,
      event: 'publication-unknown',
      what: publish?.notes?.reason ?? 'a post may or may not be published',
      command: `npm run digest -- publish confirm ${runId} <postId> (it is on the account) or publish retry ${runId} (it is not)`,
    });
  } else if ((report.steps.deliver?.counts.destinationsUnknown ?? 0) > 0) {
    notices.push({
      ...base,
      event: 'publication-unknown',
      what: report.steps.deliver?.notes?.reason ?? 'a delivery may or may not have arrived',
      command: `npm run digest -- deliver retry ${runId} <destination> (only if it did not arrive)`,
    });
  }
  const quota = quotaStop(report);
  if (quota) {
    notices.push({
      ...base,
      event: 'quota-exhausted',
      what: `${quota.step}: ${quota.message}`,
      command: `npm run digest -- run --run-id ${runId} --resume (after ${quota.resetAt})`,
    });
  }
  return notices;
}

/** The first step stopped by a quota that resets later (a RateLimitedError with its reset, or a partial with one). */
function quotaStop(report: RunReport): { step: StepName; message: string; resetAt: string } | undefined {
  for (const [step, record] of Object.entries(report.steps) as [
    StepName,
    NonNullable<RunReport['steps'][StepName]>,
  ][]) {
    if (record.error?.name === 'RateLimitedError' && record.retryAt)
      return { step, message: record.error.message, resetAt: record.retryAt };
    if (record.status === 'partial' && record.notes?.resetAt)
      return { step, message: record.notes.reason ?? 'stopped by a quota', resetAt: record.notes.resetAt };
  }
  return undefined;
}
