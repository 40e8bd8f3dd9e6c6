/**
 * Every schedule kind a user writes compiles to one EventBridge Scheduler
 * expression (`cron(…)`, `rate(…)` or `at(…)`), the same string the deployed
 * schedule carries and the evaluator reads, so the preview, the daemon and AWS
 * agree. Syntax: docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html
 */

/** Weekday names as EventBridge cron spells them; 1 = SUN … 7 = SAT. */
export const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export type ScheduleKind =
  /** Every day at HH:MM local time. */
  | { dailyAt: string }
  /** On these weekdays at HH:MM. */
  | { weekly: { days: readonly Weekday[]; at: string } }
  /** On this day of the month (or its last day) at HH:MM. */
  | { monthly: { day: number | 'last'; at: string } }
  /** A raw EventBridge Scheduler cron: minutes hours day-of-month month day-of-week year. */
  | { cron: string }
  /** Every N minutes/hours/days from `start` (local `YYYY-MM-DD HH:MM`). */
  | { rate: { every: number; unit: 'minutes' | 'hours' | 'days'; start?: string } }
  /** Once, at a local `YYYY-MM-DD HH:MM`. */
  | { once: string };

const hhmm = (text: string) => {
  const [hour = '0', minute = '0'] = text.split(':');
  return { hour: Number(hour), minute: Number(minute) };
};

/** `YYYY-MM-DD HH:MM` (or with a `T`) → `YYYY-MM-DDTHH:MM:00`, the form `at()` and StartDate take. */
export function localDateTimeText(text: string): string {
  const match = text.trim().match(/^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d)(?::00)?$/);
  if (!match) throw new RangeError(`"${text}" is not a local date-time YYYY-MM-DD HH:MM`);
  return `${match[1]}T${match[2]}:00`;
}

/** The EventBridge Scheduler expression of a schedule kind. */
export function schedulerExpression(kind: ScheduleKind): string {
  if ('cron' in kind) return `cron(${kind.cron})`;
  if ('dailyAt' in kind) {
    const { hour, minute } = hhmm(kind.dailyAt);
    return `cron(${minute} ${hour} * * ? *)`;
  }
  if ('weekly' in kind) {
    const { hour, minute } = hhmm(kind.weekly.at);
    const days = [...new Set(kind.weekly.days)].sort((a, b) => WEEKDAYS.indexOf(a) - WEEKDAYS.indexOf(b));
    return `cron(${minute} ${hour} ? * ${days.join(',')} *)`;
  }
  if ('monthly' in kind) {
    const { hour, minute } = hhmm(kind.monthly.at);
    return `cron(${minute} ${hour} ${kind.monthly.day === 'last' ? 'L' : kind.monthly.day} * ? *)`;
  }
  if ('rate' in kind) {
    const { every, unit } = kind.rate;
    // Scheduler wants the singular unit for 1: rate(1 hour), rate(5 hours).
    return `rate(${every} ${every === 1 ? unit.slice(0, -1) : unit})`;
  }
  return `at(${localDateTimeText(kind.once)})`;
}
