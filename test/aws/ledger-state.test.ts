import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type EmbeddedAws, startEmbeddedAws } from '../../infra/local/embedded-aws';
import { createDynamoDocumentClient } from '../../shared/adapters/aws-clients';
import { createRunLedger } from '../../shared/adapters/dynamo-ledger';
import { createScheduleStateStore } from '../../shared/adapters/dynamo-schedule-state';
import { localHolderDeps } from '../../shared/adapters/local-process';
import { parseConfig } from '../../shared/config/load';
import { PermanentError } from '../../shared/errors';
import { beginRun, beginRunEventSchema } from '../../shared/pipeline/begin-run';
import { closeRunByOperator, releaseLockByOperator } from '../../shared/pipeline/close-abandoned-run';
import type { LockHolderProcess, RunLedger, RunRecord, ScheduleStateStore } from '../../shared/ports';

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

const NOW = Date.parse('2026-11-24T08:00:00.000Z');
const LEASE_MS = 75 * 60_000;
const DEAD: LockHolderProcess = { host: 'this-host', pid: 4_000_001 };
const ALIVE: LockHolderProcess = { host: 'this-host', pid: 4_000_002 };
const isHolderGone = (p: LockHolderProcess) => p.pid === DEAD.pid;

const record = (runId: string, overrides: Partial<RunRecord> = {}): RunRecord => ({
  pipelineId: 'demo',
  runId,
  trigger: 'manual',
  startedAt: '2026-11-24T07:59:00.000Z',
  status: 'running',
  steps: {},
  executionId: `exec-${runId}`,
  ...overrides,
});

const start = (runId: string, executionName: string, resume = false) =>
  beginRunEventSchema.parse({
    input: { pipelineId: 'demo', trigger: 'manual', runId, resume },
    executionName,
    executionId: `exec-${executionName}`,
  });

describe('local holders, stale reasons and damaged items on embedded dynalite', () => {
  let aws: EmbeddedAws;
  let ledger: RunLedger;
  let table: string;
  let schedules: ScheduleStateStore;
  let pipelineN = 0;

  beforeAll(async () => {
    aws = await startEmbeddedAws({});
    table = aws.table;
    ledger = createRunLedger({
      client: createDynamoDocumentClient(aws.env),
      tableName: table,
      now: () => NOW,
    });
    schedules = createScheduleStateStore({ client: createDynamoDocumentClient(aws.env), tableName: table });
  });
  afterAll(async () => {
    await aws?.close();
  });
  beforeEach(async () => {
    // Every test starts with the demo pipeline unlocked.
    const lock = await ledger.getLock('demo');
    if (lock) await ledger.releaseLock('demo', lock.holder);
    pipelineN += 1;
  });

  const deps = (holderProcess: LockHolderProcess) => ({
    config,
    ledger,
    schedules,
    now: () => new Date(NOW),
    lockLeaseMs: LEASE_MS,
    log: () => undefined,
    holderProcess,
    isHolderGone,
  });

  it('a finished run without a reason clears the one it had (a resume that succeeded)', async () => {
    // Prepare
    await ledger.createRun(record(`clear-${pipelineN}`));
    await ledger.finishRun('demo', `clear-${pipelineN}`, {
      status: 'failed',
      endedAt: '2026-11-24T08:01:00.000Z',
      reason: 'abandoned, holder process 12 is gone',
    });

    // Act
    await ledger.finishRun('demo', `clear-${pipelineN}`, {
      status: 'succeeded',
      endedAt: '2026-11-24T08:05:00.000Z',
    });

    // Assess
    const run = await ledger.getRun('demo', `clear-${pipelineN}`);
    expect(run?.status).toBe('succeeded');
    expect(run?.reason).toBeUndefined();
  });

  it('the lock keeps the local holder process and a refused run learns it', async () => {
    // Prepare
    await ledger.acquireLock('demo', 'holder-run', NOW, LEASE_MS, ALIVE);

    // Act
    const refused = await ledger.acquireLock('demo', 'other-run', NOW, LEASE_MS, DEAD);

    // Assess
    expect(await ledger.getLock('demo')).toEqual({
      holder: 'holder-run',
      leaseUntil: NOW + LEASE_MS,
      process: ALIVE,
    });
    expect(refused).toEqual({
      acquired: false,
      heldBy: 'holder-run',
      leaseUntil: NOW + LEASE_MS,
      process: ALIVE,
    });
  });

  it('BeginRun closes the run of a dead holder at once and proceeds, long before the lease ends', async () => {
    // Prepare
    const killed = `killed-${pipelineN}`;
    await ledger.createRun(record(killed));
    await ledger.acquireLock('demo', killed, NOW - 60_000, LEASE_MS, DEAD);

    // Act
    const out = await beginRun(deps(ALIVE), start(`next-${pipelineN}`, `e-next-${pipelineN}`));

    // Assess
    expect(out.run.proceed).toBe(true);
    const closed = await ledger.getRun('demo', killed);
    expect(closed?.status).toBe('failed');
    expect(closed?.reason).toBe(`abandoned, holder process ${DEAD.pid} is gone`);
    expect((await ledger.getLock('demo'))?.holder).toBe(`next-${pipelineN}`);
  });

  it('BeginRun still skips as overlapping while the holder process lives', async () => {
    // Prepare
    const holding = `holding-${pipelineN}`;
    await ledger.createRun(record(holding));
    await ledger.acquireLock('demo', holding, NOW, LEASE_MS, ALIVE);

    // Act
    const out = await beginRun(deps(ALIVE), start(`late-${pipelineN}`, `e-late-${pipelineN}`));

    // Assess
    expect(out.run.proceed).toBe(false);
    expect((await ledger.getRun('demo', `late-${pipelineN}`))?.reason).toMatch(/^overlapping: run holding-/);
    expect((await ledger.getRun('demo', holding))?.status).toBe('running');
  });

  it('in Lambda (no DIGEST_LOCK_HOLDER) BeginRun records no process and a lock is only ever freed by its lease', async () => {
    // Prepare
    const holding = `lambda-${pipelineN}`;
    await ledger.createRun(record(holding));
    await ledger.acquireLock('demo', holding, NOW, LEASE_MS, DEAD);
    const lambdaDeps = {
      ...deps(ALIVE),
      holderProcess: undefined,
      isHolderGone: undefined,
      ...localHolderDeps({}),
    };

    // Act
    const out = await beginRun(lambdaDeps, start(`cloud-${pipelineN}`, `e-cloud-${pipelineN}`));

    // Assess
    expect(localHolderDeps({})).toEqual({});
    expect(localHolderDeps({ DIGEST_LOCK_HOLDER: 'process' })).toMatchObject({
      holderProcess: { pid: process.pid },
    });
    expect(out.run.proceed).toBe(false);
    expect((await ledger.getRun('demo', holding))?.status).toBe('running');
    expect((await ledger.getLock('demo'))?.holder).toBe(holding);
  });

  it('--resume of a run left running by a dead holder resumes it', async () => {
    // Prepare
    const killed = `resume-${pipelineN}`;
    await ledger.createRun(record(killed));
    await ledger.acquireLock('demo', killed, NOW - 60_000, LEASE_MS, DEAD);

    // Act
    const out = await beginRun(deps(ALIVE), start(killed, `e-resume-${pipelineN}`, true));

    // Assess
    expect(out.run).toMatchObject({ runId: killed, proceed: true });
    expect(await ledger.getLock('demo')).toMatchObject({ holder: killed, process: ALIVE });
  });

  it('operators: closing or releasing is refused while the holder lives, done once it is gone or forced', async () => {
    // Prepare
    const live = `live-${pipelineN}`;
    await ledger.createRun(record(live));
    await ledger.acquireLock('demo', live, NOW, LEASE_MS, ALIVE);
    const operator = { ledger, now: () => new Date(NOW), isHolderGone };

    // Act
    const refusedClose = await closeRunByOperator(operator, {
      pipelineId: 'demo',
      runId: live,
      force: false,
    });
    const refusedRelease = await releaseLockByOperator(operator, { pipelineId: 'demo', force: false });
    const forced = await closeRunByOperator(operator, {
      pipelineId: 'demo',
      runId: live,
      reason: 'stuck on a hung socket',
      force: true,
    });

    // Assess
    expect(refusedClose.done).toBe(false);
    expect(refusedClose.message).toContain(`process ${ALIVE.pid} on this-host is alive`);
    expect(refusedRelease.done).toBe(false);
    expect(forced.done).toBe(true);
    expect(await ledger.getRun('demo', live)).toMatchObject({
      status: 'failed',
      reason: 'stuck on a hung socket',
    });
    expect(await ledger.getLock('demo')).toBeUndefined();
  });

  it('operators: a dead holder’s lock is released and its run closed without --force', async () => {
    // Prepare
    const dead = `dead-${pipelineN}`;
    await ledger.createRun(record(dead));
    await ledger.acquireLock('demo', dead, NOW, LEASE_MS, DEAD);

    // Act
    const released = await releaseLockByOperator(
      { ledger, now: () => new Date(NOW), isHolderGone },
      { pipelineId: 'demo', force: false },
    );

    // Assess
    expect(released.done).toBe(true);
    expect(await ledger.getLock('demo')).toBeUndefined();
    expect((await ledger.getRun('demo', dead))?.reason).toContain(`process ${DEAD.pid} on this-host is gone`);
  });

  it('a run item without status is damaged state: reads stop naming the table and the item', async () => {
    // Prepare
    const client = createDynamoDocumentClient(aws.env);
    await client.send(
      new PutCommand({
        TableName: table,
        Item: {
          pk: 'PIPELINE#broken',
          sk: 'RUN#r1',
          pipelineId: 'broken',
          runId: 'r1',
          trigger: 'manual',
          startedAt: '2026-11-24T08:00:00.000Z',
          steps: {},
        },
      }),
    );

    // Act
    const get = ledger.getRun('broken', 'r1');
    const list = ledger.listRuns('broken', 10);

    // Assess
    const message = `ledger table ${table}: item PIPELINE#broken RUN#r1 is inconsistent: run record without status`;
    await expect(get).rejects.toThrow(message);
    await expect(list).rejects.toBeInstanceOf(PermanentError);
  });

  it('unparseable step counts and a lock without a lease are damaged state too', async () => {
    // Prepare
    const client = createDynamoDocumentClient(aws.env);
    await client.send(
      new PutCommand({
        TableName: table,
        Item: {
          ...{ pk: 'PIPELINE#broken2', sk: 'RUN#r2' },
          ...record('r2', { pipelineId: 'broken2' }),
          steps: { collect: { status: 'succeeded', endedAt: 'x', counts: { postsKept: 'many' } } },
        },
      }),
    );
    await client.send(
      new PutCommand({
        TableName: table,
        Item: { pk: 'PIPELINE#broken2', sk: 'LOCK', holder: 'r2', leaseUntil: 'soon' },
      }),
    );

    // Act
    const get = ledger.getRun('broken2', 'r2');
    const lock = ledger.getLock('broken2');

    // Assess
    await expect(get).rejects.toThrow('step collect counts are not numbers');
    await expect(lock).rejects.toThrow(
      `ledger table ${table}: item PIPELINE#broken2 LOCK is inconsistent: lock leaseUntil is "soon"`,
    );
  });

  it('BeginRun skips a scheduled run whose schedule is paused in the table, naming who and why', async () => {
    // Prepare
    await schedules.pause('demo', 'morning', {
      by: 'ana',
      reason: 'token rotation',
      at: '2026-11-24T07:00:00.000Z',
    });
    const event = beginRunEventSchema.parse({
      input: {
        pipelineId: 'demo',
        trigger: 'schedule',
        scheduleName: 'morning',
        scheduledTime: '2026-11-24T08:00:00Z',
      },
      executionName: `e-paused-${pipelineN}`,
      executionId: `exec-paused-${pipelineN}`,
    });

    // Act
    const out = await beginRun(deps(ALIVE), event);

    // Assess
    expect(out.run.proceed).toBe(false);
    const run = await ledger.getRun('demo', out.run.runId);
    expect(run).toMatchObject({ status: 'skipped', reason: 'paused: token rotation (by ana)' });
    expect(await ledger.getLock('demo')).toBeUndefined();
    await schedules.resume('demo', 'morning', { by: 'ana', at: '2026-11-24T07:30:00.000Z' });
  });
});
