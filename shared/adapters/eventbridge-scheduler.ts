import {
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  DeleteScheduleCommand,
  GetScheduleCommand,
  type GetScheduleOutput,
  type SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import { PermanentError } from '../errors';
import type { ResumeScheduler } from '../ports';
import { awsErrorName, toDigestError } from './aws-clients';

/**
 * EventBridge Scheduler, the parts the operator commands need: a schedule's
 * state (enabled or disabled, as the console shows it) and one-time `at()`
 * schedules that delete themselves after they fire.
 */
export interface SchedulerGateway {
  /** Enable or disable a deployed schedule, keeping everything else it has. */
  setState(name: string, state: 'ENABLED' | 'DISABLED', groupName?: string): Promise<void>;
  /** The schedule's state, or undefined when there is no such schedule. */
  getState(name: string, groupName?: string): Promise<'ENABLED' | 'DISABLED' | undefined>;
  createOneTime(schedule: OneTimeSchedule): Promise<void>;
  /** Delete a schedule; one already gone (it fired and deleted itself) is not an error. */
  delete(name: string, groupName?: string): Promise<void>;
}

export interface OneTimeSchedule {
  name: string;
  groupName?: string;
  /** Local `YYYY-MM-DDTHH:MM:SS` in `timeZone`. */
  at: string;
  timeZone: string;
  description: string;
  target: { arn: string; roleArn: string; input: string; deadLetterArn?: string };
}

export function createSchedulerGateway(client: SchedulerClient): SchedulerGateway {
  const call = async <T>(operation: string, request: () => Promise<T>): Promise<T> => {
    try {
      return await request();
    } catch (error) {
      throw toDigestError('scheduler', operation, error);
    }
  };

  async function get(name: string, groupName?: string): Promise<GetScheduleOutput | undefined> {
    try {
      return await client.send(
        new GetScheduleCommand({ Name: name, ...(groupName ? { GroupName: groupName } : {}) }),
      );
    } catch (error) {
      if (awsErrorName(error) === 'ResourceNotFoundException') return undefined;
      throw toDigestError('scheduler', `GetSchedule ${name}`, error);
    }
  }

  return {
    async getState(name, groupName) {
      return (await get(name, groupName))?.State as 'ENABLED' | 'DISABLED' | undefined;
    },

    async setState(name, state, groupName) {
      const current = await get(name, groupName);
      if (!current) throw new PermanentError(`schedule ${name} does not exist (is the stack deployed?)`);
      if (current.State === state) return;
      // UpdateSchedule replaces the whole schedule: an optional field left out is reset,
      // so every field GetSchedule returned goes back as it was, only State changes.
      // docs.aws.amazon.com/scheduler/latest/APIReference/API_UpdateSchedule.html
      await call(`UpdateSchedule ${name}`, () =>
        client.send(
          new UpdateScheduleCommand({
            Name: name,
            GroupName: current.GroupName,
            ScheduleExpression: current.ScheduleExpression,
            ScheduleExpressionTimezone: current.ScheduleExpressionTimezone,
            StartDate: current.StartDate,
            EndDate: current.EndDate,
            Description: current.Description,
            FlexibleTimeWindow: current.FlexibleTimeWindow,
            Target: current.Target,
            KmsKeyArn: current.KmsKeyArn,
            ActionAfterCompletion: current.ActionAfterCompletion,
            State: state,
          }),
        ),
      );
    },

    async createOneTime(schedule) {
      await call(`CreateSchedule ${schedule.name}`, () =>
        client.send(new CreateScheduleCommand(oneTimeScheduleInput(schedule))),
      );
    },

    async delete(name, groupName) {
      try {
        await client.send(
          new DeleteScheduleCommand({ Name: name, ...(groupName ? { GroupName: groupName } : {}) }),
        );
      } catch (error) {
        if (awsErrorName(error) === 'ResourceNotFoundException') return;
        throw toDigestError('scheduler', `DeleteSchedule ${name}`, error);
      }
    },
  };
}

/**
 * A one-time schedule as CreateSchedule takes it: `at(yyyy-mm-ddThh:mm:ss)` read in `ScheduleExpressionTimezone`,
 * no flexible window, deleted by Scheduler once it has invoked its target (`ActionAfterCompletion: DELETE`).
 * https://docs.aws.amazon.com/scheduler/latest/APIReference/API_CreateSchedule.html
 */
function oneTimeScheduleInput(schedule: OneTimeSchedule): CreateScheduleCommandInput {
  return {
    Name: schedule.name,
    ...(schedule.groupName ? { GroupName: schedule.groupName } : {}),
    ScheduleExpression: `at(${schedule.at})`,
    ScheduleExpressionTimezone: schedule.timeZone,
    Description: schedule.description,
    FlexibleTimeWindow: { Mode: 'OFF' },
    ActionAfterCompletion: 'DELETE',
    Target: {
      Arn: schedule.target.arn,
      RoleArn: schedule.target.roleArn,
      Input: schedule.target.input,
      RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
      ...(schedule.target.deadLetterArn ? { DeadLetterConfig: { Arn: schedule.target.deadLetterArn } } : {}),
    },
  };
}

/**
 * FinishRun's ResumeScheduler: a one-time schedule, in UTC, whose templated Step Functions target starts the
 * state machine with the resume's input (the templated target calls StartExecution with `Input` as the
 * execution input: docs.aws.amazon.com/scheduler/latest/UserGuide/managing-targets-templated.html), as the role
 * that may do only that. A schedule of that name already there is this resume's own (a retried FinishRun):
 * CreateSchedule answers ConflictException (409, the only conflict its API reference lists), which counts as
 * done. Scheduler also answers it for a schedule mid-update (alchemy-run/distilled#248): ours are never updated.
 */
export function createResumeScheduler(
  client: SchedulerClient,
  target: { stateMachineArn: string; roleArn: string },
): ResumeScheduler {
  return {
    async schedule(resume) {
      try {
        await client.send(
          new CreateScheduleCommand(
            oneTimeScheduleInput({
              name: resume.name,
              // An ISO instant in UTC is the wall clock of the UTC zone: its first 19 characters are at()'s.
              at: new Date(resume.at).toISOString().slice(0, 19),
              timeZone: 'UTC',
              description: resume.description,
              target: {
                arn: target.stateMachineArn,
                roleArn: target.roleArn,
                input: JSON.stringify(resume.input),
              },
            }),
          ),
        );
      } catch (error) {
        if (awsErrorName(error) === 'ConflictException') return;
        throw toDigestError('scheduler', `CreateSchedule ${resume.name}`, error);
      }
    },
  };
}
