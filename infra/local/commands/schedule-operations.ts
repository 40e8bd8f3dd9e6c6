import * as z from 'zod';
import { schedulerScheduleName } from '../../../shared/config/aws-names';
import { fireRuleOfSchedule } from '../../../shared/config/coverage';
import { kindName, localInstant, scheduleKindOf } from '../../../shared/config/schedule-kind';
import type { DigestConfig, PipelineConfig, ScheduleConfig } from '../../../shared/config/schema';
import { nextFireTimes } from '../../../shared/domain/schedule/evaluator';
import { schedulerExpression } from '../../../shared/domain/schedule/kinds';
import { formatLocal, toLocal } from '../../../shared/domain/schedule/zoned-time';
import { DigestError } from '../../../shared/errors';
import type { ScheduleState } from '../../../shared/ports';
import type { ScheduleAccess } from './schedule-access';

export interface ScheduleTarget {
  pipeline: PipelineConfig;
  schedule: ScheduleConfig;
}

/** `<pipeline>/<schedule>` as the config names it; anything else is a one-line error naming what exists. */
export function findScheduleTarget(config: DigestConfig, text: string | undefined): ScheduleTarget {
  const known = config.pipelines.flatMap((p) => p.schedules.map((s) => `${p.id}/${s.name}`));
  const [pipelineId, scheduleName, extra] = (text ?? '').split('/');
  const pipeline = config.pipelines.find((p) => p.id === pipelineId);
  const schedule = pipeline?.schedules.find((s) => s.name === scheduleName);
  if (!pipeline || !schedule || extra !== undefined) {
    throw new DigestError(
      `no schedule "${text ?? ''}" in the config: name it <pipeline>/<schedule> (${known.join(', ')})`,
    );
  }
  return { pipeline, schedule };
}

const isoWithZone = z.iso.datetime({ offset: true });

/** `--until`: an ISO time with its zone, or a local `YYYY-MM-DD HH:MM` in the schedule's zone; in the future. */
export function parseUntil(text: string, schedule: ScheduleConfig, nowMs: number): string {
  let ms: number;
  if (isoWithZone.safeParse(text).success) ms = Date.parse(text);
  else if (/^\d{4}-\d\d-\d\d[ T]\d\d:\d\d$/.test(text.trim())) ms = localInstant(text, schedule.timeZone);
  else
    throw new DigestError(
      `--until "${text}" is neither an ISO time with a zone (2026-12-01T09:00:00Z) nor a local "YYYY-MM-DD HH:MM" in ${schedule.timeZone}`,
    );
  if (!(ms > nowMs)) throw new DigestError(`--until ${new Date(ms).toISOString()} has already passed`);
  return new Date(ms).toISOString();
}

/** The ledger's view of a pause, in one phrase. */
export function describeState(state: ScheduleState, nowMs: number): string {
  if (state.state !== 'paused') return 'enabled';
  const who = `${state.reason ?? 'no reason given'} (by ${state.changedBy ?? 'unknown'})`;
  if (!state.pausedUntil) return `paused: ${who}`;
  const ended = Date.parse(state.pausedUntil) <= nowMs;
  return `paused until ${state.pausedUntil}${ended ? ' (ended: runs go ahead)' : ''}: ${who}`;
}

function nextRun(schedule: ScheduleConfig, nowMs: number): string {
  if (!schedule.enabled) return 'none: enabled is false, not deployed';
  const [next] = nextFireTimes(fireRuleOfSchedule(schedule, nowMs), nowMs, 1, schedule.dst);
  if (!next) return 'none';
  const local = formatLocal(toLocal(schedule.timeZone, next.at.getTime()));
  return `${local} ${schedule.timeZone} (${next.at.toISOString().slice(0, 16).replace('T', ' ')} UTC)`;
}

/** `schedules list`: every schedule with its kind, expression, zone, state, next and last run, failures. */
export async function listSchedules(
  config: DigestConfig,
  access: ScheduleAccess,
  nowMs: number,
  pipelineId?: string,
): Promise<string[]> {
  const lines: string[] = [];
  for (const pipeline of config.pipelines) {
    if (pipelineId && pipeline.id !== pipelineId) continue;
    for (const schedule of pipeline.schedules) {
      const state = await access.states.get(pipeline.id, schedule.name);
      const deployed =
        access.scheduler && schedule.enabled
          ? await access.scheduler.getState(schedulerScheduleName(pipeline.id, schedule.name))
          : undefined;
      const scheduler =
        access.scheduler && schedule.enabled ? `   [Scheduler: ${deployed ?? 'not deployed'}]` : '';
      const expression = schedulerExpression(scheduleKindOf(schedule));
      lines.push(
        `${pipeline.id}/${schedule.name}   ${kindName(schedule)}   ${expression}   ${schedule.timeZone}`,
      );
      lines.push(
        `  state     ${schedule.enabled ? describeState(state, nowMs) : 'disabled in the config'}${scheduler}`,
      );
      const paused =
        state.state === 'paused' && (!state.pausedUntil || Date.parse(state.pausedUntil) > nowMs);
      lines.push(
        `  next run  ${nextRun(schedule, nowMs)}${paused && schedule.enabled ? ' (paused: it would be skipped)' : ''}`,
      );
      lines.push(
        `  last run  ${state.lastRun ? `${state.lastRun.runId} ${state.lastRun.status} at ${state.lastRun.at}` : 'none yet'}`,
      );
      lines.push(
        `  failures  ${state.consecutiveFailures} in a row (pauses itself at ${pipeline.maxConsecutiveFailures})`,
      );
    }
  }
  return lines;
}

/** `schedules pause`: in the ledger (BeginRun skips its runs); against AWS the deployed schedule is disabled too. */
export async function pauseSchedule(
  access: ScheduleAccess,
  target: ScheduleTarget,
  change: { by: string; reason?: string; until?: string; at: string },
): Promise<string[]> {
  const { pipeline, schedule } = target;
  const state = await access.states.pause(pipeline.id, schedule.name, change);
  const lines = [
    `${pipeline.id}/${schedule.name} ${describeState(state, Date.parse(change.at))} (${access.where})`,
  ];
  if (access.scheduler && schedule.enabled) {
    const name = schedulerScheduleName(pipeline.id, schedule.name);
    await access.scheduler.setState(name, 'DISABLED');
    lines.push(`Scheduler schedule ${name} disabled`);
    // Scheduler has no timed re-enable: a deploy re-applies the pause (infra/schedule-pauses.ts) as it is.
    if (change.until)
      lines.push(
        `note: Scheduler does not re-enable it by itself at ${change.until}: run "schedules resume" then`,
      );
  }
  return lines;
}

/** `schedules resume`: the ledger's pause ends and the failure count is forgiven; against AWS it is enabled again. */
export async function resumeSchedule(
  access: ScheduleAccess,
  target: ScheduleTarget,
  change: { by: string; reason?: string; at: string },
): Promise<string[]> {
  const { pipeline, schedule } = target;
  await access.states.resume(pipeline.id, schedule.name, change);
  const lines = [`${pipeline.id}/${schedule.name} resumed (${access.where})`];
  if (access.scheduler && schedule.enabled) {
    const name = schedulerScheduleName(pipeline.id, schedule.name);
    await access.scheduler.setState(name, 'ENABLED');
    lines.push(`Scheduler schedule ${name} enabled`);
  }
  return lines;
}
