import {
  CreateScheduleCommand,
  DeleteScheduleCommand,
  GetScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createSchedulerGateway } from '../../shared/adapters/eventbridge-scheduler';

const scheduler = mockClient(SchedulerClient);
const deployed = {
  Name: 'discord-digest-demo-morning',
  GroupName: 'default',
  ScheduleExpression: 'cron(0 9 * * ? *)',
  ScheduleExpressionTimezone: 'Europe/Berlin',
  Description: 'discord-digest pipeline demo, schedule morning (Europe/Berlin)',
  FlexibleTimeWindow: { Mode: 'OFF' as const },
  State: 'ENABLED' as const,
  Target: {
    Arn: 'arn:aws:states:us-east-1:123456789012:stateMachine:discord-digest',
    RoleArn: 'arn:aws:iam::123456789012:role/scheduler',
    Input: '{"pipelineId":"demo"}',
    RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
  },
};
const notFound = () =>
  new ResourceNotFoundException({
    Message: 'Schedule not found',
    message: 'Schedule not found',
    $metadata: {},
  });

describe('the EventBridge Scheduler gateway', () => {
  beforeEach(() => {
    scheduler.reset();
  });

  it('disables a schedule by sending back everything it has with only the state changed', async () => {
    // Prepare
    scheduler.on(GetScheduleCommand).resolves(deployed);
    scheduler.on(UpdateScheduleCommand).resolves({ ScheduleArn: 'arn' });

    // Act
    await createSchedulerGateway(new SchedulerClient({})).setState(deployed.Name, 'DISABLED');

    // Assess
    const [update] = scheduler.commandCalls(UpdateScheduleCommand);
    const { State, ...rest } = deployed;
    expect(State).toBe('ENABLED');
    expect(update?.args[0].input).toEqual({ ...rest, State: 'DISABLED' });
  });

  it('does nothing when the schedule already has that state, and names a missing one', async () => {
    // Prepare
    scheduler.on(GetScheduleCommand, { Name: deployed.Name }).resolves(deployed);
    scheduler.on(GetScheduleCommand, { Name: 'gone' }).rejects(notFound());
    const gateway = createSchedulerGateway(new SchedulerClient({}));

    // Act
    await gateway.setState(deployed.Name, 'ENABLED');
    const missing = gateway.setState('gone', 'DISABLED');

    // Assess
    await expect(missing).rejects.toThrow('schedule gone does not exist');
    expect(scheduler.commandCalls(UpdateScheduleCommand)).toHaveLength(0);
    expect(await gateway.getState('gone')).toBeUndefined();
  });

  it('creates one-time schedules that delete themselves, and deleting one that already fired is fine', async () => {
    // Prepare
    scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn' });
    scheduler.on(DeleteScheduleCommand).rejects(notFound());
    const gateway = createSchedulerGateway(new SchedulerClient({}));

    // Act
    await gateway.createOneTime({
      name: 'discord-digest-post-abc',
      at: '2026-11-27T18:00:00',
      timeZone: 'Europe/Berlin',
      description: 'one-off post abc',
      target: { arn: 'arn:fn', roleArn: 'arn:role', input: '{"postId":"abc"}' },
    });
    await gateway.delete('discord-digest-post-abc');

    // Assess
    expect(scheduler.commandCalls(CreateScheduleCommand)[0]?.args[0].input).toMatchObject({
      ScheduleExpression: 'at(2026-11-27T18:00:00)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      ActionAfterCompletion: 'DELETE',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: { Arn: 'arn:fn', Input: '{"postId":"abc"}' },
    });
  });
});
