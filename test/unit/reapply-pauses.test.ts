import { describe, expect, it } from 'vitest';
import type { SchedulerGateway } from '../../shared/adapters/eventbridge-scheduler';
import { configSchema } from '../../shared/config/schema';
import { reapplySchedulePauses } from '../../shared/pipeline/reapply-pauses';
import type { ScheduleState, ScheduleStateStore } from '../../shared/ports';

const config = configSchema.parse({
  pipelines: [
    {
      id: 'demo',
      discord: { channelId: '1187654321098765432' },
      sheet: { spreadsheetId: 'sandbox-spreadsheet-0001' },
      schedules: [
        { name: 'morning', dailyAt: '09:00', timeZone: 'Europe/Berlin' },
        { name: 'evening', dailyAt: '18:00', timeZone: 'Europe/Berlin' },
        { name: 'noon', dailyAt: '12:00', timeZone: 'Europe/Berlin' },
      ],
    },
  ],
});

describe('re-applying pauses after a deploy', () => {
  it('disables again each schedule paused in the ledger whose pause has not ended', async () => {
    // Prepare
    const states: Record<string, Partial<ScheduleState>> = {
      morning: { state: 'paused', reason: 'holiday', changedBy: 'ana' },
      evening: { state: 'paused', pausedUntil: '2026-11-20T00:00:00.000Z' },
    };
    const store = {
      get: async (pipelineId: string, scheduleName: string) => ({
        pipelineId,
        scheduleName,
        state: 'enabled',
        consecutiveFailures: 0,
        ...states[scheduleName],
      }),
    } as unknown as ScheduleStateStore;
    const calls: string[] = [];
    const scheduler = {
      setState: async (name: string, state: string) => void calls.push(`${name} ${state}`),
    } as unknown as SchedulerGateway;

    // Act
    const result = await reapplySchedulePauses({
      config,
      states: store,
      scheduler,
      now: () => new Date('2026-11-24T08:00:00Z'),
      log: () => {},
    });

    // Assess: the evening pause ended on the 20th; noon was never paused.
    expect(calls).toEqual(['discord-digest-demo-morning DISABLED']);
    expect(result.disabled).toEqual(['discord-digest-demo-morning']);
  });
});
