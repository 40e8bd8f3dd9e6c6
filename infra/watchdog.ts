import { type CfnElement, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Schedule, ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { FUNCTION_NEEDS } from '../shared/config/resources';
import { DigestFunction } from './digest-function';
import { type GrantTargets, grantFunctionNeeds } from './function-grants';

/** Enough for every schedule's check and a few notifications. */
export const WATCHDOG_TIMEOUT = Duration.seconds(60);

export interface WatchdogProps {
  environment: Record<string, string>;
  configFile: string;
  grants: GrantTargets;
  /** The schedules' dead-letter queue: each message is a scheduled run that did not start. */
  deadLetters: Queue;
  /** How often the missed-run check runs. */
  every?: Duration;
}

/**
 * The missed-run watchdog: one function run on a rate schedule, comparing
 * every schedule's expected slots with the ledger, and fed by the schedules'
 * dead-letter queue, each dead letter recorded as a missed run.
 */
export class Watchdog extends Construct {
  readonly function: DigestFunction;

  constructor(scope: Construct, id: string, props: WatchdogProps) {
    super(scope, id);
    const fn = new DigestFunction(this, 'Function', {
      dir: 'watchdog',
      environment: props.environment,
      configFile: props.configFile,
      timeout: WATCHDOG_TIMEOUT,
    });
    grantFunctionNeeds(fn, FUNCTION_NEEDS.Watchdog, props.grants);
    this.function = fn;

    // The role Scheduler invokes the watchdog as: the target grants it lambda:InvokeFunction on the function.
    const invoker = new Role(this, 'ScheduleRole', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com'),
      description: 'EventBridge Scheduler invoking the discord-digest watchdog',
    });
    Validations.of(invoker).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(fn.node.defaultChild as CfnElement)}.Arn>:*]`,
      reason: "the Lambda target's grant on this one function's versions and aliases",
    });
    // docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_scheduler_targets.LambdaInvoke.html
    new Schedule(this, 'Schedule', {
      // A pipeline's schedules are discord-digest-<pipeline>-<schedule>: this name is never one of them.
      scheduleName: 'discord-digest-watchdog',
      description: 'discord-digest missed-run watchdog',
      schedule: ScheduleExpression.rate(props.every ?? Duration.minutes(15)),
      target: new LambdaInvoke(fn, { role: invoker, retryAttempts: 2, maxEventAge: Duration.minutes(15) }),
    });
    // A dead letter that cannot be recorded stays in the queue (reportBatchItemFailures) for the next poll.
    fn.addEventSource(
      new SqsEventSource(props.deadLetters, { batchSize: 10, reportBatchItemFailures: true }),
    );
    // The alarm on a waiting dead letter is the dashboard's (infra/dashboard.ts).
  }
}
