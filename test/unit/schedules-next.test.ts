import { describe, expect, it } from 'vitest';
import { dstWarnings, formatUpcoming, upcomingRuns } from '../../infra/local/commands/schedules';
import { configSchema } from '../../shared/config/schema';

const config = configSchema.parse({
  pipelines: [
    {
      id: 'demo',
      discord: { channelId: '1187654321098765432' },
      sheet: { spreadsheetId: 'sandbox-spreadsheet-0001' },
      schedules: [
        { name: 'night', dailyAt: '02:30', timeZone: 'Europe/Berlin' },
        { name: 'weekdays', cron: '0 18 ? * MON-FRI *', timeZone: 'America/New_York' },
        { name: 'off', dailyAt: '12:00', timeZone: 'UTC', enabled: false },
      ],
    },
  ],
});

describe('schedules next', () => {
  it('lists every enabled schedule in local and UTC time and marks the DST shift', () => {
    // Act: the spring-forward weekend of 2027 in Berlin (Sunday 28 March).
    const lines = upcomingRuns(
      config,
      Date.parse('2027-03-26T12:00:00Z'),
      Date.parse('2027-03-29T12:00:00Z'),
    ).map(formatUpcoming);

    // Assess
    expect(lines).toEqual([
      '2027-03-26 18:00 America/New_York     2027-03-26 22:00 UTC   demo/weekdays',
      '2027-03-27 02:30 Europe/Berlin        2027-03-27 01:30 UTC   demo/night',
      '2027-03-28 02:30 Europe/Berlin        2027-03-28 01:00 UTC   demo/night  shifted: 2027-03-28 02:30 does not exist (DST), runs at 03:00',
      '2027-03-29 02:30 Europe/Berlin        2027-03-29 00:30 UTC   demo/night',
    ]);
  });

  it('warns about every schedule that meets a DST gap or repeated hour in the coming year', () => {
    // Act
    const warnings = dstWarnings(config, Date.parse('2026-11-24T00:00:00Z'));

    // Assess: Berlin's 02:30 meets the March gap; New York's 18:00 never meets a transition.
    expect(warnings).toEqual([
      'warning: schedule demo/night at 2027-03-28 02:30 Europe/Berlin does not exist when clocks go forward: locally (dst "shift") it runs at the first minute after the gap, but EventBridge Scheduler skips it that day',
      'warning: schedule demo/night at 2027-10-31 02:30 Europe/Berlin falls in the hour that repeats when clocks go back: it runs once, the first time',
    ]);
  });

  it('reads dst from the config: a "skip" schedule does not run in the gap, and its warning says so', () => {
    // Prepare
    const skipping = configSchema.parse({
      pipelines: [
        {
          id: 'demo',
          discord: { channelId: '1187654321098765432' },
          sheet: { spreadsheetId: 'sandbox-spreadsheet-0001' },
          schedules: [{ name: 'night', dailyAt: '02:30', timeZone: 'Europe/Berlin', dst: 'skip' }],
        },
      ],
    });

    // Act
    const lines = upcomingRuns(
      skipping,
      Date.parse('2027-03-27T12:00:00Z'),
      Date.parse('2027-03-28T12:00:00Z'),
    ).map(formatUpcoming);
    const warnings = dstWarnings(skipping, Date.parse('2026-11-24T00:00:00Z'));

    // Assess
    expect(lines).toEqual([
      '2027-03-28 02:30 Europe/Berlin        2027-03-28 01:00 UTC   demo/night  skipped: 2027-03-28 02:30 does not exist (DST)',
    ]);
    expect(warnings[0]).toBe(
      'warning: schedule demo/night at 2027-03-28 02:30 Europe/Berlin does not exist when clocks go forward: that day it does not run (dst "skip", as EventBridge Scheduler does)',
    );
  });

  it('previews a rate schedule from its own start, whatever the time of the preview', () => {
    // Prepare
    const rated = configSchema.parse({
      pipelines: [
        {
          id: 'demo',
          discord: { channelId: '1187654321098765432', window: { mode: 'since_last' } },
          sheet: { spreadsheetId: 'sandbox-spreadsheet-0001' },
          schedules: [
            { name: 'six', rate: { every: 6, unit: 'hours', start: '2026-12-01 06:00' }, timeZone: 'UTC' },
          ],
        },
      ],
    });

    // Act
    const times = upcomingRuns(
      rated,
      Date.parse('2026-12-02T07:13:00Z'),
      Date.parse('2026-12-02T19:00:00Z'),
    ).map((r) => r.time.at.toISOString());

    // Assess
    expect(times).toEqual(['2026-12-02T12:00:00.000Z', '2026-12-02T18:00:00.000Z']);
  });
});
