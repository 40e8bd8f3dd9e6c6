import { userInfo } from 'node:os';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { fireRuleOfSchedule } from '../../../shared/config/coverage';
import { localInstant } from '../../../shared/config/schedule-kind';
import type { DigestConfig } from '../../../shared/config/schema';
import { type FireTime, fireTimesBetween } from '../../../shared/domain/schedule/evaluator';
import { formatLocal, toLocal } from '../../../shared/domain/schedule/zoned-time';
import { DigestError } from '../../../shared/errors';
import type { RunRecord, ScheduledPost } from '../../../shared/ports';
import { UsageError } from '../command-line';
import { waitingAutoResumes } from '../daemon/auto-resumes';
import type { LocalCommand } from './command';
import { AWS_OPTIONS } from './ledger-access';
import { runAndReport } from './run';
import { openSchedules } from './schedule-access';
import {
  describeState,
  findScheduleTarget,
  listSchedules,
  parseUntil,
  pauseSchedule,
  resumeSchedule,
} from './schedule-operations';

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

const ACTIONS = ['next', 'list', 'pause', 'resume', 'run-now'] as const;
const WITH_TARGET = new Set(['pause', 'resume', 'run-now']);

/** Who paused or resumed, for the ledger's history. */
const operator = () => {
  try {
    return userInfo().username || 'operator';
  } catch {
    return 'operator';
  }
};

export const schedulesCommand: LocalCommand = {
  name: 'schedules',
  synopsis: [
    'schedules next      every upcoming run, in local and UTC time, DST shifts and skips marked',
    '  schedules list      each schedule: kind, expression, zone, state, next and last run, failures in a row',
    '  schedules pause <pipeline>/<schedule> [--until <time>] [--reason <text>]   its runs are skipped until resumed',
    '  schedules resume <pipeline>/<schedule> [--reason <text>]                   runs go ahead again, failures forgiven',
    "  schedules run-now <pipeline>/<schedule>   run it now locally, recorded as that schedule's run",
  ].join('\n'),
  optionHelp: [
    '--days <n>          how far schedules next looks ahead (default 7)',
    '--count <n>         at most this many upcoming runs',
    '--until <time>      schedules pause: end of the pause, ISO with zone or local "YYYY-MM-DD HH:MM"',
    '--reason <text>     schedules pause/resume: why, kept in the ledger',
    '--aws               schedules list/pause/resume: the deployed table (--table) and EventBridge Scheduler;',
    '                    run-now: an execution of the deployed state machine named after the run id',
    '--state-machine <arn>  schedules run-now --aws (default: $DIGEST_STATE_MACHINE_ARN)',
  ],
  options: {
    days: { type: 'string', default: '7' },
    count: { type: 'string' },
    until: { type: 'string' },
    reason: { type: 'string' },
    'state-machine': { type: 'string' },
    ...AWS_OPTIONS,
  },
  positionals: ['action', 'target?'],
  integerOptions: { days: { min: 1, max: 400 }, count: { min: 1, max: 10_000 } },
  async run(context) {
    const { config, values, positionals } = context;
    const [action, targetText] = positionals;
    if (!ACTIONS.includes(action as (typeof ACTIONS)[number])) {
      throw new UsageError(`unknown schedules action "${action}" (known: ${ACTIONS.join(', ')})`);
    }
    if (WITH_TARGET.has(action ?? '') && !targetText) {
      throw new UsageError(`"schedules ${action}" needs <pipeline>/<schedule>, e.g. demo/morning`);
    }
    if (!WITH_TARGET.has(action ?? '') && targetText) {
      throw new UsageError(`"schedules ${action}" takes no <pipeline>/<schedule>; use --pipeline <id>`);
    }
    if (typeof values.until === 'string' && action !== 'pause')
      throw new UsageError('--until goes with schedules pause');
    const now = Date.now();
    const pipelineId = typeof values.pipeline === 'string' ? context.pipelineId() : undefined;
    if (action === 'next') {
      const untilMs = now + Number(values.days) * DAY;
      const entries = upcomingRuns(config, now, untilMs, pipelineId).map((run) => ({
        at: run.time.at.getTime(),
        line: formatUpcoming(run),
      }));
      // One-off posts still pending in that time, from the ledger (local, or the deployed table with --aws).
      const access = await openSchedules(context);
      try {
        for (const pipeline of config.pipelines) {
          if (pipelineId && pipeline.id !== pipelineId) continue;
          for (const post of await access.posts.list(pipeline.id, ['pending'])) {
            const at = Date.parse(post.at);
            if (at > now && at <= untilMs) entries.push({ at, line: formatUpcomingPost(post) });
          }
        }
        // …and the automatic resumes still waiting (shared/pipeline/auto-resume.ts).
        const pipelineIds = config.pipelines
          .map((p) => p.id)
          .filter((id) => !pipelineId || id === pipelineId);
        for (const run of await waitingAutoResumes(access.runs, pipelineIds)) {
          const at = Date.parse(run.autoResume?.at ?? '');
          if (at <= untilMs) entries.push({ at, line: formatUpcomingResume(run) });
        }
      } finally {
        await access.close();
      }
      entries.sort((a, b) => a.at - b.at);
      const shown = typeof values.count === 'string' ? entries.slice(0, Number(values.count)) : entries;
      console.log(`upcoming runs, one-off posts and automatic resumes, next ${values.days} day(s):`);
      for (const entry of shown) console.log(`  ${entry.line}`);
      if (shown.length === 0) console.log('  none (every schedule is disabled, or none fires in that time)');
      return 0;
    }
    const target = targetText ? findScheduleTarget(config, targetText) : undefined;
    const stateMachineArn =
      typeof values['state-machine'] === 'string'
        ? values['state-machine']
        : process.env.DIGEST_STATE_MACHINE_ARN;
    if (action === 'run-now' && values.aws === true && !stateMachineArn) {
      throw new UsageError(
        'schedules run-now --aws needs the state machine: --state-machine <arn> or DIGEST_STATE_MACHINE_ARN',
      );
    }
    const until =
      target && typeof values.until === 'string' ? parseUntil(values.until, target.schedule, now) : undefined;
    const reason = typeof values.reason === 'string' ? values.reason : undefined;
    const access = await openSchedules(context);
    let lines: string[];
    try {
      const at = new Date(now).toISOString();
      if (action === 'list') lines = await listSchedules(config, access, now, pipelineId);
      else if (action === 'pause' && target)
        lines = await pauseSchedule(access, target, {
          by: operator(),
          at,
          ...(reason ? { reason } : {}),
          ...(until ? { until } : {}),
        });
      else if (action === 'resume' && target)
        lines = await resumeSchedule(access, target, { by: operator(), at, ...(reason ? { reason } : {}) });
      else if (target) {
        const state = await access.states.get(target.pipeline.id, target.schedule.name);
        const pause = describeState(state, now);
        if (state.state === 'paused' && !pause.includes('(ended')) {
          throw new DigestError(
            `schedule ${target.pipeline.id}/${target.schedule.name} is ${pause}; resume it first (its run would be skipped)`,
          );
        }
        lines = [];
      } else lines = [];
    } finally {
      await access.close();
    }
    for (const line of lines) console.log(line);
    if (action !== 'run-now' || !target) return 0;
    // Recorded like a scheduled run (trigger schedule, this schedule's name, counted against it), its id to the
    // second so it never takes the id of a real firing of the same minute.
    const scheduledTime = new Date(now);
    if (values.aws === true && stateMachineArn) {
      const input = {
        pipelineId: target.pipeline.id,
        trigger: 'schedule' as const,
        scheduleName: target.schedule.name,
        scheduledTime: scheduledTime.toISOString(),
        runId: runNowId(target.schedule.name, scheduledTime),
      };
      const executionArn = await startExecution(stateMachineArn, input.runId, input);
      console.log(`started run ${input.runId}: execution ${executionArn}`);
      return 0;
    }
    return runAndReport(context, {
      pipelineId: target.pipeline.id,
      trigger: 'schedule',
      scheduleName: target.schedule.name,
      scheduledTime: scheduledTime.toISOString(),
      runId: runNowId(target.schedule.name, scheduledTime),
    });
  },
};

/** A waiting automatic resume in the preview (its time is UTC, as its Scheduler schedule's is). */
export function formatUpcomingResume(run: RunRecord): string {
  const utc = `${(run.autoResume?.at ?? '').slice(0, 16).replace('T', ' ')} UTC`;
  return `${utc.slice(0, 16)} ${'UTC'.padEnd(20)} ${utc}   ${run.pipelineId} automatic resume ${run.autoResume?.attempt} of run ${run.runId} (${run.autoResume?.reason})`;
}

/** A pending one-off post in the preview, in the same columns as a schedule's run. */
export function formatUpcomingPost(post: ScheduledPost): string {
  const utc = `${post.at.slice(0, 16).replace('T', ' ')} UTC`;
  return `${post.localAt} ${post.timeZone.padEnd(20)} ${utc}   ${post.pipelineId} one-off post ${post.postId} (${post.platform}, ${post.parts.length} part(s))`;
}

/** `<schedule>-YYYYMMDDTHHMMSSZ`. */
export const runNowId = (scheduleName: string, at: Date) =>
  `${scheduleName}-${at.toISOString().replace(/[-:]/g, '').slice(0, 15)}Z`;

/**
 * Start the deployed state machine for a run, named after the run id: Step
 * Functions refuses a second execution of one name (for 90 days), so a
 * repeated command can never start the run twice.
 * docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html
 */
async function startExecution(stateMachineArn: string, name: string, input: object): Promise<string> {
  const sfn = new SFNClient({});
  try {
    const answer = await sfn.send(
      new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }),
    );
    return answer.executionArn ?? '';
  } catch (error) {
    if ((error as { name?: string }).name === 'ExecutionAlreadyExists') {
      throw new DigestError(`run ${name} was already started in AWS (an execution of that name exists)`);
    }
    throw error;
  } finally {
    sfn.destroy();
  }
}
