import { describe, expect, it } from 'vitest';
import { cronRule } from '../../shared/domain/schedule/cron-rule';
import { type FireRule, nextFireTimes } from '../../shared/domain/schedule/evaluator';

const next = (fields: string, fromIso: string, count: number, timeZone = 'UTC') => {
  const rule: FireRule = { kind: 'calendar', timeZone, rule: cronRule(fields) };
  return nextFireTimes(rule, Date.parse(fromIso), count).map((t) => t.at.toISOString());
};

describe('cron expressions through the one evaluator (examples from the AWS cron reference)', () => {
  it('0 10 * * ? *: 10:00 every day', () => {
    expect(next('0 10 * * ? *', '2026-11-24T11:00:00Z', 2)).toEqual([
      '2026-11-25T10:00:00.000Z',
      '2026-11-26T10:00:00.000Z',
    ]);
  });

  it('0/15 * * * ? *: every 15 minutes', () => {
    expect(next('0/15 * * * ? *', '2026-11-24T11:05:00Z', 3)).toEqual([
      '2026-11-24T11:15:00.000Z',
      '2026-11-24T11:30:00.000Z',
      '2026-11-24T11:45:00.000Z',
    ]);
  });

  it('0 18 ? * MON-FRI *: 6 PM on weekdays', () => {
    // 2026-11-27 is a Friday.
    expect(next('0 18 ? * MON-FRI *', '2026-11-27T19:00:00Z', 2)).toEqual([
      '2026-11-30T18:00:00.000Z',
      '2026-12-01T18:00:00.000Z',
    ]);
  });

  it('0 8 1 * ? *: 8 AM on the first of the month', () => {
    expect(next('0 8 1 * ? *', '2026-11-24T00:00:00Z', 2)).toEqual([
      '2026-12-01T08:00:00.000Z',
      '2027-01-01T08:00:00.000Z',
    ]);
  });

  it('L, LW, W and # on the day fields', () => {
    expect(next('0 12 L * ? *', '2027-02-01T00:00:00Z', 1)).toEqual(['2027-02-28T12:00:00.000Z']);
    // The last weekday of January 2027 is Friday the 29th; the weekday nearest Saturday 2027-05-15 is Friday the 14th.
    expect(next('0 12 LW * ? *', '2027-01-01T00:00:00Z', 1)).toEqual(['2027-01-29T12:00:00.000Z']);
    expect(next('0 12 15W 5 ? *', '2027-01-01T00:00:00Z', 1)).toEqual(['2027-05-14T12:00:00.000Z']);
    // The first Monday of December 2026 is the 7th; the last Friday of November 2026 is the 27th.
    expect(next('0 9 ? * 2#1 *', '2026-11-24T00:00:00Z', 1)).toEqual(['2026-12-07T09:00:00.000Z']);
    expect(next('0 9 ? * 6L *', '2026-11-01T00:00:00Z', 1)).toEqual(['2026-11-27T09:00:00.000Z']);
  });

  it('honours the year field and evaluates in the schedule time zone', () => {
    expect(next('0 9 * * ? 2027', '2026-12-30T00:00:00Z', 1)).toEqual(['2027-01-01T09:00:00.000Z']);
    expect(next('0 18 ? * MON-FRI *', '2026-11-24T00:00:00Z', 1, 'America/New_York')).toEqual([
      '2026-11-24T23:00:00.000Z',
    ]);
  });
});
