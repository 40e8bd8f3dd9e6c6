/**
 * One evaluator of schedule expressions with EventBridge Scheduler's
 * semantics, used for the preview, the local daemon, missed-run checks and
 * tests. Scheduler evaluates cron expressions in the schedule's time zone; a
 * local fire time that does not exist on the spring-forward day is skipped,
 * and one that exists twice on the fall-back day fires once; `rate(N days)`
 * means N × 24 hours after the previous invocation, whatever the clocks do.
 * Source: repost.aws/knowledge-center/eventbridge-scheduler-adjust-dst and
 * docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html.
 */
import {
  dayOfWeek,
  daysInMonth,
  firstInstantAtOrAfter,
  formatLocal,
  instantsOf,
  type LocalDateTime,
  toLocal,
} from './zoned-time';

/** What a calendar (cron) expression says, evaluated one local day at a time. */
export interface CalendarRule {
  /** Minutes of the hour it fires at, ascending (0..59). */
  minutes: readonly number[];
  /** Hours of the day it fires at, ascending (0..23). */
  hours: readonly number[];
  /** Whether it fires on this local date (day-of-month, month, day-of-week and year fields together). */
  firesOn(year: number, month: number, day: number): boolean;
}

export type FireRule =
  | { kind: 'calendar'; rule: CalendarRule; timeZone: string }
  /** `rate(N unit)` from a start instant: every `everyMs` after it. */
  | { kind: 'rate'; everyMs: number; startMs: number }
  /** `at(yyyy-mm-ddThh:mm:ss)` in a time zone: once. */
  | { kind: 'once'; local: LocalDateTime; timeZone: string };

/**
 * `skip`: as Scheduler does, a fire time inside the spring-forward gap does not
 * happen that day. `shift`: it happens at the first valid minute after the gap.
 */
export type DstPolicy = 'skip' | 'shift';

export interface FireTime {
  /** The instant it fires (for a skipped one: where it would have been, the gap's end). */
  at: Date;
  /** The wall-clock time the expression named, in the schedule's zone. */
  local: string;
  /** `shifted`: moved out of a DST gap; `skipped`: lost to one (not fired); `repeated`: fired once in an hour that happened twice. */
  dst?: 'shifted' | 'skipped' | 'repeated';
}

const DAY = 86_400_000;

/** Local dates from the one holding `fromMs` to the one holding `untilMs`, with a day's margin each side. */
function* localDates(timeZone: string, fromMs: number, untilMs: number) {
  const first = toLocal(timeZone, fromMs - DAY);
  const last = toLocal(timeZone, untilMs + DAY);
  let cursor = Date.UTC(first.year, first.month - 1, first.day);
  const end = Date.UTC(last.year, last.month - 1, last.day);
  for (; cursor <= end; cursor += DAY) {
    const d = new Date(cursor);
    yield { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
  }
}

function resolveLocal(timeZone: string, local: LocalDateTime, policy: DstPolicy): FireTime {
  const instants = instantsOf(timeZone, local);
  const label = formatLocal(local);
  const [first] = instants;
  if (first === undefined) {
    return {
      at: new Date(firstInstantAtOrAfter(timeZone, local)),
      local: label,
      dst: policy === 'shift' ? 'shifted' : 'skipped',
    };
  }
  // The hour happens twice; Scheduler fires once, at the first of the two.
  return { at: new Date(first), local: label, ...(instants.length > 1 ? { dst: 'repeated' as const } : {}) };
}

/**
 * Every fire time of `rule` with `fromMs < at <= untilMs`, ascending. Skipped
 * ones are included (marked) so a preview can show them; callers that fire
 * drop them.
 */
export function fireTimesBetween(
  rule: FireRule,
  fromMs: number,
  untilMs: number,
  policy: DstPolicy = 'shift',
): FireTime[] {
  const inRange = (t: FireTime) => t.at.getTime() > fromMs && t.at.getTime() <= untilMs;
  switch (rule.kind) {
    case 'rate': {
      const times: FireTime[] = [];
      const k = Math.max(0, Math.floor((fromMs - rule.startMs) / rule.everyMs) + 1);
      for (let at = rule.startMs + k * rule.everyMs; at <= untilMs; at += rule.everyMs) {
        if (at > fromMs) times.push({ at: new Date(at), local: new Date(at).toISOString() });
      }
      return times;
    }
    case 'once': {
      const time = resolveLocal(rule.timeZone, rule.local, policy);
      return inRange(time) ? [time] : [];
    }
    case 'calendar': {
      const times: FireTime[] = [];
      for (const date of localDates(rule.timeZone, fromMs, untilMs)) {
        if (!rule.rule.firesOn(date.year, date.month, date.day)) continue;
        for (const hour of rule.rule.hours) {
          for (const minute of rule.rule.minutes) {
            const time = resolveLocal(rule.timeZone, { ...date, hour, minute }, policy);
            if (inRange(time)) times.push(time);
          }
        }
      }
      // A shifted time can land on an instant another slot also names: fire once.
      const seen = new Set<number>();
      return times
        .sort((a, b) => a.at.getTime() - b.at.getTime())
        .filter((t) => {
          if (t.dst === 'skipped') return true;
          const at = t.at.getTime();
          if (seen.has(at)) return false;
          seen.add(at);
          return true;
        });
    }
  }
}

/** The next `count` times it really fires (skipped ones left out), looking at most `horizonDays` ahead. */
export function nextFireTimes(
  rule: FireRule,
  fromMs: number,
  count: number,
  policy: DstPolicy = 'shift',
  horizonDays = 400,
): FireTime[] {
  const found: FireTime[] = [];
  const horizon = fromMs + horizonDays * DAY;
  // Look two days ahead first (most schedules fire daily), then a month at a time.
  for (let start = fromMs, span = 2 * DAY; found.length < count && start < horizon; span = 31 * DAY) {
    const end = Math.min(start + span, horizon);
    found.push(...fireTimesBetween(rule, start, end, policy).filter((t) => t.dst !== 'skipped'));
    start = end;
  }
  return found.slice(0, count);
}

/** A simple calendar rule: these hours and minutes on the days `firesOn` accepts (daily, weekly, monthly kinds). */
export function calendarRule(
  hours: readonly number[],
  minutes: readonly number[],
  firesOn: CalendarRule['firesOn'],
): CalendarRule {
  return {
    hours: [...hours].sort((a, b) => a - b),
    minutes: [...minutes].sort((a, b) => a - b),
    firesOn,
  };
}

/** Helpers for `firesOn`: weekday numbers as EventBridge cron counts them (1 = Sunday) and the month's last day. */
export const calendar = { dayOfWeek, daysInMonth };

/**
 * The longest time between two consecutive firings of any of `rules` in
 * (fromMs, toMs], and the firing it follows; undefined when they fire fewer
 * than twice. Walks a month at a time, so two years of a per-minute schedule
 * cost time, not memory.
 */
export function longestGapBetween(
  rules: readonly FireRule[],
  fromMs: number,
  toMs: number,
  policy: DstPolicy = 'shift',
): { ms: number; afterMs: number } | undefined {
  let previous: number | undefined;
  let longest: { ms: number; afterMs: number } | undefined;
  for (let start = fromMs; start < toMs; start += 31 * DAY) {
    const end = Math.min(start + 31 * DAY, toMs);
    const times = rules
      .flatMap((rule) => fireTimesBetween(rule, start, end, policy))
      .filter((t) => t.dst !== 'skipped')
      .map((t) => t.at.getTime())
      .sort((a, b) => a - b);
    for (const at of times) {
      if (at === previous) continue;
      if (previous !== undefined && (!longest || at - previous > longest.ms)) {
        longest = { ms: at - previous, afterMs: previous };
      }
      previous = at;
    }
  }
  return longest;
}
