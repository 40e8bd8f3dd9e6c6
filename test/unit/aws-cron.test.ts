import { describe, expect, it } from 'vitest';
import { awsCronProblem, normaliseAwsCron, parseAwsCron } from '../../shared/domain/schedule/aws-cron';

// The examples of the AWS "Cron expressions reference"
// (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cron-expressions.html), which EventBridge
// Scheduler's cron-based schedules follow.
const DOCUMENTED_EXAMPLES = [
  ['0 10 * * ? *', 'run at 10:00 am every day'],
  ['15 12 * * ? *', 'run at 12:15 pm every day'],
  ['0 18 ? * MON-FRI *', 'run at 6:00 pm Monday through Friday'],
  ['0 8 1 * ? *', 'run at 8:00 am every first day of the month'],
  ['0/15 * * * ? *', 'run every 15 minutes'],
  ['0/10 * ? * MON-FRI *', 'run every 10 minutes Monday through Friday'],
  ['0/5 8-17 ? * MON-FRI *', 'run every 5 minutes Monday through Friday between 8:00 am and 5:55 pm'],
  ['0 9 ? * 2#1 *', 'run at 9:00 am on the first Monday of each month'],
] as const;

// The wildcards the reference describes, each where it is allowed.
const DOCUMENTED_WILDCARDS = [
  '0 0 ? JAN,FEB,MAR * *', // , in month
  '0 0 1-15 * ? *', // - in day-of-month
  '1/10 * * * ? *', // / in minutes
  '0 0 7 * ? *', // ? in day-of-week
  '0 0 L * ? *', // L in day-of-month
  '0 0 ? * L *', // L in day-of-week
  '0 0 3W * ? *', // W in day-of-month
  '0 0 LW * ? *', // last weekday of the month
  '0 0 ? * 3#2 *', // # in day-of-week: second Tuesday
  '0 0 ? * 6L *', // last Friday of the month
  '0 0 1 1 ? 1970-2199', // the whole year range
  '*/30 * * * ? *',
];

describe('EventBridge Scheduler cron', () => {
  it.each(DOCUMENTED_EXAMPLES)('accepts the documented example %s (%s)', (cron) => {
    // Act
    const problem = awsCronProblem(cron);

    // Assess
    expect(problem).toBeUndefined();
  });

  it.each(DOCUMENTED_WILDCARDS)('accepts %s', (cron) => {
    // Act + Assess
    expect(awsCronProblem(cron)).toBeUndefined();
  });

  it.each([
    ['0 18 * * MON-FRI *', 'one of day-of-month and day-of-week must be ?'], // both given
    ['0 18 ? * ? *', 'only one of day-of-month and day-of-week may be ?'],
    ['0 9 ? * 3#1,6#3 *', 'with # only one expression is allowed'], // the reference's own invalid example
    ['0 18 ? * MON-FRI', 'six fields are required'],
    ['0 0 18 ? * MON-FRI *', 'six fields are required'], // seconds (Quartz) are not a field here
    ['cron(0 18 ? * MON-FRI *)', 'without cron( )'],
    ['60 * * * ? *', 'minutes: 60 is out of range 0-59'],
    ['0 24 * * ? *', 'hours: 24 is out of range 0-23'],
    ['0 0 0 * ? *', 'day-of-month: 0 is out of range 1-31'],
    ['0 0 32 * ? *', 'day-of-month: 32 is out of range'],
    ['0 0 1 13 ? *', 'month: 13 is out of range 1-12 or JAN-DEC'],
    ['0 0 ? * 0 *', 'day-of-week: 0 is out of range 1-7 or SUN-SAT'],
    ['0 0 ? * 8 *', 'day-of-week: 8 is out of range'],
    ['0 0 1 * ? 1969', 'year: 1969 is out of range 1970-2199'],
    ['0 0 1 * ? 2200', 'year: 2200 is out of range'],
    ['0 0 ? * mon *', 'day-of-week: "mon" must be written in capitals'],
    ['0 0 1 JANUARY ? *', 'month: "JANUARY" is not a value'],
    ['0 0 ? * MONDAY *', 'day-of-week: "MONDAY" is not a value'],
    ['0 0 ? * 1/2 *', '/ is not allowed in day-of-week'],
    ['0 0 1 * L *', 'one of day-of-month and day-of-week must be ?'], // both given
    ['? 0 1 * ? *', '? is only allowed in day-of-month and day-of-week'],
    ['L 0 ? * 1 *', 'L is only allowed in day-of-month and day-of-week'],
    ['0 0 ? 1W * *', 'W is only allowed in day-of-month'],
    ['0 0 1#2 * ? *', '# is only allowed in day-of-week'],
    ['0 0 ? * 2#6 *', '# must be followed by 1-5'],
    ['0 0 L-2 * ? *', 'day-of-month'], // not in the reference
    ['0 0 5L * ? *', 'nL (last weekday n of the month) is only allowed in day-of-week'],
    ['0 17-9 * * ? *', 'range "17-9" runs backwards'],
    ['0/0 * * * ? *', 'increment 0 must be between 1 and 59'],
    ['0/x * * * ? *', 'needs one whole-number increment'],
    ['*,5 * * * ? *', '* cannot be combined with other values'],
    ['1,,2 * * * ? *', 'empty value'],
    ['H * * * ? *', 'minutes: "H" is not a value'],
  ])('refuses %s: %s', (cron, expected) => {
    // Act
    const problem = awsCronProblem(cron);

    // Assess
    expect(problem).toContain(expected);
  });

  it('parses into an AST a schedule evaluator can walk', () => {
    // Act
    const ast = parseAwsCron('0/5 8-17 ? JAN,MAR * 2026');

    // Assess
    expect(ast).toEqual({
      minutes: [{ kind: 'step', from: 0, to: 59, step: 5 }],
      hours: [{ kind: 'range', from: 8, to: 17 }],
      dayOfMonth: [{ kind: 'any' }],
      month: [
        { kind: 'value', value: 1 },
        { kind: 'value', value: 3 },
      ],
      dayOfWeek: [{ kind: 'all' }],
      year: [{ kind: 'value', value: 2026 }],
    });
  });

  it('gives weekdays as 1 = SUN .. 7 = SAT and keeps L, W and # as their own nodes', () => {
    // Act
    const lastFriday = parseAwsCron('0 9 ? * 6L *').dayOfWeek;
    const firstMonday = parseAwsCron('0 9 ? * MON#1 *').dayOfWeek;
    const nearWeekday = parseAwsCron('0 9 15W * ? *').dayOfMonth;
    const weekend = parseAwsCron('0 9 ? * SAT,SUN *').dayOfWeek;

    // Assess
    expect(lastFriday).toEqual([{ kind: 'lastOfWeekday', weekday: 6 }]);
    expect(firstMonday).toEqual([{ kind: 'nthWeekday', weekday: 2, nth: 1 }]);
    expect(nearWeekday).toEqual([{ kind: 'nearestWeekday', day: 15 }]);
    expect(weekend).toEqual([
      { kind: 'value', value: 7 },
      { kind: 'value', value: 1 },
    ]);
  });

  it('normalises the spacing between fields', () => {
    // Act + Assess
    expect(normaliseAwsCron('  0  18 ?\t* MON-FRI * ')).toBe('0 18 ? * MON-FRI *');
  });
});
