import { type FireRule, longestGapBetween } from '../domain/schedule/evaluator';
import { fireRuleOf } from '../domain/schedule/expression';
import { schedulerExpression } from '../domain/schedule/kinds';
import { rateStartMs, scheduleKindOf } from './schedule-kind';
import type { DigestConfig, ScheduleConfig } from './schema';

const HOUR_MS = 3_600_000;
/** Two years: a yearly schedule fires twice, and every daylight-saving change is seen. */
const SPAN_MS = 732 * 24 * HOUR_MS;
/** The most a daylight-saving change moves a wall clock (tzdb: one hour; Lord Howe half of it). */
const DST_SHIFT_MS = HOUR_MS;

/** The schedule as the one evaluator sees it: its Scheduler expression in its zone. */
export function fireRuleOfSchedule(schedule: ScheduleConfig, startMs: number): FireRule {
  // A rate schedule counts from its own start; `startMs` only stands in when it has none.
  return fireRuleOf(
    schedulerExpression(scheduleKindOf(schedule)),
    schedule.timeZone,
    rateStartMs(schedule) ?? startMs,
  );
}

const hours = (ms: number) => `${Math.round((ms / HOUR_MS) * 10) / 10} h`;

/**
 * A `daily` or `hours` window looks back a fixed time from each run (shared/domain/window.ts): when a
 * pipeline's schedules leave longer than that between two runs, the messages in between are never
 * collected. That is an error; a gap longer only by a daylight-saving change (a 25-hour day) is a warning,
 * since `since_last` is the way to lose nothing then.
 */
export function scheduleCoverage(
  config: DigestConfig,
  now = Date.now(),
): { errors: string[]; warnings: string[] } {
  const errors: string[] = [];
  const warnings: string[] = [];
  for (const [p, pipeline] of config.pipelines.entries()) {
    const { window } = pipeline.discord;
    if (window.mode === 'since_last') continue;
    const windowMs = window.mode === 'daily' ? window.days * 24 * HOUR_MS : window.hours * HOUR_MS;
    const enabled = pipeline.schedules.filter((s) => s.enabled);
    const gap = longestGapBetween(
      enabled.map((s) => fireRuleOfSchedule(s, now)),
      now,
      now + SPAN_MS,
    );
    if (!gap || gap.ms <= windowMs) continue;
    const line = `pipelines[${p}].discord.window: looks back ${hours(windowMs)} from each run, but the schedules leave up to ${hours(gap.ms)} between runs (after ${new Date(gap.afterMs).toISOString()}): messages in between would never be collected; use a longer window or {"mode":"since_last"}`;
    if (gap.ms - windowMs > DST_SHIFT_MS) errors.push(line);
    else warnings.push(`${line} (only when clocks change)`);
  }
  return { errors, warnings };
}
