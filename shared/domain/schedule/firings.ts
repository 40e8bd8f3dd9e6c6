import type { CronExpression, CronItem } from './aws-cron';

/**
 * When an EventBridge Scheduler cron expression fires, as UTC instants, evaluated in its time zone the way
 * the Scheduler does (https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html, daylight
 * saving time): a local time that does not exist on a spring-forward day is skipped; a local time that
 * happens twice on a fall-back day fires once (here: the first).
 * Day rules follow the Cron expressions reference: `L`, `LW`, `nW` (the weekday nearest day n, never leaving
 * the month), `nL` (last weekday n), `n#k` (k-th weekday n); weekdays are 1 = SUN .. 7 = SAT.
 */

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

function numbersOf(items: readonly CronItem[], min: number, max: number): number[] {
  const set = new Set<number>();
  for (const item of items) {
    if (item.kind === 'all' || item.kind === 'any') for (let n = min; n <= max; n += 1) set.add(n);
    else if (item.kind === 'value') set.add(item.value);
    else if (item.kind === 'range') for (let n = item.from; n <= item.to; n += 1) set.add(n);
    else if (item.kind === 'step') for (let n = item.from; n <= item.to; n += item.step) set.add(n);
  }
  return [...set].sort((a, b) => a - b);
}

const daysIn = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();
/** 1 = SUN .. 7 = SAT, as the cron's day-of-week counts. */
const weekdayOf = (year: number, month: number, day: number) =>
  new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 1;
const isWorkday = (weekday: number) => weekday >= 2 && weekday <= 6;

function nearestWorkday(year: number, month: number, day: number): number | undefined {
  const last = daysIn(year, month);
  if (day > last) return undefined;
  const weekday = weekdayOf(year, month, day);
  if (weekday === 7) return day === 1 ? 3 : day - 1; // Saturday: Friday before, or Monday after the 1st
  if (weekday === 1) return day === last ? day - 2 : day + 1; // Sunday: Monday after, or Friday before the last
  return day;
}

function dayOfMonthMatches(items: readonly CronItem[], year: number, month: number, day: number): boolean {
  const last = daysIn(year, month);
  return items.some((item) => {
    switch (item.kind) {
      case 'last':
        return day === last;
      case 'lastWeekday': {
        let d = last;
        while (!isWorkday(weekdayOf(year, month, d))) d -= 1;
        return day === d;
      }
      case 'nearestWeekday':
        return nearestWorkday(year, month, item.day) === day;
      default:
        return numbersOf([item], 1, 31).includes(day);
    }
  });
}

function dayOfWeekMatches(items: readonly CronItem[], year: number, month: number, day: number): boolean {
  const weekday = weekdayOf(year, month, day);
  return items.some((item) => {
    switch (item.kind) {
      case 'last':
        return weekday === 7;
      case 'lastOfWeekday':
        return weekday === item.weekday && day + 7 > daysIn(year, month);
      case 'nthWeekday':
        return weekday === item.weekday && Math.ceil(day / 7) === item.nth;
      default:
        return numbersOf([item], 1, 7).includes(weekday);
    }
  });
}

function dayMatches(expression: CronExpression, year: number, month: number, day: number): boolean {
  if (!numbersOf(expression.year, 1970, 2199).includes(year)) return false;
  if (!numbersOf(expression.month, 1, 12).includes(month)) return false;
  // Exactly one of the two is `?` (parseAwsCron makes sure): the other decides.
  return expression.dayOfMonth.some((i) => i.kind === 'any')
    ? dayOfWeekMatches(expression.dayOfWeek, year, month, day)
    : dayOfMonthMatches(expression.dayOfMonth, year, month, day);
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The zone's offset from UTC at an instant, in ms. */
function offsetAt(timeZone: string, utcMs: number): number {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
    formatters.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(utcMs).map((p) => [p.type, Number(p.value)]));
  const local = Date.UTC(
    parts.year ?? 0,
    (parts.month ?? 1) - 1,
    parts.day ?? 1,
    parts.hour ?? 0,
    parts.minute ?? 0,
  );
  return local - Math.floor(utcMs / MINUTE_MS) * MINUTE_MS;
}

/**
 * The firings of one local calendar day (`localDayMs`: that date at 00:00 as if it were UTC), as UTC instants,
 * ascending. `hours` and `minutes` may be passed in to spare recomputing them day after day.
 */
export function firingsOnDay(
  expression: CronExpression,
  timeZone: string,
  localDayMs: number,
  times = timesOf(expression),
): number[] {
  const date = new Date(localDayMs);
  const [year, month, day] = [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()];
  if (!dayMatches(expression, year, month, day)) return [];
  // The offsets in force around this local day; equal on all but the days the clocks change.
  const before = offsetAt(timeZone, localDayMs - 12 * 3_600_000);
  const after = offsetAt(timeZone, localDayMs + 36 * 3_600_000);
  const firings: number[] = [];
  for (const hour of times.hours) {
    for (const minute of times.minutes) {
      const localMs = localDayMs + hour * 3_600_000 + minute * MINUTE_MS;
      if (before === after) {
        firings.push(localMs - before);
        continue;
      }
      // A candidate is real when the zone's offset at it is the one assumed; none is (spring forward): skipped.
      const real = [localMs - before, localMs - after].filter(
        (utc) => offsetAt(timeZone, utc) === localMs - utc,
      );
      if (real.length > 0) firings.push(Math.min(...real));
    }
  }
  return firings.sort((a, b) => a - b);
}

export function timesOf(expression: CronExpression): { hours: number[]; minutes: number[] } {
  return { hours: numbersOf(expression.hours, 0, 23), minutes: numbersOf(expression.minutes, 0, 59) };
}

export interface ZonedCron {
  expression: CronExpression;
  timeZone: string;
}

/**
 * The longest time between two consecutive firings of any of the schedules within [fromMs, toMs), and the
 * firing it follows; undefined when they fire fewer than twice. Streams day by day, so a schedule firing
 * every minute for two years costs time, not memory.
 */
export function longestGapBetween(
  schedules: readonly ZonedCron[],
  fromMs: number,
  toMs: number,
): { ms: number; afterMs: number } | undefined {
  const prepared = schedules.map((s) => ({ ...s, times: timesOf(s.expression) }));
  let pending: number[] = [];
  let previous: number | undefined;
  let longest: { ms: number; afterMs: number } | undefined;
  const settle = (upTo: number) => {
    pending.sort((a, b) => a - b);
    let i = 0;
    for (; i < pending.length && (pending[i] ?? 0) < upTo; i += 1) {
      const at = pending[i] ?? 0;
      if (at < fromMs || at >= toMs || at === previous) continue;
      if (previous !== undefined && (!longest || at - previous > longest.ms)) {
        longest = { ms: at - previous, afterMs: previous };
      }
      previous = at;
    }
    pending = pending.slice(i);
  };
  for (let day = Math.floor(fromMs / DAY_MS) * DAY_MS - DAY_MS; day < toMs + DAY_MS; day += DAY_MS) {
    for (const s of prepared) pending.push(...firingsOnDay(s.expression, s.timeZone, day, s.times));
    // Later local days fire no earlier than their midnight at UTC+14.
    settle(day + DAY_MS - 14 * 3_600_000);
  }
  settle(Number.POSITIVE_INFINITY);
  return longest;
}
