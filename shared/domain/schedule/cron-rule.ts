/**
 * An EventBridge Scheduler cron expression as a calendar rule for the
 * evaluator: the parsed AST (aws-cron.ts) decides which minutes, hours and
 * local dates fire, with L, W and # as the Cron expressions reference defines
 * them (docs.aws.amazon.com/eventbridge/latest/userguide/eb-cron-expressions.html).
 */
import { type CronExpression, type CronItem, parseAwsCron } from './aws-cron';
import { type CalendarRule, calendar } from './evaluator';

/** Every value a plain field item names, within [min, max]. */
function valuesOf(items: readonly CronItem[], min: number, max: number): number[] {
  const values = new Set<number>();
  for (const item of items) {
    if (item.kind === 'all' || item.kind === 'any') for (let v = min; v <= max; v += 1) values.add(v);
    else if (item.kind === 'value') values.add(item.value);
    else if (item.kind === 'range') for (let v = item.from; v <= item.to; v += 1) values.add(v);
    else if (item.kind === 'step') for (let v = item.from; v <= item.to; v += item.step) values.add(v);
  }
  return [...values].filter((v) => v >= min && v <= max).sort((a, b) => a - b);
}

const isWeekday = (year: number, month: number, day: number) => {
  const dow = calendar.dayOfWeek(year, month, day);
  return dow >= 2 && dow <= 6;
};

/** `nW`: the weekday nearest day n, never crossing into another month. */
function nearestWeekday(year: number, month: number, day: number): number {
  const last = calendar.daysInMonth(year, month);
  const target = Math.min(day, last);
  if (isWeekday(year, month, target)) return target;
  const dow = calendar.dayOfWeek(year, month, target);
  if (dow === 7) return target - 1 >= 1 ? target - 1 : target + 2; // Saturday: Friday, or Monday at the 1st
  return target + 1 <= last ? target + 1 : target - 2; // Sunday: Monday, or Friday at the month's end
}

function dayOfMonthMatches(items: readonly CronItem[], year: number, month: number, day: number): boolean {
  const last = calendar.daysInMonth(year, month);
  return items.some((item) => {
    switch (item.kind) {
      case 'last':
        return day === last;
      case 'lastWeekday': {
        let d = last;
        while (!isWeekday(year, month, d)) d -= 1;
        return day === d;
      }
      case 'nearestWeekday':
        return day === nearestWeekday(year, month, item.day);
      default:
        return valuesOf([item], 1, 31).includes(day);
    }
  });
}

function dayOfWeekMatches(items: readonly CronItem[], year: number, month: number, day: number): boolean {
  const dow = calendar.dayOfWeek(year, month, day);
  return items.some((item) => {
    switch (item.kind) {
      case 'last':
        return dow === 7;
      case 'lastOfWeekday':
        return dow === item.weekday && day + 7 > calendar.daysInMonth(year, month);
      case 'nthWeekday':
        return dow === item.weekday && Math.ceil(day / 7) === item.nth;
      default:
        return valuesOf([item], 1, 7).includes(dow);
    }
  });
}

export function cronCalendarRule(expression: CronExpression): CalendarRule {
  const months = new Set(valuesOf(expression.month, 1, 12));
  const years = valuesOf(expression.year, 1970, 2199);
  const yearSet = new Set(years);
  // Exactly one of the two day fields is `?`: the other decides.
  const byWeekday = !expression.dayOfWeek.every((i) => i.kind === 'any');
  return {
    minutes: valuesOf(expression.minutes, 0, 59),
    hours: valuesOf(expression.hours, 0, 23),
    firesOn: (year, month, day) =>
      yearSet.has(year) &&
      months.has(month) &&
      (byWeekday
        ? dayOfWeekMatches(expression.dayOfWeek, year, month, day)
        : dayOfMonthMatches(expression.dayOfMonth, year, month, day)),
  };
}

/** `cron(…)`'s six fields (without the `cron( )`) as a calendar rule. */
export const cronRule = (fields: string): CalendarRule => cronCalendarRule(parseAwsCron(fields));
