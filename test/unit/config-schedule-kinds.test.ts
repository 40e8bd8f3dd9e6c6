import { describe, expect, it } from 'vitest';
import { pastOnceWarnings } from '../../infra/local/commands/schedules';
import { parseConfig } from '../../shared/config/load';
import { kindName, rateStartMs, scheduleKindOf } from '../../shared/config/schedule-kind';
import { schedulerExpression } from '../../shared/domain/schedule/kinds';
import { ConfigError } from '../../shared/errors';

const pipeline = (schedules: unknown[], extra: Record<string, unknown> = {}) => ({
  pipelines: [
    {
      id: 'demo',
      discord: { channelId: '1200000000000000000', window: { mode: 'since_last' } },
      sheet: { spreadsheetId: 'sheet-0000000001' },
      schedules,
      ...extra,
    },
  ],
});

function errorOf(raw: unknown): string {
  try {
    parseConfig(raw, 'digest.config.json');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('schedule kinds in the config', () => {
  it.each([
    [{ dailyAt: '09:00' }, 'cron(0 9 * * ? *)'],
    [{ weekly: { days: ['MON', 'FRI'], at: '18:30' } }, 'cron(30 18 ? * MON,FRI *)'],
    [{ monthly: { day: 'last', at: '07:00' } }, 'cron(0 7 L * ? *)'],
    [{ monthly: { day: 15, at: '07:00' } }, 'cron(0 7 15 * ? *)'],
    [{ cron: '0 18 ? * MON-FRI *' }, 'cron(0 18 ? * MON-FRI *)'],
    [{ rate: { every: 6, unit: 'hours', start: '2026-12-01 06:00' } }, 'rate(6 hours)'],
    [{ once: '2027-01-15 12:00' }, 'at(2027-01-15T12:00:00)'],
  ])('accepts %j and compiles it to %s', (kind, expression) => {
    // Act
    const config = parseConfig(pipeline([{ name: 's', timeZone: 'Europe/Berlin', ...kind }]), 'test');

    // Assess
    const schedule = config.pipelines[0]?.schedules[0];
    if (!schedule) throw new Error('no schedule');
    expect(schedulerExpression(scheduleKindOf(schedule))).toBe(expression);
    expect(kindName(schedule)).toBe(Object.keys(kind)[0]);
  });

  it('fills each option with its default: enabled, 60 grace minutes, dst shift, 3 failures, no flexible window', () => {
    // Act
    const config = parseConfig(pipeline([{ name: 's', dailyAt: '09:00', timeZone: 'UTC' }]), 'test');

    // Assess
    expect(config.pipelines[0]?.maxConsecutiveFailures).toBe(3);
    expect(config.pipelines[0]?.schedules[0]).toEqual({
      name: 's',
      dailyAt: '09:00',
      timeZone: 'UTC',
      enabled: true,
      graceMinutes: 60,
      dst: 'shift',
    });
  });

  it.each([
    [
      { weekly: { days: ['MON', 'FUN'], at: '09:00' } },
      'pipelines[0].schedules[0].weekly.days[1]: one of MON',
    ],
    [{ weekly: { days: [], at: '09:00' } }, 'pipelines[0].schedules[0].weekly.days: at least one day'],
    [{ weekly: { days: ['MON'], at: '9h' } }, 'pipelines[0].schedules[0].weekly.at: HH:MM, 24-hour'],
    [{ monthly: { day: 32, at: '09:00' } }, 'pipelines[0].schedules[0].monthly.day: a day 1-31 or "last"'],
    [
      { rate: { every: 0, unit: 'hours', start: '2026-12-01 06:00' } },
      'pipelines[0].schedules[0].rate.every',
    ],
    [
      { rate: { every: 2, unit: 'weeks', start: '2026-12-01 06:00' } },
      'pipelines[0].schedules[0].rate.unit: one of minutes, hours, days',
    ],
    [{ rate: { every: 2, unit: 'hours' } }, 'pipelines[0].schedules[0].rate.start'],
    [{ once: '15.01.2027 12:00' }, 'pipelines[0].schedules[0].once: a local date-time "YYYY-MM-DD HH:MM"'],
    [{ dailyAt: '09:00', flexibleWindowMinutes: 0 }, 'pipelines[0].schedules[0].flexibleWindowMinutes'],
    [{ dailyAt: '09:00', flexibleWindowMinutes: 1441 }, 'pipelines[0].schedules[0].flexibleWindowMinutes'],
    [{ dailyAt: '09:00', graceMinutes: 0 }, 'pipelines[0].schedules[0].graceMinutes'],
    [{ dailyAt: '09:00', dst: 'later' }, 'pipelines[0].schedules[0].dst: "skip" or "shift"'],
    [
      {},
      'pipelines[0].schedules[0]: a schedule has exactly one of dailyAt, weekly, monthly, cron, rate, once',
    ],
  ])('names the field of %j in one line', (kind, expected) => {
    // Act
    const message = errorOf(pipeline([{ name: 's', timeZone: 'UTC', ...kind }]));

    // Assess
    const line = message.split('\n').find((l) => l.includes('pipelines[0].schedules[0]'));
    expect(line).toContain(expected);
  });

  it('names maxConsecutiveFailures when it is out of range', () => {
    // Act
    const message = errorOf(
      pipeline([{ name: 's', dailyAt: '09:00', timeZone: 'UTC' }], { maxConsecutiveFailures: 0 }),
    );

    // Assess
    expect(message).toContain('pipelines[0].maxConsecutiveFailures');
  });

  it("a rate starts at its local start time in the schedule's zone", () => {
    // Prepare
    const config = parseConfig(
      pipeline([
        {
          name: 's',
          rate: { every: 6, unit: 'hours', start: '2026-12-01 06:00' },
          timeZone: 'Europe/Berlin',
        },
      ]),
      'test',
    );
    const schedule = config.pipelines[0]?.schedules[0];
    if (!schedule) throw new Error('no schedule');

    // Act
    const start = rateStartMs(schedule);

    // Assess: Berlin is UTC+1 in December.
    expect(new Date(start ?? 0).toISOString()).toBe('2026-12-01T05:00:00.000Z');
  });

  it('accepts a once already past (every function reads the config later) and validate warns it will not run', () => {
    // Prepare
    const config = parseConfig(
      pipeline([
        { name: 'launch', once: '2026-01-15 12:00', timeZone: 'UTC' },
        { name: 'later', once: '2027-01-15 12:00', timeZone: 'UTC' },
      ]),
      'test',
    );

    // Act
    const warnings = pastOnceWarnings(config, Date.parse('2026-11-24T08:00:00Z'));

    // Assess
    expect(warnings).toEqual([
      'warning: schedule demo/launch once at 2026-01-15 12:00 UTC has passed: it will not run again',
    ]);
  });
});
