import { describe, expect, it } from 'vitest';
import { closeAbandonedRun } from '../../shared/pipeline/close-abandoned-run';
import { FakeLedger } from '../support/fakes';

const event = (executionArn: string, status: 'FAILED' | 'TIMED_OUT' | 'ABORTED' = 'TIMED_OUT') => ({
  detail: { executionArn, status, input: JSON.stringify({ pipelineId: 'demo' }) },
});

async function ledgerWithRunningRun() {
  const ledger = new FakeLedger();
  await ledger.createRun({
    pipelineId: 'demo',
    runId: 'r1',
    trigger: 'schedule',
    startedAt: '2026-11-24T08:00:00Z',
    status: 'running',
    steps: {},
    executionId: 'arn:exec:1',
  });
  await ledger.acquireLock('demo', 'r1', Date.now(), 3_600_000);
  return ledger;
}

const deps = (ledger: FakeLedger) => ({ ledger, now: () => new Date('2026-11-24T09:00:00Z'), log: () => {} });

describe('closeAbandonedRun', () => {
  it('closes the run its timed-out execution left running, and frees the lock', async () => {
    // Prepare
    const ledger = await ledgerWithRunningRun();

    // Act
    const result = await closeAbandonedRun(deps(ledger), event('arn:exec:1'));

    // Assess
    expect(result).toEqual({ closed: true, runId: 'r1' });
    expect(ledger.runs.get('r1')).toMatchObject({
      status: 'failed',
      reason: 'execution timed out before the run was closed',
    });
    expect(ledger.lock).toBeUndefined();
  });

  it("leaves another execution's run and lock alone", async () => {
    // Prepare
    const ledger = await ledgerWithRunningRun();

    // Act
    const result = await closeAbandonedRun(deps(ledger), event('arn:exec:other', 'FAILED'));

    // Assess
    expect(result.closed).toBe(false);
    expect(ledger.runs.get('r1')?.status).toBe('running');
    expect(ledger.lock?.holder).toBe('r1');
  });
});
