import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient, TaskTimedOut } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CliContext } from '../../infra/local/commands/command';
import { approveCommand, rejectCommand } from '../../infra/local/commands/review';
import { loadConfigFile } from '../../shared/config/load';

/**
 * `approve` / `reject` with --aws: the decision is written to the deployed table (one conditional update),
 * the review step to the run, then SendTaskSuccess / SendTaskFailure resume the waiting task.
 */
const config = loadConfigFile('digest.config.json');
const TABLE = 'digest-ledger-prod';
const RUN = 'morning-20261124T0800Z';
const TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAf+token';
const ddb = mockClient(DynamoDBDocumentClient);
const sfn = mockClient(SFNClient);

const context = (values: CliContext['values'] = {}): CliContext => ({
  values: { aws: true, table: TABLE, by: 'alice', ...values },
  positionals: [RUN],
  config,
  configFile: 'digest.config.json',
  dataDir: '/nonexistent/never-used-with-aws',
  pipelineId: () => 'demo',
});

const runItem = (status = 'running') => ({
  pk: 'PIPELINE#demo',
  sk: `RUN#${RUN}`,
  pipelineId: 'demo',
  runId: RUN,
  trigger: 'schedule',
  startedAt: '2026-11-24T08:00:00.000Z',
  status,
  steps: {},
});
/** GetItem answers by key: the review item, or the run record. */
const answer = (review: Record<string, unknown>, run: Record<string, unknown> = runItem()) =>
  ddb.on(GetCommand).callsFake((input: { Key: { sk: string } }) => ({
    Item: input.Key.sk.startsWith('REVIEW#') ? review : run,
  }));

const reviewItem = (overrides: Record<string, unknown> = {}) => ({
  pk: 'PIPELINE#demo',
  sk: `REVIEW#${RUN}`,
  pipelineId: 'demo',
  runId: RUN,
  taskToken: TOKEN,
  requestedAt: '2026-11-24T08:05:00.000Z',
  deadline: '2099-11-25T08:05:00.000Z',
  status: 'pending',
  expiresAt: 4_000_000_000,
  ...overrides,
});

let out: string[];
let err: string[];
beforeEach(() => {
  ddb.reset();
  sfn.reset();
  out = [];
  err = [];
  vi.spyOn(console, 'log').mockImplementation((line: string) => void out.push(line));
  vi.spyOn(console, 'error').mockImplementation((line: string) => void err.push(line));
});
afterEach(() => vi.restoreAllMocks());

describe('approve and reject --aws', () => {
  it('refuses a decision for a run whose execution has ended: no task waits for it', async () => {
    // Prepare
    answer(reviewItem(), runItem('failed'));

    // Act
    const code = await approveCommand.run(context());

    // Assess
    expect(code).toBe(1);
    expect(err).toEqual([
      `error: run ${RUN} ended failed; its review no longer waits and nothing was published`,
    ]);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
    expect(sfn.calls()).toHaveLength(0);
  });

  it('approve records the decision and the review step, then sends the task its success', async () => {
    // Prepare
    answer(reviewItem());
    ddb.on(UpdateCommand, { Key: { pk: 'PIPELINE#demo', sk: `REVIEW#${RUN}` } }).resolves({
      Attributes: reviewItem({
        status: 'approved',
        decidedBy: 'alice',
        decidedAt: '2026-11-24T09:00:00.000Z',
      }),
    });
    ddb.on(UpdateCommand, { Key: { pk: 'PIPELINE#demo', sk: `RUN#${RUN}` } }).resolves({});
    sfn.on(SendTaskSuccessCommand).resolves({});

    // Act
    const code = await approveCommand.run(context());

    // Assess
    expect(code).toBe(0);
    expect(out.join('\n')).toContain('approved by alice');
    const decision = ddb.commandCalls(UpdateCommand, { Key: { pk: 'PIPELINE#demo', sk: `REVIEW#${RUN}` } })[0]
      ?.args[0].input;
    expect(decision?.ConditionExpression).toContain('#status = :pending');
    expect(decision?.ExpressionAttributeValues).toMatchObject({ ':status': 'approved', ':by': 'alice' });
    const step = ddb.commandCalls(UpdateCommand, { Key: { pk: 'PIPELINE#demo', sk: `RUN#${RUN}` } })[0]
      ?.args[0].input;
    expect(step?.ExpressionAttributeNames).toMatchObject({ '#step': 'review' });
    const [success] = sfn.commandCalls(SendTaskSuccessCommand);
    expect(success?.args[0].input.taskToken).toBe(TOKEN);
    expect(JSON.parse(success?.args[0].input.output ?? '{}')).toMatchObject({
      status: 'succeeded',
      notes: { decidedBy: 'alice' },
    });
    expect(sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
  });

  it('reject sends the task a ReviewRejected failure naming who and why', async () => {
    // Prepare
    answer(reviewItem());
    ddb.on(UpdateCommand, { Key: { pk: 'PIPELINE#demo', sk: `REVIEW#${RUN}` } }).resolves({
      Attributes: reviewItem({
        status: 'rejected',
        decidedBy: 'alice',
        decidedAt: '2026-11-24T09:00:00.000Z',
        reason: 'typo',
      }),
    });
    ddb.on(UpdateCommand, { Key: { pk: 'PIPELINE#demo', sk: `RUN#${RUN}` } }).resolves({});
    sfn.on(SendTaskFailureCommand).resolves({});

    // Act
    const code = await rejectCommand.run(context({ reason: 'typo' }));

    // Assess
    expect(code).toBe(0);
    const [failure] = sfn.commandCalls(SendTaskFailureCommand);
    expect(failure?.args[0].input).toMatchObject({ taskToken: TOKEN, error: 'ReviewRejected' });
    expect(failure?.args[0].input.cause).toBe('rejected by alice: typo; nothing was published');
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  it('refuses in one line once the review has expired, and resumes nothing', async () => {
    // Prepare
    answer(reviewItem({ deadline: '2026-11-24T09:05:00.000Z' }));
    ddb
      .on(UpdateCommand)
      .rejects(
        new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }),
      );

    // Act
    const code = await approveCommand.run(context());

    // Assess
    expect(code).toBe(1);
    expect(err).toEqual([
      `error: the review of run ${RUN} expired at 2026-11-24T09:05:00.000Z; nothing was published`,
    ]);
    expect(sfn.calls()).toHaveLength(0);
  });

  it('a repeated approve resends the success, and a task already resumed (TaskTimedOut) is no error', async () => {
    // Prepare
    const decided = reviewItem({
      status: 'approved',
      decidedBy: 'alice',
      decidedAt: '2026-11-24T09:00:00.000Z',
    });
    answer(decided);
    ddb
      .on(UpdateCommand, { Key: { pk: 'PIPELINE#demo', sk: `REVIEW#${RUN}` } })
      .rejects(
        new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }),
      );
    ddb.on(UpdateCommand, { Key: { pk: 'PIPELINE#demo', sk: `RUN#${RUN}` } }).resolves({});
    sfn.on(SendTaskSuccessCommand).rejects(new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} }));

    // Act
    const code = await approveCommand.run(context());

    // Assess
    expect(code).toBe(0);
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(1);
  });

  it('refuses a decision opposite to the one already taken', async () => {
    // Prepare
    answer(reviewItem({ status: 'approved', decidedBy: 'bob', decidedAt: '2026-11-24T09:00:00.000Z' }));
    ddb
      .on(UpdateCommand)
      .rejects(
        new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }),
      );

    // Act
    const code = await rejectCommand.run(context());

    // Assess
    expect(code).toBe(1);
    expect(err).toEqual([`error: run ${RUN} was already approved by bob at 2026-11-24T09:00:00.000Z`]);
    expect(sfn.calls()).toHaveLength(0);
  });
});
