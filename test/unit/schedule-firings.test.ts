import { describe, expect, it } from 'vitest';
import { scheduleCoverage } from '../../shared/config/coverage';
import { parseConfig } from '../../shared/config/load';
import { cronRule } from '../../shared/domain/schedule/cron-rule';
import { type FireRule, fireTimesBetween, longestGapBetween } from '../../shared/domain/schedule/evaluator';
import { ConfigError } from '../../shared/errors';

const day = (iso: string) => Date.parse(`${iso}T00:00:00Z`);
const iso = (ms: number[]) => ms.map((m) => new Date(m).toISOString());

/** The instants a cron fires on one UTC day, through the one evaluator (a DST gap skipped, as Scheduler does). */
const firingsOnDay = (cron: string, timeZone: string, dayMs: number) =>
  fireTimesBetween(
    { kind: 'calendar', timeZone, rule: cronRule(cron) },
    dayMs - 1,
    dayMs + 86_400_000 - 1,
    'skip',
  )
    .filter((t) => t.dst !== 'skipped')
    .map((t) => t.at.getTime());

describe('when a Scheduler cron fires', () => {
  it('fires at the local time, in UTC', () => {
    // Act
    const winter = firingsOnDay('0 9 * * ? *', 'Europe/Berlin', day('2026-01-15'));
    const summer = firingsOnDay('0 9 * * ? *', 'Europe/Berlin', day('2026-07-15'));

    // Assess
    expect(iso(winter)).toEqual(['2026-01-15T08:00:00.000Z']);
    expect(iso(summer)).toEqual(['2026-07-15T07:00:00.000Z']);
  });

  it('skips a local time that does not exist when clocks spring forward, and fires a repeated one once', () => {
    // Act: Europe/Berlin skips 02:00-03:00 on 2026-03-29 and repeats 02:00-03:00 on 2026-10-25.
    const spring = firingsOnDay('30 2 * * ? *', 'Europe/Berlin', day('2026-03-29'));
    const autumn = firingsOnDay('30 2 * * ? *', 'Europe/Berlin', day('2026-10-25'));

    // Assess
    expect(spring).toEqual([]);
    expect(iso(autumn)).toEqual(['2026-10-25T00:30:00.000Z']);
  });

  it.each([
    ['0 9 L * ? *', '2026-02-28', true],
    ['0 9 L * ? *', '2026-02-27', false],
    ['0 9 LW * ? *', '2026-05-29', true], // 31 May 2026 is a Sunday: the last weekday is Friday the 29th
    ['0 9 15W * ? *', '2026-08-14', true], // 15 August 2026 is a Saturday: Friday the 14th
    ['0 9 1W * ? *', '2026-08-03', true], // 1 August 2026 is a Saturday: Monday the 3rd, never July
    ['0 9 ? * 6L *', '2026-11-27', true], // the last Friday of November 2026
    ['0 9 ? * 6L *', '2026-11-20', false],
    ['0 9 ? * 2#1 *', '2026-11-02', true], // the first Monday of November 2026
    ['0 9 ? * 2#1 *', '2026-11-09', false],
    ['0 9 ? * MON-FRI *', '2026-11-28', false], // a Saturday
    ['0 9 ? * L *', '2026-11-28', true], // L alone in day-of-week: Saturday
    ['0 9 31 * ? *', '2026-11-30', false], // November has no 31st
    ['0 9 * * ? 2027', '2026-11-30', false],
  ])('%s fires on %s: %s', (cron, date, fires) => {
    // Act
    const firings = firingsOnDay(cron, 'UTC', day(date));

    // Assess
    expect(firings.length > 0).toBe(fires);
  });

  it('finds the longest gap between the firings of several schedules in several zones', () => {
    // Prepare: weekdays 18:00 in New York and Saturdays 09:00 in Tokyo.
    const rules: FireRule[] = [
      { kind: 'calendar', timeZone: 'America/New_York', rule: cronRule('0 18 ? * MON-FRI *') },
      { kind: 'calendar', timeZone: 'Asia/Tokyo', rule: cronRule('0 9 ? * SAT *') },
    ];

    // Act
    const gap = longestGapBetween(rules, day('2026-11-02'), day('2026-11-30'));

    // Assess: Saturday 00:00Z (Tokyo 09:00) to Monday 23:00Z (New York 18:00): 71 hours.
    expect(gap?.ms).toBe(71 * 3_600_000);
  });
});

const pipeline = (window: unknown, schedules: unknown[]) => ({
  pipelines: [
    {
      id: 'demo',
      discord: { channelId: '1200000000000000000', window },
      sheet: { spreadsheetId: 'sheet-0000000001' },
      schedules,
    },
  ],
});
const NOW = day('2026-11-24');

describe('a window that leaves messages uncollected', () => {
  it('is refused when the schedules leave longer between runs than it looks back', () => {
    // Act
    let message = '';
    try {
      parseConfig(
        pipeline({ mode: 'hours', hours: 6 }, [{ name: 'm', dailyAt: '09:00', timeZone: 'UTC' }]),
        'x',
        {
          now: NOW,
        },
      );
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      message = (error as Error).message;
    }

    // Assess
    expect(message).toContain(
      'pipelines[0].discord.window: looks back 6 h from each run, but the schedules leave up to 24 h between runs',
    );
  });

  it('is refused for a weekday schedule with a one-day window, and accepted with since_last', () => {
    // Prepare
    const weekdays = [{ name: 'w', cron: '0 18 ? * MON-FRI *', timeZone: 'America/New_York' }];

    // Act
    const daily = scheduleCoverage(
      parseConfig(pipeline({ mode: 'daily', days: 1 }, weekdays), 'x', { coverage: false }),
      NOW,
    );
    const sinceLast = scheduleCoverage(parseConfig(pipeline({ mode: 'since_last' }, weekdays), 'x'), NOW);

    // Assess
    // A weekend is 72 h; the one when New York's clocks go back is 73.
    expect(daily.errors[0]).toContain('up to 73 h between runs (after 2027-11-05T22:00:00.000Z)');
    expect(sinceLast).toEqual({ errors: [], warnings: [] });
  });

  it('only warns when the gap is longer by a change of clocks', () => {
    // Act
    const coverage = scheduleCoverage(
      parseConfig(
        pipeline({ mode: 'daily', days: 1 }, [{ name: 'm', dailyAt: '09:00', timeZone: 'Europe/Berlin' }]),
        'x',
        {
          now: NOW,
        },
      ),
      NOW,
    );

    // Assess
    expect(coverage.errors).toEqual([]);
    expect(coverage.warnings).toEqual([
      expect.stringContaining('up to 25 h between runs (after 2027-10-30T07:00:00.000Z)'),
    ]);
  });
});
