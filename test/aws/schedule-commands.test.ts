import {
  GetScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CliContext } from '../../infra/local/commands/command';
import { schedulesCommand } from '../../infra/local/commands/schedules';
import { loadConfigFile } from '../../shared/config/load';

/**
 * `schedules list|pause|resume --aws` act on the deployed ledger table and on
 * EventBridge Scheduler through the SDK; both are aws-sdk-client-mock's here.
 */
const config = loadConfigFile('digest.config.json');
const TABLE = 'digest-ledger-prod';
const ddb = mockClient(DynamoDBDocumentClient);
const scheduler = mockClient(SchedulerClient);

const context = (positionals: string[], values: CliContext['values'] = {}): CliContext => ({
  values: { aws: true, table: TABLE, days: '7', ...values },
  positionals,
  config,
  configFile: 'digest.config.json',
  dataDir: '/nonexistent/never-used-with-aws',
  pipelineId: () => 'demo',
});

/** What GetSchedule answers for a deployed schedule (fields from the API reference's GetSchedule response). */
const deployed = (name: string, state: 'ENABLED' | 'DISABLED') => ({
  Name: name,
  GroupName: 'default',
  State: state,
  ScheduleExpression: 'cron(0 9 * * ? *)',
  ScheduleExpressionTimezone: 'Europe/Berlin',
  FlexibleTimeWindow: { Mode: 'OFF' as const },
  Target: {
    Arn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:digest',
    RoleArn: 'arn:aws:iam::123456789012:role/ScheduleTargetRole',
    Input: '{"pipelineId":"demo"}',
  },
});

describe('schedules commands against the deployed table and Scheduler (--aws)', () => {
  let out: string[];
  let err: string[];
  beforeEach(() => {
    ddb.reset();
    scheduler.reset();
    out = [];
    err = [];
    vi.spyOn(console, 'log').mockImplementation((line: string) => void out.push(line));
    vi.spyOn(console, 'error').mockImplementation((line: string) => void err.push(line));
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('list shows the ledger state, the last run, failures and the deployed state of each schedule', async () => {
    // Prepare
    ddb.on(GetCommand).callsFake((input: { Key: { sk: string } }) => ({
      Item:
        input.Key.sk === 'SCHEDULE#morning'
          ? {
              pk: 'PIPELINE#demo',
              sk: 'SCHEDULE#morning',
              pipelineId: 'demo',
              scheduleName: 'morning',
              state: 'paused',
              reason: 'paused after 3 failed runs in a row (last: morning-20261124T0800Z)',
              changedBy: 'digest',
              consecutiveFailures: 3,
              lastRun: { runId: 'morning-20261124T0800Z', status: 'failed', at: '2026-11-24T08:05:00.000Z' },
            }
          : undefined,
    }));
    scheduler
      .on(GetScheduleCommand, { Name: 'discord-digest-demo-morning' })
      .resolves(deployed('discord-digest-demo-morning', 'DISABLED'));
    scheduler
      .on(GetScheduleCommand, { Name: 'discord-digest-demo-evening' })
      .resolves(deployed('discord-digest-demo-evening', 'ENABLED'));

    // Act
    const code = await schedulesCommand.run(context(['list']));

    // Assess
    expect(code).toBe(0);
    const text = out.join('\n');
    expect(text).toContain('demo/morning   dailyAt   cron(0 9 * * ? *)   Europe/Berlin');
    expect(text).toContain(
      'state     paused: paused after 3 failed runs in a row (last: morning-20261124T0800Z) (by digest)   [Scheduler: DISABLED]',
    );
    expect(text).toContain('last run  morning-20261124T0800Z failed at 2026-11-24T08:05:00.000Z');
    expect(text).toContain('failures  3 in a row (pauses itself at 3)');
    expect(text).toContain('demo/evening   cron   cron(0 18 ? * MON-FRI *)   America/New_York');
    expect(text).toMatch(/demo\/evening[\s\S]*state {5}enabled {3}\[Scheduler: ENABLED\]/);
    expect(ddb.commandCalls(GetCommand)[0]?.args[0].input.TableName).toBe(TABLE);
  });

  it('pause records who and why in the table and disables the deployed schedule, keeping its other fields', async () => {
    // Prepare
    ddb.on(UpdateCommand).callsFake((input: { ExpressionAttributeValues: Record<string, unknown> }) => ({
      Attributes: {
        pipelineId: 'demo',
        scheduleName: 'morning',
        state: 'paused',
        reason: input.ExpressionAttributeValues[':reason'],
        changedBy: input.ExpressionAttributeValues[':changedBy'],
        consecutiveFailures: 0,
      },
    }));
    ddb.on(PutCommand).resolves({});
    scheduler.on(GetScheduleCommand).resolves(deployed('discord-digest-demo-morning', 'ENABLED'));
    scheduler.on(UpdateScheduleCommand).resolves({ ScheduleArn: 'arn' });

    // Act
    const code = await schedulesCommand.run(
      context(['pause', 'demo/morning'], { reason: 'sheet migration' }),
    );

    // Assess
    expect(code).toBe(0);
    const update = ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(update?.TableName).toBe(TABLE);
    expect(update?.Key).toEqual({ pk: 'PIPELINE#demo', sk: 'SCHEDULE#morning' });
    expect(update?.ExpressionAttributeValues).toMatchObject({
      ':state': 'paused',
      ':reason': 'sheet migration',
    });
    expect(ddb.commandCalls(PutCommand)[0]?.args[0].input.Item).toMatchObject({
      action: 'paused',
      reason: 'sheet migration',
    });
    const sent = scheduler.commandCalls(UpdateScheduleCommand)[0]?.args[0].input;
    expect(sent).toMatchObject({
      Name: 'discord-digest-demo-morning',
      State: 'DISABLED',
      ScheduleExpression: 'cron(0 9 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      Target: { RoleArn: 'arn:aws:iam::123456789012:role/ScheduleTargetRole' },
    });
    expect(out).toContain('Scheduler schedule discord-digest-demo-morning disabled');
  });

  it('resume forgives the failures in the table and enables the deployed schedule again', async () => {
    // Prepare
    ddb.on(UpdateCommand).resolves({
      Attributes: { pipelineId: 'demo', scheduleName: 'morning', state: 'enabled', consecutiveFailures: 0 },
    });
    ddb.on(PutCommand).resolves({});
    scheduler.on(GetScheduleCommand).resolves(deployed('discord-digest-demo-morning', 'DISABLED'));
    scheduler.on(UpdateScheduleCommand).resolves({ ScheduleArn: 'arn' });

    // Act
    const code = await schedulesCommand.run(
      context(['resume', 'demo/morning'], { reason: 'fixed the token' }),
    );

    // Assess
    expect(code).toBe(0);
    expect(ddb.commandCalls(UpdateCommand)[0]?.args[0].input.ExpressionAttributeValues).toMatchObject({
      ':state': 'enabled',
      ':consecutiveFailures': 0,
    });
    expect(scheduler.commandCalls(UpdateScheduleCommand)[0]?.args[0].input).toMatchObject({
      Name: 'discord-digest-demo-morning',
      State: 'ENABLED',
    });
  });

  it('pause of a schedule that was never deployed fails in one line after the ledger is written', async () => {
    // Prepare
    ddb.on(UpdateCommand).resolves({
      Attributes: { pipelineId: 'demo', scheduleName: 'morning', state: 'paused', consecutiveFailures: 0 },
    });
    ddb.on(PutCommand).resolves({});
    scheduler
      .on(GetScheduleCommand)
      .rejects(new ResourceNotFoundException({ message: 'not found', Message: 'not found', $metadata: {} }));

    // Act / Assess
    await expect(schedulesCommand.run(context(['pause', 'demo/morning']))).rejects.toThrow(
      'schedule discord-digest-demo-morning does not exist (is the stack deployed?)',
    );
    expect(scheduler.commandCalls(UpdateScheduleCommand)).toHaveLength(0);
  });

  it.each([
    [
      ['pause', 'demo'],
      'no schedule "demo" in the config: name it <pipeline>/<schedule> (demo/morning, demo/evening)',
    ],
    [['pause', 'demo/morning/x'], 'no schedule "demo/morning/x"'],
    [['run-now', 'demo/morning'], 'schedules run-now --aws needs the state machine'],
    [['list', 'demo/morning'], '"schedules list" takes no <pipeline>/<schedule>'],
  ])('refuses %j in one line, touching nothing', async (positionals, message) => {
    // Act / Assess
    await expect(schedulesCommand.run(context(positionals))).rejects.toThrow(message);
    expect(ddb.calls()).toHaveLength(0);
    expect(scheduler.calls()).toHaveLength(0);
  });

  it('refuses an --until already past or unreadable, touching nothing', async () => {
    // Act / Assess
    await expect(
      schedulesCommand.run(context(['pause', 'demo/morning'], { until: '2020-01-01T00:00:00Z' })),
    ).rejects.toThrow('--until 2020-01-01T00:00:00.000Z has already passed');
    await expect(
      schedulesCommand.run(context(['pause', 'demo/morning'], { until: 'tomorrow' })),
    ).rejects.toThrow('--until "tomorrow" is neither an ISO time with a zone');
    expect(ddb.calls()).toHaveLength(0);
  });
  it('run-now --aws starts the deployed state machine once, named after the run id, unless paused', async () => {
    // Prepare
    const sfn = mockClient(SFNClient);
    sfn
      .on(StartExecutionCommand)
      .resolves({ executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:digest:x' });
    ddb.on(GetCommand).resolves({});
    const arn = 'arn:aws:states:eu-west-1:123456789012:stateMachine:digest';

    // Act
    const code = await schedulesCommand.run(context(['run-now', 'demo/morning'], { 'state-machine': arn }));

    // Assess
    expect(code).toBe(0);
    const [start] = sfn.commandCalls(StartExecutionCommand);
    const input = JSON.parse(start?.args[0].input.input ?? '{}');
    expect(start?.args[0].input.stateMachineArn).toBe(arn);
    expect(start?.args[0].input.name).toBe(input.runId);
    expect(input).toMatchObject({ pipelineId: 'demo', trigger: 'schedule', scheduleName: 'morning' });
    expect(input.runId).toMatch(/^morning-\d{8}T\d{6}Z$/);
    expect(out.at(-1)).toContain(`started run ${input.runId}`);
    sfn.restore();
  });
  it("next lists the pending one-off posts and waiting automatic resumes among the schedules' runs, in time order", async () => {
    // Prepare: a pending post two days from now, and one already cancelled.
    const at = new Date(Date.now() + 2 * 86_400_000);
    at.setUTCSeconds(0, 0);
    const post = (postId: string, status: string) => ({
      pk: 'PIPELINE#demo',
      sk: `POST#${postId}`,
      pipelineId: 'demo',
      postId,
      platform: 'x',
      parts: ['Friday digest'],
      localAt: 'local',
      timeZone: 'Europe/Berlin',
      at: at.toISOString(),
      status,
      createdAt: new Date().toISOString(),
      source: 'text',
    });
    // …and a run of the morning that failed on an outage, resumed by itself in 5 minutes.
    const resumeAt = new Date(Date.now() + 5 * 60_000).toISOString();
    const failedRun = {
      pk: 'PIPELINE#demo',
      sk: 'RUN#morning-20261124T0800Z',
      pipelineId: 'demo',
      runId: 'morning-20261124T0800Z',
      trigger: 'schedule',
      startedAt: new Date().toISOString(),
      status: 'failed',
      steps: {},
      autoResume: {
        attempt: 1,
        at: resumeAt,
        reason: 'collect failed on a transient error',
        state: 'scheduled',
      },
    };
    ddb.on(QueryCommand).callsFake((input: { ExpressionAttributeValues: Record<string, string> }) => ({
      Items:
        input.ExpressionAttributeValues[':prefix'] === 'RUN#'
          ? [failedRun]
          : [post('p1', 'pending'), post('p2', 'cancelled')],
    }));

    // Act
    const code = await schedulesCommand.run(context(['next'], { days: '3' }));

    // Assess
    expect(code).toBe(0);
    expect(out).toContain(
      `  ${resumeAt.slice(0, 16).replace('T', ' ')} UTC                  ${resumeAt.slice(0, 16).replace('T', ' ')} UTC   demo automatic resume 1 of run morning-20261124T0800Z (collect failed on a transient error)`,
    );
    const lines = out.filter((l) => l.includes('one-off post '));
    expect(lines).toEqual([expect.stringContaining('demo one-off post p1 (x, 1 part(s))')]);
    const index = out.indexOf(lines[0] ?? '');
    const before = out[index - 1] ?? '';
    expect(before.includes('UTC')).toBe(true);
  });
});
