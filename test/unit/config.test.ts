import { describe, expect, it } from 'vitest';
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
      'timeZone: an IANA time zone',
    ],
    [{ schedules: [] }, 'pipelines[0].schedules: at least one schedule'],
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
      'pipeline ids must be unique',
    );
  });

  it('names a missing secret without printing any value', () => {
    // Act
    let message = '';
    try {
      parseSecrets({ DISCORD_BOT_TOKEN: 'very-secret-token', GEMINI_API_KEY: 'k' }, '.env');
    } catch (error) {
      message = (error as Error).message;
    }

    // Assess
    expect(message).toContain('GOOGLE_SERVICE_ACCOUNT_JSON');
    expect(message).not.toContain('very-secret-token');
  });
});
