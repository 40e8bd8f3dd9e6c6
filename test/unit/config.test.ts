import { describe, expect, it } from 'vitest';
import {
  functionEnvironmentBytes,
  LAMBDA_ENVIRONMENT_MAX_BYTES,
  schedulerScheduleName,
} from '../../shared/config/aws-names';
import { parseSecrets } from '../../shared/config/env';
import { parseConfig } from '../../shared/config/load';
import { ConfigError } from '../../shared/errors';

const valid = {
  pipelines: [
    {
      id: 'demo',
      discord: { channelId: '1200000000000000000' },
      sheet: { spreadsheetId: 'sheet-0000000001' },
      schedules: [{ name: 'morning', dailyAt: '09:00', timeZone: 'Europe/Berlin' }],
    },
  ],
};

function errorOf(raw: unknown): string {
  try {
    parseConfig(raw, 'digest.config.json');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('fills defaults for a minimal pipeline', () => {
    // Act
    const config = parseConfig(valid, 'test');

    // Assess
    expect(config.pipelines[0]).toMatchObject({
      discord: { window: { mode: 'daily', days: 1 }, fetchLimit: 30_000, linkFilter: 'x' },
      sheet: { mainTab: 'Posts', archiveTab: 'Archive', draftsTab: 'Drafts' },
      gemini: { model: 'gemini-2.5-flash', batchSize: 100 },
      publisher: { kind: 'none', mode: 'thread', dryRun: false },
    });
  });

  it.each([
    [{ discord: { channelId: 'abc' } }, 'pipelines[0].discord.channelId: a Discord snowflake id'],
    [{ schedules: [{ name: 'm', dailyAt: '25:00', timeZone: 'UTC' }] }, 'pipelines[0].schedules[0]'],
    [
      { schedules: [{ name: 'm', dailyAt: '09:00', timeZone: 'Mars/Olympus' }] },
      'timeZone: "Mars/Olympus" is not an IANA time zone name',
    ],
    [{ schedules: [] }, 'pipelines[0].schedules: at least one schedule'],
    [
      { schedules: [{ name: 'm', dailyAt: '09:00', cron: '0 9 * * ? *', timeZone: 'UTC' }] },
      'pipelines[0].schedules[0]: a schedule has exactly one of dailyAt, weekly, monthly, cron, rate, once (found dailyAt and cron)',
    ],
    [{ publisher: { kind: 'typefully' } }, 'pipelines[0].publisher.typefullySocialSetId'],
    [{ discord: { channelId: '1200000000000000000', windw: {} } }, 'windw'],
  ])('names the field of %o', (patch, expected) => {
    // Act
    const message = errorOf({ pipelines: [{ ...valid.pipelines[0], ...patch }] });

    // Assess
    expect(message).toContain(expected);
  });

  it('refuses two pipelines with one id', () => {
    // Act + Assess
    expect(errorOf({ pipelines: [valid.pipelines[0], valid.pipelines[0]] })).toContain(
      'pipelines[1].id: pipeline ids must be unique: "demo" is already pipelines[0].id',
    );
  });

  const withSchedules = (...schedules: unknown[]) => ({ pipelines: [{ ...valid.pipelines[0], schedules }] });

  it('names the cron field EventBridge Scheduler would refuse, one line per problem', () => {
    // Act
    const message = errorOf(
      withSchedules(
        { name: 'a', cron: '0 9 * * ? *', timeZone: 'UTC' },
        { name: 'b', cron: '0 18 * * MON-FRI *', timeZone: 'UTC' },
        { name: 'c', cron: '0 25 ? * MON *', timeZone: 'UTC' },
      ),
    );

    // Assess
    expect(message.split('\n').slice(1)).toEqual([
      'pipelines[0].schedules[1].cron: one of day-of-month and day-of-week must be ? (e.g. "0 9 * * ? *" or "0 9 ? * MON-FRI *")',
      'pipelines[0].schedules[2].cron: hours: 25 is out of range 0-23',
    ]);
  });

  it.each([
    ['+01:00', 'Etc/GMT-N for a fixed UTC+N'],
    ['europe/berlin', 'write "Europe/Berlin"'],
    ['US/Eastern', 'write "America/New_York"'],
    ['Mars/Olympus', 'is not an IANA time zone name'],
  ])('refuses the time zone %s that Intl would take: %s', (timeZone, expected) => {
    // Act
    const message = errorOf(withSchedules({ name: 'm', dailyAt: '09:00', timeZone }));

    // Assess
    expect(message).toContain(
      `pipelines[0].schedules[0].timeZone: "${timeZone}" is not an IANA time zone name`,
    );
    expect(message).toContain(expected);
  });

  it.each(['Europe/Berlin', 'America/New_York', 'UTC', 'Etc/UTC', 'Asia/Kolkata', 'Etc/GMT-1'])(
    'accepts the IANA time zone %s',
    (timeZone) => {
      // Act + Assess
      expect(() =>
        parseConfig(withSchedules({ name: 'm', dailyAt: '09:00', timeZone }), 'test'),
      ).not.toThrow();
    },
  );

  it('refuses two schedules of one pipeline with one name', () => {
    // Act
    const message = errorOf(
      withSchedules(
        { name: 'daily', dailyAt: '09:00', timeZone: 'UTC' },
        { name: 'daily', cron: '0 18 ? * MON-FRI *', timeZone: 'UTC' },
      ),
    );

    // Assess
    expect(message).toContain('pipelines[0].schedules[1].name: "daily" is already the name of schedules[0]');
  });

  it('refuses two schedules whose Scheduler names collide across pipelines', () => {
    // Prepare: discord-digest-a-b-c is pipeline a-b's schedule c and pipeline a's schedule b-c.
    const first = {
      ...valid.pipelines[0],
      id: 'a-b',
      schedules: [{ name: 'c', dailyAt: '09:00', timeZone: 'UTC' }],
    };
    const second = {
      ...valid.pipelines[0],
      id: 'a',
      sheet: { spreadsheetId: 'sheet-0000000002' },
      schedules: [{ name: 'b-c', dailyAt: '10:00', timeZone: 'UTC' }],
    };

    // Act
    const message = errorOf({ pipelines: [first, second] });

    // Assess
    expect(message).toContain(
      'pipelines[1].schedules[0].name: Scheduler name "discord-digest-a-b-c" is also the name of pipelines[0].schedules[0]',
    );
  });

  it('shortens long Scheduler names deterministically, within 64 allowed characters, keeping them apart', () => {
    // Prepare
    const id = 'p'.repeat(40);

    // Act
    const one = schedulerScheduleName(id, `${'s'.repeat(39)}1`);
    const two = schedulerScheduleName(id, `${'s'.repeat(39)}2`);

    // Assess
    expect(one).toHaveLength(64);
    expect(one).toMatch(/^[0-9a-zA-Z._-]{1,64}$/);
    expect(one).not.toBe(two);
    expect(schedulerScheduleName(id, `${'s'.repeat(39)}1`)).toBe(one);
    expect(schedulerScheduleName('demo', 'morning')).toBe('discord-digest-demo-morning');
  });

  it.each([
    [
      { mainTab: 'Posts', archiveTab: 'posts' },
      'pipelines[0].sheet.archiveTab: must differ from sheet.mainTab ("Posts")',
    ],
    [{ draftsTab: 'Archive' }, 'pipelines[0].sheet.draftsTab: must differ from sheet.archiveTab ("Archive")'],
    [
      { mainTab: 'x'.repeat(101) },
      'pipelines[0].sheet.mainTab: a Google Sheets tab name has at most 100 characters',
    ],
    [{ mainTab: '' }, 'pipelines[0].sheet.mainTab'],
  ])('refuses colliding or impossible tabs %o', (tabs, expected) => {
    // Act
    const message = errorOf({
      pipelines: [{ ...valid.pipelines[0], sheet: { spreadsheetId: 'sheet-0000000001', ...tabs } }],
    });

    // Assess
    expect(message).toContain(expected);
  });

  it('refuses two pipelines writing the same tab of one spreadsheet', () => {
    // Prepare
    const second = {
      ...valid.pipelines[0],
      id: 'other',
      schedules: [{ name: 'm2', dailyAt: '09:00', timeZone: 'UTC' }],
    };

    // Act
    const message = errorOf({ pipelines: [valid.pipelines[0], second] });

    // Assess
    expect(message).toContain(
      'pipelines[1].sheet.mainTab: tab "Posts" of this spreadsheet is already pipelines[0].sheet.mainTab',
    );
  });

  it('measures the environment as Lambda does: one JSON object of the variables', () => {
    // Act
    const bytes = functionEnvironmentBytes({ A: 1, BB: 2 });

    // Assess
    expect(bytes).toBe('{"A":"x","BB":"xx"}'.length);
    expect(functionEnvironmentBytes()).toBeLessThan(LAMBDA_ENVIRONMENT_MAX_BYTES);
  });

  it('names a missing secret without printing any value', () => {
    // Act
    let message = '';
    try {
      parseSecrets('x', { X_API_KEY: 'very-secret-token', X_API_SECRET: 'k', X_ACCESS_TOKEN: 't' }, '.env');
    } catch (error) {
      message = (error as Error).message;
    }

    // Assess
    expect(message).toContain('X_ACCESS_SECRET');
    expect(message).not.toContain('very-secret-token');
  });
});
