import * as z from 'zod';
import { fireRuleOfSchedule } from '../config/coverage';
import type { DigestConfig, PipelineConfig } from '../config/schema';
import { scheduledRunId } from '../domain/run-id';
import { type MissedSlot, missedSlots } from '../domain/schedule/missed';
import { PermanentError } from '../errors';
import type { RunLedger, ScheduleStateStore } from '../ports';
import type { Notice } from './notify';

/** Where each schedule's check got to: the next check starts there, so no slot is judged twice or skipped. */
export interface WatchdogProgress {
  checkedUntil(pipelineId: string, scheduleName: string): Promise<number | undefined>;
  setCheckedUntil(pipelineId: string, scheduleName: string, ms: number): Promise<void>;
}

export interface MissedRunDeps {
  ledger: RunLedger;
  /** The schedule's last run shows the missed one (`schedules list`); it is not counted as a failure. */
  schedules?: ScheduleStateStore;
  notify: (pipeline: PipelineConfig, notice: Notice) => Promise<void>;
  now: () => Date;
  log: (message: string, data: Record<string, unknown>) => void;
}

export interface WatchdogDeps extends MissedRunDeps {
  config: DigestConfig;
  progress: WatchdogProgress;
}

export interface MissedRun {
  pipelineId: string;
  scheduleName: string;
  runId: string;
  /** The instant the slot was due (ISO). */
  at: string;
  reason: string;
}

/**
 * Record a slot no run started for as a `missed` run (its own run id, so a
 * later start of that slot is a duplicate, and `run --run-id <id> --resume`
 * runs it late), and tell a person once. A slot that has a run already is left
 * alone. Returns whether this call recorded it.
 */
export async function recordMissedRun(
  deps: MissedRunDeps,
  pipeline: PipelineConfig,
  missed: MissedRun,
): Promise<boolean> {
  const now = deps.now().toISOString();
  const created = await deps.ledger.createRun({
    pipelineId: missed.pipelineId,
    runId: missed.runId,
    trigger: 'schedule',
    scheduleName: missed.scheduleName,
    scheduledTime: missed.at,
    startedAt: now,
    endedAt: now,
    status: 'missed',
    reason: missed.reason,
    steps: {},
  });
  // Recorded now or by an earlier pass that stopped before telling: the journal sends the notice once.
  const isMissed = created.created || created.existing.status === 'missed';
  if (created.created && deps.schedules) {
    const outcome = { runId: missed.runId, status: 'missed' as const, at: now };
    try {
      await deps.schedules.recordRunOutcome(
        pipeline.id,
        missed.scheduleName,
        outcome,
        pipeline.maxConsecutiveFailures,
      );
    } catch (error) {
      deps.log('missed run not shown on its schedule', { runId: missed.runId, error: String(error) });
    }
  }
  if (isMissed) {
    try {
      await deps.notify(pipeline, {
        event: 'run-missed',
        pipelineId: missed.pipelineId,
        runId: missed.runId,
        what: `scheduled run ${missed.scheduleName} at ${missed.at} did not happen: ${missed.reason}`,
        command: `npm run digest -- run --run-id ${missed.runId} --resume (runs it late, with its own window)`,
        at: missed.at,
      });
    } catch (error) {
      deps.log('missed-run notification not sent', { runId: missed.runId, error: String(error) });
    }
  }
  deps.log(created.created ? 'missed run recorded' : 'slot has a run already', {
    runId: missed.runId,
    status: created.created ? 'missed' : created.existing.status,
  });
  return created.created;
}

/**
 * Compare each enabled schedule's fire times (the one evaluator) since the last
 * check with the ledger: a slot past its grace period with no run is a missed
 * run. The first check of a schedule starts now: nothing before the watchdog
 * existed is judged.
 */
export async function watchForMissedRuns(deps: WatchdogDeps): Promise<MissedRun[]> {
  const nowMs = deps.now().getTime();
  const recorded: MissedRun[] = [];
  for (const pipeline of deps.config.pipelines) {
    for (const schedule of pipeline.schedules) {
      if (!schedule.enabled) continue;
      const graceMs = schedule.graceMinutes * 60_000;
      const until = nowMs - graceMs;
      const from = await deps.progress.checkedUntil(pipeline.id, schedule.name);
      if (from === undefined) {
        await deps.progress.setCheckedUntil(pipeline.id, schedule.name, until);
        continue;
      }
      if (until <= from) continue;
      const watched = {
        scheduleName: schedule.name,
        rule: fireRuleOfSchedule(schedule, nowMs),
        dst: schedule.dst,
        graceMs,
      };
      // The ledger answers by key: a scheduled run's id is fixed by its slot.
      const candidates: MissedSlot[] = missedSlots(watched, () => false, from, nowMs);
      for (const slot of candidates) {
        if (await deps.ledger.getRun(pipeline.id, slot.runId)) continue;
        const missed: MissedRun = {
          pipelineId: pipeline.id,
          scheduleName: schedule.name,
          runId: slot.runId,
          at: slot.at,
          reason: `missed: no run started within ${schedule.graceMinutes} min of ${slot.local} ${schedule.timeZone}`,
        };
        if (await recordMissedRun(deps, pipeline, missed)) recorded.push(missed);
      }
      await deps.progress.setCheckedUntil(pipeline.id, schedule.name, until);
    }
  }
  return recorded;
}

/**
 * What each schedule's target sends (infra/pipeline-stack.ts); `scheduledTime` is Scheduler's
 * `<aws.scheduler.scheduled-time>`, e.g. 2022-03-22T18:59:43Z
 * (docs.aws.amazon.com/scheduler/latest/UserGuide/managing-schedule-context-attributes.html).
 */
const targetInputSchema = z.object({
  pipelineId: z.string().min(1),
  trigger: z.literal('schedule'),
  scheduleName: z.string().min(1),
  scheduledTime: z.iso.datetime({ offset: true }),
});

/**
 * A schedule's dead letter: Scheduler could not start the execution (after its
 * retries, or past the schedule's maximum event age). Read as the target's input,
 * which names the slot: it becomes a missed run. Not verified against a real
 * dead letter: Scheduler's guide says only "a JSON payload containing invocation
 * details and any response received from the target"
 * (docs.aws.amazon.com/scheduler/latest/UserGuide/configuring-schedule-dlq.html).
 * A body this cannot read is one error naming the field; the message stays in
 * the queue, whose alarm then says so.
 */
export async function recordDeadLetter(
  deps: MissedRunDeps & { config: DigestConfig },
  body: string,
  cause: string | undefined,
): Promise<MissedRun | undefined> {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new DeadLetterError('dead letter body is not JSON');
  }
  const parsed = targetInputSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new DeadLetterError(`dead letter body: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
  }
  const input = parsed.data;
  const pipeline = deps.config.pipelines.find((p) => p.id === input.pipelineId);
  if (!pipeline) throw new DeadLetterError(`dead letter body: pipelineId: no pipeline "${input.pipelineId}"`);
  const missed: MissedRun = {
    pipelineId: input.pipelineId,
    scheduleName: input.scheduleName,
    runId: scheduledRunId(input.scheduleName, new Date(input.scheduledTime)),
    at: new Date(input.scheduledTime).toISOString(),
    reason: `missed: EventBridge Scheduler could not start it${cause ? ` (${cause})` : ''}`,
  };
  return (await recordMissedRun(deps, pipeline, missed)) ? missed : undefined;
}

/** A dead letter this code cannot read: retrying will not change it. */
export class DeadLetterError extends PermanentError {
  override name = 'DeadLetterError';
}
