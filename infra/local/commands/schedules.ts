import { fireRuleOfSchedule } from '../../../shared/config/coverage';
import { localInstant } from '../../../shared/config/schedule-kind';
import type { DigestConfig } from '../../../shared/config/schema';
import { type FireTime, fireTimesBetween } from '../../../shared/domain/schedule/evaluator';
import { formatLocal, toLocal } from '../../../shared/domain/schedule/zoned-time';
import type { LocalCommand } from './command';

const DAY = 86_400_000;

export interface UpcomingRun {
  pipelineId: string;
  scheduleName: string;
  timeZone: string;
  time: FireTime;
}

/** Every enabled schedule's fire times in (fromMs, untilMs], soonest first, skipped ones included and marked. */
export function upcomingRuns(
  config: DigestConfig,
  fromMs: number,
  untilMs: number,
  pipelineId?: string,
): UpcomingRun[] {
  const runs: UpcomingRun[] = [];
  for (const pipeline of config.pipelines) {
    if (pipelineId && pipeline.id !== pipelineId) continue;
    for (const schedule of pipeline.schedules) {
      if (!schedule.enabled) continue;
      const rule = fireRuleOfSchedule(schedule, fromMs);
      for (const time of fireTimesBetween(rule, fromMs, untilMs, schedule.dst)) {
        runs.push({
          pipelineId: pipeline.id,
          scheduleName: schedule.name,
          timeZone: schedule.timeZone,
          time,
        });
      }
    }
  }
  return runs.sort((a, b) => a.time.at.getTime() - b.time.at.getTime());
}

/**
 * A warning per schedule and kind of DST change its local time meets in the
 * coming year (a gap, a repeated hour), naming the first such day and what happens.
 */
export function dstWarnings(config: DigestConfig, fromMs: number): string[] {
  const first = new Map<string, UpcomingRun>();
  for (const run of upcomingRuns(config, fromMs, fromMs + 366 * DAY)) {
    const key = `${run.pipelineId}/${run.scheduleName}|${run.time.dst === 'repeated' ? 'repeat' : 'gap'}`;
    if (run.time.dst && !first.has(key)) first.set(key, run);
  }
  return [...first.values()].map((run) => {
    const key = `${run.pipelineId}/${run.scheduleName}`;
    const what =
      run.time.dst === 'repeated'
        ? 'falls in the hour that repeats when clocks go back: it runs once, the first time'
        : run.time.dst === 'shifted'
          ? // Scheduler has no setting for this: it skips a local time that does not exist
            // (repost.aws/knowledge-center/eventbridge-scheduler-adjust-dst), so only the local daemon can shift.
            'does not exist when clocks go forward: locally (dst "shift") it runs at the first minute after the gap, but EventBridge Scheduler skips it that day'
          : 'does not exist when clocks go forward: that day it does not run (dst "skip", as EventBridge Scheduler does)';
    return `warning: schedule ${key} at ${run.time.local} ${run.timeZone} ${what}`;
  });
}

/**
 * A `once` schedule whose time has passed stays valid (every function reads the config long after the
 * day) but will not fire again: say so, since a new one-time schedule for a past time never runs.
 */
export function pastOnceWarnings(config: DigestConfig, nowMs: number): string[] {
  const warnings: string[] = [];
  for (const pipeline of config.pipelines) {
    for (const schedule of pipeline.schedules) {
      if (schedule.once === undefined || !schedule.enabled) continue;
      if (localInstant(schedule.once, schedule.timeZone) <= nowMs)
        warnings.push(
          `warning: schedule ${pipeline.id}/${schedule.name} once at ${schedule.once} ${schedule.timeZone} has passed: it will not run again`,
        );
    }
  }
  return warnings;
}

/** One line of the preview: local time and zone, UTC, which schedule, and what DST did to it. */
export function formatUpcoming(run: UpcomingRun): string {
  const utc = `${run.time.at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  const actual = formatLocal(toLocal(run.timeZone, run.time.at.getTime()));
  const note =
    run.time.dst === 'shifted'
      ? `  shifted: ${run.time.local} does not exist (DST), runs at ${actual.slice(11)}`
      : run.time.dst === 'skipped'
        ? `  skipped: ${run.time.local} does not exist (DST)`
        : run.time.dst === 'repeated'
          ? '  runs once in the repeated hour (DST)'
          : '';
  return `${run.time.local} ${run.timeZone.padEnd(20)} ${utc}   ${run.pipelineId}/${run.scheduleName}${note}`;
}

export const schedulesCommand: LocalCommand = {
  name: 'schedules',
  synopsis: 'schedules next      every upcoming run, in local and UTC time, DST shifts and skips marked',
  optionHelp: [
    '--days <n>          how far schedules next looks ahead (default 7)',
    '--count <n>         at most this many upcoming runs',
  ],
  options: { days: { type: 'string', default: '7' }, count: { type: 'string' } },
  positionals: ['action'],
  integerOptions: { days: { min: 1, max: 400 }, count: { min: 1, max: 10_000 } },
  async run({ config, values, positionals }) {
    const [action] = positionals;
    if (action !== 'next') {
      console.error(`error: unknown schedules action "${action}" (known: next)`);
      return 2;
    }
    const now = Date.now();
    const pipelineId = typeof values.pipeline === 'string' ? values.pipeline : undefined;
    let runs = upcomingRuns(config, now, now + Number(values.days) * DAY, pipelineId);
    if (typeof values.count === 'string') runs = runs.slice(0, Number(values.count));
    console.log(`upcoming runs, next ${values.days} day(s):`);
    for (const run of runs) console.log(`  ${formatUpcoming(run)}`);
    if (runs.length === 0) console.log('  none (every schedule is disabled, or none fires in that time)');
    return 0;
  },
};
