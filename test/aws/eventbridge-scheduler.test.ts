import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  GetScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
  ThrottlingException,
  UpdateScheduleCommand,
  ValidationException,
} from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createResumeScheduler, createSchedulerGateway } from '../../shared/adapters/eventbridge-scheduler';
import { ConfigError, PermanentError, TransientError } from '../../shared/errors';
import { resumeSchedulerFromEnv } from '../../shared/runtime/scheduler-sync';

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

describe('the automatic-resume scheduler', () => {
  const target = {
    stateMachineArn: 'arn:aws:states:eu-central-1:123456789012:stateMachine:discord-digest',
    roleArn: 'arn:aws:iam::123456789012:role/DigestPipeline-ScheduleTargetRole',
  };
  const resume = {
    name: 'digest-resume-demo-morning-20261124T0800Z-1',
    at: '2026-11-25T08:00:00.000Z',
    description: 'automatic resume 1 of run morning-20261124T0800Z (demo)',
    input: { pipelineId: 'demo', trigger: 'schedule', runId: 'morning-20261124T0800Z', resume: true },
  };

  beforeEach(() => {
    scheduler.reset();
  });

  it('creates a one-time UTC schedule, no flexible window, deleted after it starts the state machine with the resume input', async () => {
    // Prepare
    scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:schedule' });

    // Act
    await createResumeScheduler(new SchedulerClient({}), target).schedule(resume);

    // Assess
    expect(scheduler.commandCalls(CreateScheduleCommand)[0]?.args[0].input).toEqual({
      Name: 'digest-resume-demo-morning-20261124T0800Z-1',
      ScheduleExpression: 'at(2026-11-25T08:00:00)',
      ScheduleExpressionTimezone: 'UTC',
      Description: 'automatic resume 1 of run morning-20261124T0800Z (demo)',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      Target: {
        Arn: target.stateMachineArn,
        RoleArn: target.roleArn,
        Input: JSON.stringify(resume.input),
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
      },
    });
  });

  it('takes ConflictException (the schedule of this run and attempt exists: a retried FinishRun) as done', async () => {
    // Prepare
    scheduler.on(CreateScheduleCommand).rejects(
      new ConflictException({
        Message: 'Schedule already exists.',
        message: 'Schedule already exists.',
        $metadata: { httpStatusCode: 409 },
      }),
    );

    // Act
    const created = createResumeScheduler(new SchedulerClient({}), target).schedule(resume);

    // Assess
    await expect(created).resolves.toBeUndefined();
  });

  it('reports throttling as transient and a refused request as permanent, naming the schedule', async () => {
    // Prepare
    scheduler
      .on(CreateScheduleCommand)
      .rejectsOnce(
        new ThrottlingException({
          Message: 'Rate exceeded',
          message: 'Rate exceeded',
          $metadata: { httpStatusCode: 429 },
        }),
      )
      .rejectsOnce(
        new ValidationException({
          Message: 'bad at()',
          message: 'bad at()',
          $metadata: { httpStatusCode: 400 },
        }),
      );
    const resumes = createResumeScheduler(new SchedulerClient({}), target);

    // Act
    const throttled = resumes.schedule(resume).catch((error: unknown) => error);
    const refused = await resumes.schedule(resume).catch((error: unknown) => error);

    // Assess
    expect(await throttled).toBeInstanceOf(TransientError);
    expect(refused).toBeInstanceOf(PermanentError);
    expect(String(refused)).toContain('CreateSchedule digest-resume-demo-morning-20261124T0800Z-1');
  });
});

describe("FinishRun's resume scheduler from its environment", () => {
  it('is none locally, one per container in AWS, and half of its variables is a ConfigError naming the missing one', () => {
    // Prepare
    const arns = {
      RESUME_MACHINE_ARN: 'arn:aws:states:eu-central-1:123456789012:stateMachine:discord-digest',
      RESUME_ROLE_ARN: 'arn:aws:iam::123456789012:role/scheduler',
    };

    // Act
    const local = resumeSchedulerFromEnv({});
    const first = resumeSchedulerFromEnv(arns);
    const second = resumeSchedulerFromEnv(arns);
    const half = () => resumeSchedulerFromEnv({ RESUME_MACHINE_ARN: arns.RESUME_MACHINE_ARN });

    // Assess
    expect(local).toBeUndefined();
    expect(first).toBeDefined();
    expect(second).toBe(first);
    expect(half).toThrow(ConfigError);
    expect(half).toThrow('RESUME_ROLE_ARN is not set, RESUME_MACHINE_ARN is');
  });
});
