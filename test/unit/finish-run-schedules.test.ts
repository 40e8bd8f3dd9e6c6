import { describe, expect, it } from 'vitest';
import { finishRun } from '../../shared/pipeline/finish-run';
import type { StepInput } from '../../shared/pipeline/run-state';
import { schedulerDisabler } from '../../shared/runtime/scheduler-sync';
import { FakeScheduleStates } from '../support/fake-schedule-state';
import { FakeLedger } from '../support/fakes';

const failedCollect = { collect: { Error: 'PermanentError', Cause: '{"errorMessage":"channel gone"}' } };
const succeededCollect = {
  collect: { status: 'succeeded' as const, endedAt: '2026-11-24T08:01:00Z', counts: {} },
};

function input(
  runId: string,
  steps: StepInput['steps'],
  trigger: 'schedule' | 'manual' = 'schedule',
): StepInput {
  return {
    run: {
      pipelineId: 'demo',
      runId,
      trigger,
      referenceTime: '2026-11-24T08:00:00.000Z',
      startedAt: '2026-11-24T08:00:01.000Z',
      dryRun: false,
      ...(trigger === 'schedule' ? { scheduleName: 'morning' } : {}),
      proceed: true,
    },
    steps,
  };
}

function world() {
  const ledger = new FakeLedger();
  const schedules = new FakeScheduleStates();
  const disabled: string[] = [];
  const logs: string[] = [];
  const deps = {
    ledger,
    schedules,
    maxConsecutiveFailures: 2,
    disableSchedule: async (pipelineId: string, scheduleName: string) => {
      disabled.push(`${pipelineId}/${scheduleName}`);
    },
    now: () => new Date('2026-11-24T08:05:00Z'),
    log: (message: string) => logs.push(message),
  };
  const run = async (runId: string, steps: StepInput['steps'], trigger?: 'schedule' | 'manual') => {
    await ledger.createRun({
      pipelineId: 'demo',
      runId,
      trigger: trigger ?? 'schedule',
      startedAt: '2026-11-24T08:00:01.000Z',
      status: 'running',
      steps: {},
    });
    return finishRun(deps, input(runId, steps, trigger));
  };
  return { ledger, schedules, disabled, logs, deps, run };
}

describe('FinishRun counts scheduled runs against their schedule', () => {
  it('pauses and disables the schedule at the run that makes maxConsecutiveFailures failures in a row', async () => {
    // Prepare
    const w = world();
    await w.run('morning-1', failedCollect);

    // Act
    const report = await w.run('morning-2', failedCollect);

    // Assess
    expect(report.status).toBe('failed');
    expect(report.schedulePaused).toBe('paused after 2 failed runs in a row (last: morning-2)');
    expect(await w.schedules.get('demo', 'morning')).toMatchObject({
      state: 'paused',
      changedBy: 'digest',
      consecutiveFailures: 2,
      lastRun: { runId: 'morning-2', status: 'failed' },
    });
    expect(w.disabled).toEqual(['demo/morning']);
    expect(w.ledger.runs.get('morning-2')?.status).toBe('failed');
  });

  it('a run that did work resets the count, so failures must be in a row', async () => {
    // Prepare
    const w = world();
    await w.run('morning-1', failedCollect);
    await w.run('morning-2', succeededCollect);

    // Act
    const report = await w.run('morning-3', failedCollect);

    // Assess
    expect(report.schedulePaused).toBeUndefined();
    expect(await w.schedules.get('demo', 'morning')).toMatchObject({
      state: 'enabled',
      consecutiveFailures: 1,
    });
    expect(w.disabled).toEqual([]);
  });

  it('a manual run is not counted against any schedule', async () => {
    // Prepare
    const w = world();
    await w.run('manual-1', failedCollect, 'manual');

    // Act
    await w.run('manual-2', failedCollect, 'manual');

    // Assess
    expect(w.schedules.states.size).toBe(0);
    expect(w.disabled).toEqual([]);
  });

  it('a Scheduler that refuses to disable leaves the run closed and the ledger pause in place', async () => {
    // Prepare
    const w = world();
    w.deps.disableSchedule = async () => {
      throw new Error('AccessDenied');
    };
    await w.run('morning-1', failedCollect);

    // Act
    const report = await w.run('morning-2', failedCollect);

    // Assess
    expect(report.schedulePaused).toContain('paused after 2 failed runs');
    expect((await w.schedules.get('demo', 'morning')).state).toBe('paused');
    expect(w.ledger.lock).toBeUndefined();
    expect(w.logs).toContain('paused schedule not disabled in Scheduler');
  });

  it('in AWS disables the deployed schedule by its Scheduler name; locally there is nothing to disable', async () => {
    // Prepare
    const calls: string[] = [];
    const gateway = () => ({
      setState: async (name: string, state: string) => void calls.push(`${name} ${state}`),
      getState: async () => undefined,
      createOneTime: async () => undefined,
      delete: async () => undefined,
    });

    // Act
    const local = schedulerDisabler({ DIGEST_LOCK_HOLDER: 'process' }, gateway);
    const inAws = schedulerDisabler({}, gateway);
    await inAws?.('demo', 'morning');

    // Assess
    expect(local).toBeUndefined();
    expect(calls).toEqual(['discord-digest-demo-morning DISABLED']);
  });
});
