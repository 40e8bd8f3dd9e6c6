import { fireRuleOfSchedule } from '../../../shared/config/coverage';
import { type DstPolicy, fireTimesBetween } from '../../../shared/domain/schedule/evaluator';
import { firstInstantAtOrAfter } from '../../../shared/domain/schedule/zoned-time';
import { DigestError } from '../../../shared/errors';
import type { LocalCommand } from './command';
import { runAndReport } from './run';

/** `YYYY-MM-DD` → the first instant of that local day in `timeZone`. */
function startOfLocalDay(text: string, timeZone: string, option: string): number {
  const match = /^(\d{4})-(\d\d)-(\d\d)$/.exec(text);
  if (!match) throw new DigestError(`--${option} "${text}" is not a date YYYY-MM-DD`);
  const [year, month, day] = match.slice(1).map(Number) as [number, number, number];
  return firstInstantAtOrAfter(timeZone, { year, month, day, hour: 0, minute: 0 });
}

/**
 * Run each slot a schedule had between two dates (inclusive, in its time zone)
 * under the run id the scheduler would have used (`<schedule>-<slot>`), one
 * after the other. A slot that did run is recorded as a duplicate and does
 * nothing, so a backfill may be repeated safely.
 */
export const backfillCommand: LocalCommand = {
  name: 'backfill',
  synopsis:
    'backfill <pipeline> --schedule <name> --from <date> --to <date>   run missed slots under their scheduled run ids',
  optionHelp: [
    '--schedule <name>   backfill: the schedule whose slots to run',
    '--from <date>       backfill: the first day (YYYY-MM-DD, the schedule’s time zone)',
    '--to <date>         backfill: the last day, included',
  ],
  options: { schedule: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' } },
  positionals: ['pipeline'],
  async run(context) {
    const [pipelineId = ''] = context.positionals;
    const pipeline = context.config.pipelines.find((p) => p.id === pipelineId);
    if (!pipeline) {
      throw new DigestError(
        `unknown pipeline "${pipelineId}" (configured: ${context.config.pipelines.map((p) => p.id).join(', ')})`,
      );
    }
    const { schedule: name, from, to } = context.values;
    if (typeof name !== 'string' || typeof from !== 'string' || typeof to !== 'string') {
      throw new DigestError('backfill needs --schedule <name> --from <YYYY-MM-DD> --to <YYYY-MM-DD>');
    }
    const schedule = pipeline.schedules.find((s) => s.name === name);
    if (!schedule) {
      throw new DigestError(
        `pipeline ${pipelineId} has no schedule "${name}" (its schedules: ${pipeline.schedules.map((s) => s.name).join(', ')})`,
      );
    }
    const fromMs = startOfLocalDay(from, schedule.timeZone, 'from');
    startOfLocalDay(to, schedule.timeZone, 'to');
    // Up to the end of the last day (the start of the next), and never past now.
    const dayAfter = new Date(Date.parse(`${to}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    const untilMs = Math.min(startOfLocalDay(dayAfter, schedule.timeZone, 'to') - 1, Date.now());
    if (untilMs < fromMs)
      throw new DigestError(`--to ${to} is before --from ${from}, or both are in the future`);
    const dst: DstPolicy = 'dst' in schedule && schedule.dst === 'skip' ? 'skip' : 'shift';
    const slots = fireTimesBetween(fireRuleOfSchedule(schedule, fromMs), fromMs - 1, untilMs, dst).filter(
      (t) => t.dst !== 'skipped',
    );
    if (slots.length === 0) {
      console.log(`schedule ${pipelineId}/${name} had no slot from ${from} to ${to}`);
      return 0;
    }
    console.log(`backfilling ${slots.length} slot(s) of ${pipelineId}/${name}, one after the other`);
    const secretsEnv = { ...process.env };
    let worst = 0;
    for (const slot of slots) {
      console.log(`── ${slot.local} ${schedule.timeZone} (${slot.at.toISOString()})`);
      const code = await runAndReport(
        context,
        {
          pipelineId,
          trigger: 'schedule',
          scheduleName: name,
          scheduledTime: slot.at.toISOString(),
        },
        secretsEnv,
      );
      // An interrupt stops the backfill there; the slots after it are left for the next backfill.
      if (code >= 128) return code;
      worst = Math.max(worst, code);
    }
    return worst;
  },
};
