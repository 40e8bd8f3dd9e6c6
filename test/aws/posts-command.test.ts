import {
  CloudFormationClient,
  CloudFormationServiceException,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import { CreateScheduleCommand, DeleteScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CliContext } from '../../infra/local/commands/command';
import { postScheduleName, postTargets, runPosts } from '../../infra/local/commands/posts';
import { testPipeline } from '../support/fakes';

const scheduler = mockClient(SchedulerClient);
const dynamo = mockClient(DynamoDBDocumentClient);
const cloudFormation = mockClient(CloudFormationClient);
const pipeline = testPipeline();

const context = (positionals: string[], values: CliContext['values']): CliContext => ({
  config: { pipelines: [pipeline] } as CliContext['config'],
  configFile: 'test',
  dataDir: '/nonexistent',
  pipelineId: () => 'demo',
  positionals,
  values: { aws: true, ...values },
});

describe('posts --aws', () => {
  beforeEach(() => {
    scheduler.reset();
    dynamo.reset();
    vi.stubEnv('DIGEST_LEDGER_TABLE', 'ledger');
    vi.stubEnv('DIGEST_PUBLISH_POST_ARN', 'arn:aws:lambda:eu-central-1:123456789012:function:publish-post');
    vi.stubEnv('DIGEST_SCHEDULER_ROLE_ARN', 'arn:aws:iam::123456789012:role/scheduler');
    vi.spyOn(console, 'log').mockImplementation(() => {});
    vi.spyOn(console, 'error').mockImplementation(() => {});
  });
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it('schedule stores the post and creates a one-time schedule in its zone that deletes itself', async () => {
    // Prepare
    dynamo.on(PutCommand).resolves({});
    scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:aws:scheduler:::schedule/default/x' });

    // Act
    const code = await runPosts(
      context(['schedule'], { at: '2099-11-27 18:00', tz: 'Europe/Berlin', text: 'Black Friday digest' }),
    );

    // Assess
    expect(code).toBe(0);
    const stored = dynamo.commandCalls(PutCommand)[0]?.args[0].input.Item;
    expect(stored).toMatchObject({
      status: 'pending',
      at: '2099-11-27T17:00:00.000Z',
      parts: ['Black Friday digest'],
    });
    const postId = String(stored?.postId);
    expect(scheduler.commandCalls(CreateScheduleCommand)[0]?.args[0].input).toEqual({
      Name: postScheduleName('demo', postId),
      ScheduleExpression: 'at(2099-11-27T18:00:00)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      Description: `one-off post ${postId} of demo`,
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      Target: {
        Arn: 'arn:aws:lambda:eu-central-1:123456789012:function:publish-post',
        RoleArn: 'arn:aws:iam::123456789012:role/scheduler',
        Input: JSON.stringify({ pipelineId: 'demo', postId }),
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
      },
    });
  });

  it('cancel marks a pending post cancelled and deletes its schedule; a published one changes nothing', async () => {
    // Prepare
    const post = {
      pipelineId: 'demo',
      postId: 'p1',
      status: 'pending',
      at: '2099-11-27T17:00:00.000Z',
      parts: ['x'],
    };
    dynamo
      .on(GetCommand)
      .resolvesOnce({ Item: post })
      .resolves({ Item: { ...post, postId: 'p2', status: 'published' } });
    dynamo
      .on(UpdateCommand)
      .resolvesOnce({ Attributes: { ...post, status: 'cancelled' } })
      .rejects(Object.assign(new Error('conditional'), { name: 'ConditionalCheckFailedException' }));
    scheduler.on(DeleteScheduleCommand).resolves({});

    // Act
    const cancelled = await runPosts(context(['cancel', 'p1'], {}));
    const published = await runPosts(context(['cancel', 'p2'], {}));

    // Assess
    expect(cancelled).toBe(0);
    expect(published).toBe(1);
    expect(scheduler.commandCalls(DeleteScheduleCommand).map((c) => c.args[0].input)).toEqual([
      { Name: postScheduleName('demo', 'p1') },
    ]);
    expect(console.error).toHaveBeenCalledWith('post p2 was already published: nothing changed');
  });

  it('a schedule Scheduler refuses leaves the stored post cancelled with the reason, not pending', async () => {
    // Prepare
    dynamo.on(PutCommand).resolves({});
    dynamo.on(UpdateCommand).resolves({ Attributes: { status: 'cancelled' } });
    scheduler
      .on(CreateScheduleCommand)
      .rejects(Object.assign(new Error('role cannot be assumed'), { name: 'ValidationException' }));

    // Act
    const attempt = runPosts(
      context(['schedule'], { at: '2099-11-27 18:00', tz: 'Europe/Berlin', text: 'Black Friday digest' }),
    );

    // Assess
    await expect(attempt).rejects.toThrow(/CreateSchedule/);
    const update = dynamo.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(update?.ExpressionAttributeValues).toMatchObject({
      ':from': 'pending',
      ':to': 'cancelled',
      ':error': expect.stringContaining('its one-time schedule could not be created'),
    });
  });

  describe('without the ARNs in the environment', () => {
    const deployedArns = {
      publishPost: 'arn:aws:lambda:eu-central-1:123456789012:function:DigestPipeline-PublishPost-abc',
      role: 'arn:aws:iam::123456789012:role/DigestPipeline-PostScheduleRole-abc',
    };
    beforeEach(() => {
      cloudFormation.reset();
      vi.stubEnv('DIGEST_PUBLISH_POST_ARN', '');
      vi.stubEnv('DIGEST_SCHEDULER_ROLE_ARN', '');
      vi.stubEnv('AWS_REGION', 'eu-central-1');
    });

    it('schedule takes the function and the role from the deployed stack’s outputs', async () => {
      // Prepare
      dynamo.on(PutCommand).resolves({});
      scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:aws:scheduler:::schedule/default/x' });
      cloudFormation.on(DescribeStacksCommand, { StackName: 'DigestPipeline' }).resolves({
        Stacks: [
          {
            StackName: 'DigestPipeline',
            StackStatus: 'UPDATE_COMPLETE',
            CreationTime: new Date(),
            Outputs: [
              { OutputKey: 'PublishPostFunctionArn', OutputValue: deployedArns.publishPost },
              { OutputKey: 'PostScheduleRoleArn', OutputValue: deployedArns.role },
            ],
          },
        ],
      });

      // Act
      const code = await runPosts(
        context(['schedule'], { at: '2099-11-27 18:00', tz: 'Europe/Berlin', text: 'Black Friday digest' }),
      );

      // Assess
      expect(code).toBe(0);
      expect(scheduler.commandCalls(CreateScheduleCommand)[0]?.args[0].input.Target).toMatchObject({
        Arn: deployedArns.publishPost,
        RoleArn: deployedArns.role,
      });
    });

    it('schedule says in one line that the stack is not deployed, and stores nothing', async () => {
      // Prepare
      cloudFormation.on(DescribeStacksCommand).rejects(
        new CloudFormationServiceException({
          // The code CloudFormation answers with (boto/boto3#2807, aws-actions/aws-cloudformation-github-deploy#129).
          name: 'ValidationError',
          $fault: 'client',
          message: 'Stack with id DigestPipeline does not exist',
          $metadata: { httpStatusCode: 400 },
        }),
      );

      // Act
      const scheduled = runPosts(
        context(['schedule'], { at: '2099-11-27 18:00', tz: 'Europe/Berlin', text: 'Black Friday digest' }),
      );

      // Assess
      await expect(scheduled).rejects.toThrow(
        /^stack DigestPipeline is not deployed in eu-central-1: deploy it \(npx cdk deploy --all\) or set the ARNs in the environment$/,
      );
      expect(dynamo.commandCalls(PutCommand)).toHaveLength(0);
      expect(scheduler.commandCalls(CreateScheduleCommand)).toHaveLength(0);
    });

    it('half of the ARNs in the environment is refused, naming the missing one', async () => {
      // Act
      const refused = postTargets({ DIGEST_PUBLISH_POST_ARN: deployedArns.publishPost });

      // Assess
      await expect(refused).rejects.toThrow(
        /^DIGEST_SCHEDULER_ROLE_ARN is not set, DIGEST_PUBLISH_POST_ARN is/,
      );
    });
  });
});
