/**
 * `deliver` and `notify` in the config: each kind's fields, secrets named and
 * never given, one clear line naming each bad field.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../shared/config/load';
import { ConfigError } from '../../shared/errors';

const pipeline = (extra: Record<string, unknown>) => ({
  pipelines: [
    {
      id: 'demo',
      discord: { channelId: '1200000000000000000' },
      sheet: { spreadsheetId: 'sheet-0000000001' },
      schedules: [{ name: 'morning', dailyAt: '09:00', timeZone: 'Europe/Berlin' }],
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

describe('deliver and notify', () => {
  it('accepts one of each kind, with defaults, and nothing when absent', () => {
    // Act
    const none = parseConfig(pipeline({}), 'test').pipelines[0];
    const all = parseConfig(
      pipeline({
        deliver: [
          { kind: 'discord', name: 'team', webhookUrlSecret: 'TEAM_WEBHOOK_URL' },
          { kind: 'webhook', name: 'crm', urlSecret: 'CRM_URL', signingSecret: 'CRM_SIGNING_SECRET' },
          { kind: 'email', name: 'editors', from: 'Digest <digest@example.com>', to: ['ed@example.com'] },
          { kind: 'file', name: 'markdown' },
        ],
        notify: [
          {
            kind: 'email',
            name: 'on-call',
            from: 'digest@example.com',
            to: ['oc@example.com'],
            on: ['run-failed'],
          },
        ],
      }),
      'test',
    ).pipelines[0];

    // Assess
    expect(none).toMatchObject({ deliver: [], notify: [] });
    expect(all?.deliver).toMatchObject([
      { kind: 'discord', format: 'embeds' },
      { kind: 'webhook' },
      { kind: 'email' },
      { kind: 'file', prefix: 'digests' },
    ]);
    expect(all?.notify[0]?.on).toEqual(['run-failed']);
  });

  it('refuses a secret given instead of named, naming the field', () => {
    // Act
    const message = errorOf(
      pipeline({
        deliver: [
          { kind: 'webhook', name: 'crm', url: 'https://hooks.example.com/x', signingSecret: 'whsec_123' },
        ],
      }),
    );

    // Assess
    expect(message).toContain('pipelines[0].deliver[0]');
    expect(message).toContain('url');
    expect(message).toContain('pipelines[0].deliver[0].signingSecret: the name of a secret key');
  });

  it('refuses an unknown kind and an unknown event, naming each', () => {
    // Act
    const message = errorOf(
      pipeline({
        deliver: [{ kind: 'sms', name: 'phone' }],
        notify: [{ kind: 'discord', name: 'ops', webhookUrlSecret: 'OPS_URL', on: ['run-exploded'] }],
      }),
    );

    // Assess
    expect(message).toContain('pipelines[0].deliver[0].kind');
    expect(message).toContain('pipelines[0].notify[0].on[0]: one of run-failed, run-partial');
  });

  it('refuses two destinations of one name (their journal keys would be one)', () => {
    // Act
    const message = errorOf(
      pipeline({
        deliver: [
          { kind: 'file', name: 'same' },
          { kind: 'file', name: 'same' },
        ],
      }),
    );

    // Assess
    expect(message).toContain('pipelines[0].deliver[1].name: "same" is already the name of deliver[0]');
  });
});
