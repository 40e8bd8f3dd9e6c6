import { DescribeExecutionCommand, ExecutionDoesNotExist, SFNClient } from '@aws-sdk/client-sfn';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CliContext } from '../../infra/local/commands/command';
import { locksCommand } from '../../infra/local/commands/locks';
import { runsCommand } from '../../infra/local/commands/runs';
import { loadConfigFile } from '../../shared/config/load';

/**
 * `runs` and `locks` with --aws act on the deployed table through the SDK.
 * The table is aws-sdk-client-mock's: these tests check what is read and
 * written, and that a live holder (a lease not yet run out) is never touched.
 */
const config = loadConfigFile('digest.config.json');
const TABLE = 'digest-ledger-prod';
const ddb = mockClient(DynamoDBDocumentClient);
const sfn = mockClient(SFNClient);

const context = (positionals: string[], values: CliContext['values'] = {}): CliContext => ({
  values: { aws: true, table: TABLE, force: false, ...values },
  positionals,
  config,
  configFile: 'digest.config.json',
  dataDir: '/nonexistent/never-used-with-aws',
  pipelineId: () => 'demo',
});

const runItem = (overrides: Record<string, unknown> = {}) => ({
  pk: 'PIPELINE#demo',
  sk: 'RUN#morning-20261124T0800Z',
  pipelineId: 'demo',
  runId: 'morning-20261124T0800Z',
  trigger: 'schedule',
  startedAt: '2026-11-24T08:00:00.000Z',
  status: 'running',
  executionId: 'arn:aws:states:eu-west-1:123456789012:execution:digest:abc',
  steps: {
    collect: {
      status: 'succeeded',
      endedAt: '2026-11-24T08:00:03.000Z',
      durationMs: 2100,
      counts: { postsKept: 57 },
    },
  },
  ...overrides,
});
const lockItem = (leaseUntil: number) => ({
  pk: 'PIPELINE#demo',
  sk: 'LOCK',
  holder: 'morning-20261124T0800Z',
  leaseUntil,
});

function answer(run: Record<string, unknown> | undefined, lock: Record<string, unknown> | undefined) {
  ddb.on(GetCommand).callsFake((input: { Key: { sk: string } }) => ({
    Item: input.Key.sk === 'LOCK' ? lock : run,
  }));
}

describe('operator commands against the deployed table (--aws)', () => {
  let out: string[];
  let err: string[];
  beforeEach(() => {
    ddb.reset();
    sfn.reset();
    // Unless a test says otherwise, the execution cannot be described: the lease decides.
    sfn.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ message: 'gone', $metadata: {} }));
    out = [];
    err = [];
    vi.spyOn(console, 'log').mockImplementation((line: string) => void out.push(line));
    vi.spyOn(console, 'error').mockImplementation((line: string) => void err.push(line));
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('runs show prints the status, each step and who holds the lock, from the named table', async () => {
    // Prepare
    answer(runItem(), lockItem(Date.now() + 60 * 60_000));

    // Act
    const code = await runsCommand.run(context(['show', 'morning-20261124T0800Z']));

    // Assess
    expect(code).toBe(0);
    expect(ddb.commandCalls(GetCommand)[0]?.args[0].input).toMatchObject({
      TableName: TABLE,
      Key: { pk: 'PIPELINE#demo', sk: 'RUN#morning-20261124T0800Z' },
    });
    expect(out.join('\n')).toContain('status running');
    expect(out.join('\n')).toMatch(/collect\s+succeeded\s+2100 ms\s+postsKept=57/);
    expect(out.join('\n')).toContain('holds the lock of demo: its lease runs until');
  });

  it('runs show says when the run resumes by itself, by which Scheduler schedule, and why', async () => {
    // Prepare
    answer(
      runItem({
        status: 'partial',
        reason: 'analyze: RateLimitedError gemini daily quota',
        autoResume: {
          attempt: 1,
          at: '2026-11-25T08:00:00.000Z',
          reason: 'analyze stopped on a quota that resets at 2026-11-25T08:00:00.000Z',
          state: 'scheduled',
          scheduleName: 'digest-resume-demo-morning-20261124T0800Z-1',
        },
      }),
      undefined,
    );

    // Act
    const code = await runsCommand.run(context(['show', 'morning-20261124T0800Z']));

    // Assess
    expect(code).toBe(0);
    expect(out).toContain(
      'automatic resume 1: due 2026-11-25T08:00:00.000Z by Scheduler schedule digest-resume-demo-morning-20261124T0800Z-1; analyze stopped on a quota that resets at 2026-11-25T08:00:00.000Z',
    );
  });

  it('runs close refuses a run whose lease has not run out, writing nothing', async () => {
    // Prepare
    answer(runItem(), lockItem(Date.now() + 60 * 60_000));

    // Act
    const code = await runsCommand.run(context(['close', 'morning-20261124T0800Z']));

    // Assess
    expect(code).toBe(1);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(
      /^error: refused: run morning-20261124T0800Z holds the lock of demo and its lease runs until/,
    );
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
    expect(ddb.commandCalls(DeleteCommand)).toHaveLength(0);
  });

  it('runs close --force closes it failed with the reason and releases its lock', async () => {
    // Prepare
    answer(runItem(), lockItem(Date.now() + 60 * 60_000));
    ddb.on(UpdateCommand).resolves({});
    ddb.on(DeleteCommand).resolves({});

    // Act
    const code = await runsCommand.run(
      context(['close', 'morning-20261124T0800Z'], { force: true, reason: 'execution stuck' }),
    );

    // Assess
    expect(code).toBe(0);
    const update = ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(update).toMatchObject({
      TableName: TABLE,
      Key: { pk: 'PIPELINE#demo', sk: 'RUN#morning-20261124T0800Z' },
      ExpressionAttributeValues: { ':status': 'failed', ':reason': 'execution stuck' },
    });
    expect(ddb.commandCalls(DeleteCommand)[0]?.args[0].input).toMatchObject({
      TableName: TABLE,
      Key: { pk: 'PIPELINE#demo', sk: 'LOCK' },
      ExpressionAttributeValues: { ':runId': 'morning-20261124T0800Z' },
    });
    expect(out).toEqual(['run morning-20261124T0800Z closed: failed (execution stuck); lock released']);
  });

  it('locks release frees a lock whose lease expired and closes its running run', async () => {
    // Prepare
    answer(runItem(), lockItem(Date.now() - 60_000));
    ddb.on(UpdateCommand).resolves({});
    ddb.on(DeleteCommand).resolves({});

    // Act
    const code = await locksCommand.run(context(['release', 'demo']));

    // Assess
    expect(code).toBe(0);
    expect(ddb.commandCalls(UpdateCommand)[0]?.args[0].input.ExpressionAttributeValues?.[':reason']).toMatch(
      /^abandoned: its lock was released by an operator \(its lease expired at /,
    );
    expect(ddb.commandCalls(DeleteCommand)).toHaveLength(1);
  });

  it("runs close refuses while the run's execution is RUNNING, even with its lease expired", async () => {
    // Prepare
    answer(runItem(), lockItem(Date.now() - 60_000));
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });

    // Act
    const code = await runsCommand.run(context(['close', 'morning-20261124T0800Z']));

    // Assess
    expect(code).toBe(1);
    expect(sfn.commandCalls(DescribeExecutionCommand)[0]?.args[0].input).toEqual({
      executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:digest:abc',
    });
    expect(err).toEqual([
      'error: refused: run morning-20261124T0800Z holds the lock of demo and its execution is RUNNING (--force to close it anyway)',
    ]);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it('locks release frees the lock of an execution that has ended, before its lease runs out', async () => {
    // Prepare
    answer(runItem(), lockItem(Date.now() + 60 * 60_000));
    sfn.on(DescribeExecutionCommand).resolves({ status: 'TIMED_OUT' });
    ddb.on(UpdateCommand).resolves({});
    ddb.on(DeleteCommand).resolves({});

    // Act
    const code = await locksCommand.run(context(['release', 'demo']));

    // Assess
    expect(code).toBe(0);
    expect(ddb.commandCalls(UpdateCommand)[0]?.args[0].input.ExpressionAttributeValues?.[':reason']).toBe(
      'abandoned: its lock was released by an operator (its execution is TIMED_OUT)',
    );
    expect(out).toEqual(['lock of demo released (held by run morning-20261124T0800Z, now closed as failed)']);
  });

  it('an inconsistent item stops the command naming the table; it is never read as "no such run"', async () => {
    // Prepare
    answer(runItem({ status: undefined }), undefined);

    // Act
    const closing = runsCommand.run(context(['close', 'morning-20261124T0800Z']));

    // Assess
    await expect(closing).rejects.toThrow(
      `ledger table ${TABLE}: item PIPELINE#demo RUN#morning-20261124T0800Z is inconsistent: run record without status`,
    );
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it('--aws without a table name is one clear error', async () => {
    // Prepare
    const previous = process.env.DIGEST_LEDGER_TABLE;
    delete process.env.DIGEST_LEDGER_TABLE;

    // Act
    const showing = runsCommand.run(context(['show', 'x'], { table: undefined }));

    // Assess
    await expect(showing).rejects.toThrow(
      '--aws needs the ledger table: --table <name> or DIGEST_LEDGER_TABLE',
    );
    if (previous !== undefined) process.env.DIGEST_LEDGER_TABLE = previous;
  });
});
