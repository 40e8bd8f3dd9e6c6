import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../shared/config/load';
import { type BeginRunEvent, beginRun, beginRunEventSchema } from '../../shared/pipeline/begin-run';
import { FakeScheduleStates } from '../support/fake-schedule-state';
import { FakeLedger } from '../support/fakes';

const config = parseConfig(
  {
    pipelines: [
      {
        id: 'demo',
        discord: { channelId: '1200000000000000000' },
        sheet: { spreadsheetId: 'sheet-0000000001' },
        schedules: [{ name: 'morning', dailyAt: '09:00', timeZone: 'Europe/Berlin' }],
      },
    ],
  },
  'test',
);

const scheduled = (executionName: string): BeginRunEvent =>
  beginRunEventSchema.parse({
    input: {
      pipelineId: 'demo',
      trigger: 'schedule',
      scheduleName: 'morning',
      scheduledTime: '2026-11-24T08:00:00Z',
    },
    executionName,
    executionId: `arn:exec:${executionName}`,
  });

function deps(
  ledger: FakeLedger,
  nowMs = Date.parse('2026-11-24T08:00:05Z'),
  schedules = new FakeScheduleStates(),
) {
  const logs: string[] = [];
  return {
    logs,
    deps: {
      config,
      ledger,
      schedules,
      now: () => new Date(nowMs),
      lockLeaseMs: 60_000,
      log: (message: string) => logs.push(message),
    },
  };
}

describe('beginRun', () => {
  it('names a scheduled run by schedule and firing time and takes the lock', async () => {
    // Prepare
    const ledger = new FakeLedger();

    // Act
    const out = await beginRun(deps(ledger).deps, scheduled('e1'));

    // Assess
    expect(out.run).toMatchObject({
      runId: 'morning-20261124T0800Z',
      proceed: true,
      referenceTime: '2026-11-24T08:00:00.000Z',
    });
    expect(ledger.lock?.holder).toBe('morning-20261124T0800Z');
  });

  it('a second delivery of the same firing does no work and is recorded as a duplicate', async () => {
    // Prepare
    const ledger = new FakeLedger();
    await beginRun(deps(ledger).deps, scheduled('e1'));

    // Act
    const second = await beginRun(deps(ledger).deps, scheduled('e2'));

    // Assess
    expect(second.run.proceed).toBe(false);
    const statuses = [...ledger.runs.values()].map((r) => r.status).sort();
    expect(statuses).toEqual(['duplicate', 'running']);
  });

  it('tells its metric of every run recorded without running: duplicate, overlapping', async () => {
    // Prepare
    const ledger = new FakeLedger();
    const notRun: string[] = [];
    const counting = {
      ...deps(ledger).deps,
      notRun: (p: string, status: string) => notRun.push(`${p}:${status}`),
    };
    await beginRun(counting, scheduled('e1'));

    // Act
    await beginRun(counting, scheduled('e2'));
    ledger.lock = { holder: 'other-run', leaseUntil: Date.parse('2026-11-24T09:00:00Z') };
    await beginRun(counting, {
      ...scheduled('e3'),
      input: { ...scheduled('e3').input, scheduledTime: '2026-11-24T08:30:00Z' },
    });

    // Assess
    expect(notRun).toEqual(['demo:duplicate', 'demo:skipped']);
  });

  it('asks for a review only when the pipeline approves and the draft would really be posted', async () => {
    // Prepare
    const approving = parseConfig(
      {
        pipelines: [
          {
            ...config.pipelines[0],
            publisher: { kind: 'x', review: 'approve' },
            review: { expiresHours: 6 },
          },
        ],
      },
      'test',
    );
    const base = deps(new FakeLedger()).deps;

    // Act
    const live = await beginRun({ ...base, config: approving }, scheduled('e1'));
    const dry = await beginRun(
      { ...base, config: approving, ledger: new FakeLedger() },
      { ...scheduled('e2'), input: { ...scheduled('e2').input, dryRun: true } },
    );
    const auto = await beginRun({ ...base, ledger: new FakeLedger() }, scheduled('e3'));

    // Assess
    expect(live.run.review).toEqual({ timeoutSeconds: 6 * 3600 });
    expect(dry.run.review).toBeUndefined();
    expect(auto.run.review).toBeUndefined();
  });

  it('a retry of BeginRun within the same execution proceeds', async () => {
    // Prepare
    const ledger = new FakeLedger();
    await beginRun(deps(ledger).deps, scheduled('e1'));

    // Act
    const retry = await beginRun(deps(ledger).deps, scheduled('e1'));

    // Assess
    expect(retry.run.proceed).toBe(true);
  });

  it('an overlapping run is recorded as skipped', async () => {
    // Prepare
    const ledger = new FakeLedger();
    ledger.lock = { holder: 'other-run', leaseUntil: Date.parse('2026-11-24T09:00:00Z') };

    // Act
    const out = await beginRun(deps(ledger).deps, scheduled('e1'));

    // Assess
    expect(out.run.proceed).toBe(false);
    expect(ledger.runs.get('morning-20261124T0800Z')).toMatchObject({ status: 'skipped' });
    expect(ledger.runs.get('morning-20261124T0800Z')?.reason).toContain('overlapping: run other-run');
  });

  it('a lock whose lease expired is taken over, and the takeover is logged', async () => {
    // Prepare
    const ledger = new FakeLedger();
    ledger.lock = { holder: 'dead-run', leaseUntil: Date.parse('2026-11-24T07:00:00Z') };
    await ledger.createRun({
      pipelineId: 'demo',
      runId: 'dead-run',
      trigger: 'schedule',
      startedAt: 'x',
      status: 'running',
      steps: {},
    });
    const { deps: d, logs } = deps(ledger);

    // Act
    const out = await beginRun(d, scheduled('e1'));

    // Assess
    expect(out.run.proceed).toBe(true);
    expect(logs).toContain('stale lock taken over');
    expect(ledger.runs.get('dead-run')).toMatchObject({ status: 'failed' });
    expect(ledger.runs.get('dead-run')?.reason).toContain('abandoned');
  });

  it('resume continues a failed run under its own id and window', async () => {
    // Prepare
    const ledger = new FakeLedger();
    await beginRun(deps(ledger).deps, scheduled('e1'));
    await ledger.finishRun('demo', 'morning-20261124T0800Z', { status: 'failed', endedAt: 'x' });
    await ledger.releaseLock('demo', 'morning-20261124T0800Z');
    const event = scheduled('e2');
    event.input.resume = true;

    // Act
    const out = await beginRun(deps(ledger, Date.parse('2026-11-24T12:00:00Z')).deps, event);

    // Assess
    expect(out.run).toMatchObject({
      runId: 'morning-20261124T0800Z',
      proceed: true,
      referenceTime: '2026-11-24T08:00:00.000Z',
    });
  });

  it('an unknown pipeline is a ConfigError', async () => {
    // Prepare
    const event = scheduled('e1');
    event.input.pipelineId = 'nope';

    // Act + Assess
    await expect(beginRun(deps(new FakeLedger()).deps, event)).rejects.toThrow(
      /pipeline "nope" is not configured/,
    );
  });

  it('a scheduled run arriving while its schedule is paused is recorded skipped with who and why', async () => {
    // Prepare
    const ledger = new FakeLedger();
    const schedules = new FakeScheduleStates();
    await schedules.pause('demo', 'morning', {
      by: 'ana',
      reason: 'sheet migration',
      at: '2026-11-23T10:00:00Z',
    });

    // Act
    const out = await beginRun(deps(ledger, undefined, schedules).deps, scheduled('e1'));

    // Assess
    expect(out.run.proceed).toBe(false);
    expect(ledger.runs.get('morning-20261124T0800Z')).toMatchObject({
      status: 'skipped',
      reason: 'paused: sheet migration (by ana)',
    });
    expect(ledger.lock).toBeUndefined();
  });

  it('a pause whose end has passed no longer holds a scheduled run back', async () => {
    // Prepare
    const ledger = new FakeLedger();
    const schedules = new FakeScheduleStates();
    await schedules.pause('demo', 'morning', {
      by: 'ana',
      reason: 'holiday',
      until: '2026-11-24T07:00:00.000Z',
      at: '2026-11-20T10:00:00Z',
    });

    // Act
    const out = await beginRun(deps(ledger, undefined, schedules).deps, scheduled('e1'));

    // Assess
    expect(out.run.proceed).toBe(true);
    expect(ledger.runs.get('morning-20261124T0800Z')?.status).toBe('running');
  });

  it("a pause only holds back its own schedule's runs: a manual run goes ahead", async () => {
    // Prepare
    const ledger = new FakeLedger();
    const schedules = new FakeScheduleStates();
    await schedules.pause('demo', 'morning', { by: 'ana', at: '2026-11-23T10:00:00Z' });
    const manual = beginRunEventSchema.parse({
      input: { pipelineId: 'demo', trigger: 'manual' },
      executionName: 'm1',
      executionId: 'arn:exec:m1',
    });

    // Act
    const out = await beginRun(deps(ledger, undefined, schedules).deps, manual);

    // Assess
    expect(out.run.proceed).toBe(true);
  });
});
