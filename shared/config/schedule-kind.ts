import { localDateTimeText, type ScheduleKind } from '../domain/schedule/kinds';
import { firstInstantAtOrAfter } from '../domain/schedule/zoned-time';
import type { ScheduleConfig } from './schema';

/** The one kind a parsed schedule has (the schema refuses any other number). */
export function scheduleKindOf(schedule: ScheduleConfig): ScheduleKind {
  if (schedule.dailyAt !== undefined) return { dailyAt: schedule.dailyAt };
  if (schedule.weekly !== undefined) return { weekly: schedule.weekly };
  if (schedule.monthly !== undefined) return { monthly: schedule.monthly };
  if (schedule.cron !== undefined) return { cron: schedule.cron };
  if (schedule.rate !== undefined) return { rate: schedule.rate };
  if (schedule.once !== undefined) return { once: schedule.once };
  throw new RangeError(`schedule ${schedule.name} has no kind`);
}

/** `dailyAt`, `weekly`, …: the name of the schedule's kind, for listings. */
export const kindName = (schedule: ScheduleConfig): string => Object.keys(scheduleKindOf(schedule))[0] ?? '';

/** A local `YYYY-MM-DD HH:MM` in `timeZone` as an instant; a time in a DST gap is the first minute after it. */
export function localInstant(text: string, timeZone: string): number {
  const match = localDateTimeText(text).match(/^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)/);
  const [year, month, day, hour, minute] = (match?.slice(1) ?? []).map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  return firstInstantAtOrAfter(timeZone, { year, month, day, hour, minute });
}

/** A `rate` schedule's first run (its StartDate), as an instant; undefined for other kinds. */
export function rateStartMs(schedule: ScheduleConfig): number | undefined {
  return schedule.rate ? localInstant(schedule.rate.start, schedule.timeZone) : undefined;
}
