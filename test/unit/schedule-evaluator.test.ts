import { describe, expect, it } from 'vitest';
import {
  calendar,
  calendarRule,
  type FireRule,
  fireTimesBetween,
  nextFireTimes,
} from '../../shared/domain/schedule/evaluator';
import { firstInstantAtOrAfter, instantsOf, offsetAt } from '../../shared/domain/schedule/zoned-time';

const HOUR = 3_600_000;
const daily = (timeZone: string, hour: number, minute: number): FireRule => ({
  kind: 'calendar',
  timeZone,
  rule: calendarRule([hour], [minute], () => true),
});
const iso = (times: { at: Date }[]) => times.map((t) => t.at.toISOString());
const on = (rule: FireRule, fromIso: string, untilIso: string, policy: 'skip' | 'shift' = 'shift') =>
  fireTimesBetween(rule, Date.parse(fromIso), Date.parse(untilIso), policy);

describe('zoned time', () => {
  it('knows the offsets either side of a transition', () => {
    // Assess: Berlin is UTC+1 in winter, UTC+2 in summer.
    expect(offsetAt('Europe/Berlin', Date.parse('2026-01-15T12:00:00Z'))).toBe(HOUR);
    expect(offsetAt('Europe/Berlin', Date.parse('2026-07-15T12:00:00Z'))).toBe(2 * HOUR);
    expect(offsetAt('Australia/Sydney', Date.parse('2026-07-15T12:00:00Z'))).toBe(10 * HOUR);
  });

  it('finds no instant for a local time in the gap, two in a repeated hour, one otherwise', () => {
    // Assess
    const gap = { year: 2026, month: 3, day: 29, hour: 2, minute: 30 };
    expect(instantsOf('Europe/Berlin', gap)).toEqual([]);
    expect(new Date(firstInstantAtOrAfter('Europe/Berlin', gap)).toISOString()).toBe(
      '2026-03-29T01:00:00.000Z',
    );
    expect(
      instantsOf('Europe/Berlin', { ...gap, month: 10, day: 25 }).map((t) => new Date(t).toISOString()),
    ).toEqual(['2026-10-25T00:30:00.000Z', '2026-10-25T01:30:00.000Z']);
    expect(instantsOf('Europe/Berlin', { ...gap, day: 28 })).toEqual([Date.parse('2026-03-28T01:30:00Z')]);
  });
});

describe('the schedule evaluator, with EventBridge Scheduler DST semantics', () => {
  it('Europe/Berlin spring forward: a 02:30 run is shifted to 03:00, or skipped under "skip"', () => {
    // Act
    const shifted = on(daily('Europe/Berlin', 2, 30), '2026-03-27T00:00:00Z', '2026-03-31T00:00:00Z');
    const skipped = on(daily('Europe/Berlin', 2, 30), '2026-03-27T00:00:00Z', '2026-03-31T00:00:00Z', 'skip');

    // Assess
    expect(iso(shifted)).toEqual([
      '2026-03-27T01:30:00.000Z',
      '2026-03-28T01:30:00.000Z',
      '2026-03-29T01:00:00.000Z',
      '2026-03-30T00:30:00.000Z',
    ]);
    expect(shifted[2]).toMatchObject({ local: '2026-03-29 02:30', dst: 'shifted' });
    expect(skipped[2]).toMatchObject({ local: '2026-03-29 02:30', dst: 'skipped' });
    expect(
      nextFireTimes(daily('Europe/Berlin', 2, 30), Date.parse('2026-03-28T12:00:00Z'), 2, 'skip').map(
        (t) => t.local,
      ),
    ).toEqual(['2026-03-30 02:30', '2026-03-31 02:30']);
  });

  it('Europe/Berlin fall back: a 02:30 run in the repeated hour fires once, at the first 02:30', () => {
    // Act
    const times = on(daily('Europe/Berlin', 2, 30), '2026-10-24T12:00:00Z', '2026-10-25T12:00:00Z');

    // Assess
    expect(times).toEqual([
      { at: new Date('2026-10-25T00:30:00Z'), local: '2026-10-25 02:30', dst: 'repeated' },
    ]);
  });

  it('America/New_York: 02:15 on the spring-forward day runs at 03:00 EDT; 01:30 on the fall-back day runs once', () => {
    // Act
    const spring = on(daily('America/New_York', 2, 15), '2026-03-08T00:00:00Z', '2026-03-09T00:00:00Z');
    const fall = on(daily('America/New_York', 1, 30), '2026-11-01T00:00:00Z', '2026-11-02T00:00:00Z');

    // Assess
    expect(iso(spring)).toEqual(['2026-03-08T07:00:00.000Z']);
    expect(spring[0]?.dst).toBe('shifted');
    expect(iso(fall)).toEqual(['2026-11-01T05:30:00.000Z']);
    expect(fall[0]?.dst).toBe('repeated');
  });

  it('Australia/Sydney (southern hemisphere): the gap is in October and the repeat in April', () => {
    // Act
    const spring = on(daily('Australia/Sydney', 2, 30), '2026-10-03T00:00:00Z', '2026-10-04T12:00:00Z');
    const fall = on(daily('Australia/Sydney', 2, 30), '2026-04-04T00:00:00Z', '2026-04-05T12:00:00Z');

    // Assess: AEST is UTC+10, AEDT UTC+11.
    expect(spring.map((t) => [t.at.toISOString(), t.local, t.dst])).toEqual([
      ['2026-10-03T16:00:00.000Z', '2026-10-04 02:30', 'shifted'],
    ]);
    expect(fall.map((t) => [t.at.toISOString(), t.local, t.dst])).toEqual([
      ['2026-04-04T15:30:00.000Z', '2026-04-05 02:30', 'repeated'],
    ]);
  });

  it('America/Santiago: a midnight gap shifts a 00:30 run to 01:00', () => {
    // Act: Chile moves from -04 to -03 at local midnight on the first Sunday of September.
    const times = on(daily('America/Santiago', 0, 30), '2026-09-05T12:00:00Z', '2026-09-06T12:00:00Z');

    // Assess
    expect(times.map((t) => [t.at.toISOString(), t.local, t.dst])).toEqual([
      ['2026-09-06T04:00:00.000Z', '2026-09-06 00:30', 'shifted'],
    ]);
  });

  it('fires once when several slots in the gap shift onto the same minute', () => {
    // Prepare: every 15 minutes.
    const rule: FireRule = {
      kind: 'calendar',
      timeZone: 'Europe/Berlin',
      rule: calendarRule(
        Array.from({ length: 24 }, (_, h) => h),
        [0, 15, 30, 45],
        () => true,
      ),
    };

    // Act
    const times = on(rule, '2026-03-29T00:40:00Z', '2026-03-29T01:20:00Z');

    // Assess: 01:45 CET, then the four gap slots and 03:00 itself fire once at 03:00 CEST, then 03:15.
    expect(iso(times)).toEqual([
      '2026-03-29T00:45:00.000Z',
      '2026-03-29T01:00:00.000Z',
      '2026-03-29T01:15:00.000Z',
    ]);
  });

  it('rate(1 day) means 24 hours, so its local time moves with DST', () => {
    // Act
    const times = on(
      { kind: 'rate', everyMs: 24 * HOUR, startMs: Date.parse('2026-03-27T08:00:00Z') },
      '2026-03-27T12:00:00Z',
      '2026-03-30T12:00:00Z',
    );

    // Assess
    expect(iso(times)).toEqual([
      '2026-03-28T08:00:00.000Z',
      '2026-03-29T08:00:00.000Z',
      '2026-03-30T08:00:00.000Z',
    ]);
  });

  it('a one-time schedule fires once at its local time', () => {
    // Act
    const rule: FireRule = {
      kind: 'once',
      timeZone: 'Europe/Berlin',
      local: { year: 2026, month: 11, day: 27, hour: 18, minute: 0 },
    };

    // Assess
    expect(iso(on(rule, '2026-11-24T00:00:00Z', '2026-12-31T00:00:00Z'))).toEqual([
      '2026-11-27T17:00:00.000Z',
    ]);
    expect(on(rule, '2026-11-28T00:00:00Z', '2026-12-31T00:00:00Z')).toEqual([]);
  });

  it('weekly and monthly rules fire on their days only', () => {
    // Prepare: Mondays and Fridays at 09:00; the last day of the month at 18:00.
    const weekly: FireRule = {
      kind: 'calendar',
      timeZone: 'UTC',
      rule: calendarRule([9], [0], (y, m, d) => [2, 6].includes(calendar.dayOfWeek(y, m, d))),
    };
    const monthly: FireRule = {
      kind: 'calendar',
      timeZone: 'UTC',
      rule: calendarRule([18], [0], (y, m, d) => d === calendar.daysInMonth(y, m)),
    };

    // Act
    const week = nextFireTimes(weekly, Date.parse('2026-11-24T00:00:00Z'), 3);
    const months = nextFireTimes(monthly, Date.parse('2026-11-24T00:00:00Z'), 4);

    // Assess: 2026-11-27 is a Friday.
    expect(iso(week)).toEqual([
      '2026-11-27T09:00:00.000Z',
      '2026-11-30T09:00:00.000Z',
      '2026-12-04T09:00:00.000Z',
    ]);
    expect(iso(months)).toEqual([
      '2026-11-30T18:00:00.000Z',
      '2026-12-31T18:00:00.000Z',
      '2027-01-31T18:00:00.000Z',
      '2027-02-28T18:00:00.000Z',
    ]);
  });
});
