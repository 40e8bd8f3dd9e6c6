import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedAws, startEmbeddedAws } from '../../infra/local/embedded-aws';
import { createDynamoDocumentClient } from '../../shared/adapters/aws-clients';
import { createScheduleStateStore } from '../../shared/adapters/dynamo-schedule-state';
import type { ScheduleStateStore } from '../../shared/ports';

describe('schedule state on embedded dynalite', () => {
  let aws: EmbeddedAws;
  let store: ScheduleStateStore;

  beforeAll(async () => {
    aws = await startEmbeddedAws({});
    store = createScheduleStateStore({ client: createDynamoDocumentClient(aws.env), tableName: aws.table });
  });
  afterAll(async () => {
    await aws?.close();
  });

  it('a schedule never touched is enabled with no failures', async () => {
    // Act
    const state = await store.get('demo', 'never');

    // Assess
    expect(state).toEqual({
      pipelineId: 'demo',
      scheduleName: 'never',
      state: 'enabled',
      consecutiveFailures: 0,
    });
  });

  it('keeps each pause and resume with who and why, newest first', async () => {
    // Act
    const paused = await store.pause('demo', 'morning', {
      by: 'ana',
      reason: 'holiday',
      until: '2026-12-01T00:00:00.000Z',
      at: '2026-11-24T08:00:00.000Z',
    });
    const resumed = await store.resume('demo', 'morning', { by: 'ben', at: '2026-11-25T08:00:00.000Z' });
    const events = await store.history('demo', 'morning', 10);

    // Assess
    expect(paused).toMatchObject({
      state: 'paused',
      reason: 'holiday',
      changedBy: 'ana',
      pausedUntil: '2026-12-01T00:00:00.000Z',
    });
    expect(resumed.state).toBe('enabled');
    expect(resumed.pausedUntil).toBeUndefined();
    expect(events).toEqual([
      { at: '2026-11-25T08:00:00.000Z', action: 'resumed', by: 'ben' },
      {
        at: '2026-11-24T08:00:00.000Z',
        action: 'paused',
        by: 'ana',
        reason: 'holiday',
        until: '2026-12-01T00:00:00.000Z',
      },
    ]);
  });

  it('pauses itself once after N failed runs in a row; a run that did work resets the count', async () => {
    // Prepare
    const outcome = (runId: string, status: 'failed' | 'succeeded' | 'skipped') => ({
      runId,
      status,
      at: `2026-11-2${runId.slice(-1)}T08:00:00.000Z`,
    });

    // Act
    const results = [];
    for (const [id, status] of [
      ['r1', 'failed'],
      ['r2', 'succeeded'],
      ['r3', 'failed'],
      ['r4', 'skipped'],
      ['r5', 'failed'],
      ['r6', 'failed'],
      ['r7', 'failed'],
    ] as const) {
      results.push(await store.recordRunOutcome('demo', 'evening', outcome(id, status), 3));
    }

    // Assess: r2 resets; r4 (skipped) neither counts nor resets; r6 is the third failure in a row.
    expect(results.map((r) => r.state.consecutiveFailures)).toEqual([1, 0, 1, 1, 2, 3, 4]);
    expect(results.map((r) => r.autoPaused)).toEqual([false, false, false, false, false, true, false]);
    const state = await store.get('demo', 'evening');
    expect(state).toMatchObject({
      state: 'paused',
      changedBy: 'digest',
      lastRun: { runId: 'r7', status: 'failed' },
    });
    expect(state.reason).toContain('3 failed runs in a row');
    expect((await store.history('demo', 'evening', 5))[0]).toMatchObject({
      action: 'auto-paused',
      by: 'digest',
    });
  });
});
