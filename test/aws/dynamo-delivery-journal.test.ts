/**
 * The delivery journal and the watchdog's progress on embedded dynalite: the
 * conditional writes that make each delivery (and each notification) happen
 * once, pieces confirmed in order, a refused delivery tried again, an unknown
 * one released only by the operator; a missed run recorded in the ledger.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedAws, startEmbeddedAws } from '../../infra/local/embedded-aws';
import { createDynamoDocumentClient } from '../../shared/adapters/aws-clients';
import { createDeliveryJournal } from '../../shared/adapters/dynamo-delivery-journal';
import { createRunLedger } from '../../shared/adapters/dynamo-ledger';
import { createWatchdogProgress } from '../../shared/adapters/dynamo-watchdog-progress';
import type { DeliveryJournal } from '../../shared/ports';

let aws: EmbeddedAws;
let client: DynamoDBDocumentClient;
let journal: DeliveryJournal;

beforeAll(async () => {
  aws = await startEmbeddedAws({});
  client = createDynamoDocumentClient(aws.env);
  journal = createDeliveryJournal({ client, tableName: aws.table });
});
afterAll(async () => {
  await aws?.close();
});

describe('delivery journal on dynalite', () => {
  it('the first attempt creates the record; a second sees it; pieces are confirmed in order only', async () => {
    // Act
    const first = await journal.beginAttempt('demo', 'r1#deliver#team', 'team');
    const second = await journal.beginAttempt('demo', 'r1#deliver#team', 'team');
    await journal.confirmPiece('demo', 'r1#deliver#team', 0, 'm1');
    await journal.confirmPiece('demo', 'r1#deliver#team', 1, 'm2');
    const gap = journal.confirmPiece('demo', 'r1#deliver#team', 3, 'm4');

    // Assess
    expect(first).toBeUndefined();
    expect(second).toMatchObject({ status: 'attempting', attempts: 1, confirmed: [] });
    await expect(gap).rejects.toThrow();
    expect((await journal.get('demo', 'r1#deliver#team'))?.confirmed).toEqual(['m1', 'm2']);
  });

  it('a refused delivery is attempted again (pieces kept); a delivered one reports its receipt', async () => {
    // Prepare
    const key = 'r2#deliver#crm';
    await journal.beginAttempt('demo', key, 'crm');
    await journal.confirmPiece('demo', key, 0, 'm1');
    await journal.fail('demo', key, 'TransientError: 503');

    // Act
    const retry = await journal.beginAttempt('demo', key, 'crm');
    await journal.complete('demo', key, { destination: 'crm', id: 'dlv_1' });
    const after = await journal.beginAttempt('demo', key, 'crm');

    // Assess
    expect(retry).toMatchObject({ status: 'failed', error: 'TransientError: 503', confirmed: ['m1'] });
    expect(after).toMatchObject({ status: 'delivered', attempts: 2, receipt: { id: 'dlv_1' } });
  });

  it('an unknown delivery stays unknown until the operator releases it, once', async () => {
    // Prepare
    const key = 'r3#deliver#editors';
    await journal.beginAttempt('demo', key, 'editors');
    await journal.markUnknown('demo', key, 'UnknownOutcomeError: socket hang up');

    // Act
    const stillUnknown = await journal.beginAttempt('demo', key, 'editors');
    const released = await journal.releaseUnknown('demo', key);
    const twice = await journal.releaseUnknown('demo', key);
    const nothing = await journal.releaseUnknown('demo', 'r3#deliver#nobody');

    // Assess
    expect(stillUnknown?.status).toBe('unknown');
    expect([released, twice, nothing]).toEqual([true, false, false]);
    expect((await journal.get('demo', key))?.status).toBe('failed');
  });
});

describe('watchdog progress and missed runs on dynalite', () => {
  it('keeps where each schedule was checked, and the ledger reads a missed run back', async () => {
    // Prepare
    const progress = createWatchdogProgress({ client, tableName: aws.table });
    const ledger = createRunLedger({ client, tableName: aws.table });

    // Act
    const before = await progress.checkedUntil('demo', 'morning');
    await progress.setCheckedUntil('demo', 'morning', 1_764_000_000_000);
    await ledger.createRun({
      pipelineId: 'demo',
      runId: 'morning-20261124T0800Z',
      trigger: 'schedule',
      scheduleName: 'morning',
      scheduledTime: '2026-11-24T08:00:00.000Z',
      startedAt: '2026-11-24T09:05:00.000Z',
      endedAt: '2026-11-24T09:05:00.000Z',
      status: 'missed',
      reason: 'missed: no run started within 60 min',
      steps: {},
    });

    // Assess
    expect(before).toBeUndefined();
    expect(await progress.checkedUntil('demo', 'morning')).toBe(1_764_000_000_000);
    expect((await ledger.listRuns('demo', 10)).map((r) => r.status)).toContain('missed');
  });
});
