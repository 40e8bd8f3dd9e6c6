import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { Bucket } from 'aws-cdk-lib/aws-s3';
import { Schedule, ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import type { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DigestFunction } from './digest-function';

/** Enough for every schedule's check and a few notifications. */
export const WATCHDOG_TIMEOUT = Duration.seconds(60);

export interface WatchdogProps {
  environment: Record<string, string>;
  table: Table;
  bucket: Bucket;
  secrets: Secret[];
  /** The schedules' dead-letter queue: each message is a scheduled run that did not start. */
  deadLetters: Queue;
  /** How often the missed-run check runs. */
  every?: Duration;
}

/**
 * The missed-run watchdog: one function run on a rate schedule, comparing
 * every schedule's expected slots with the ledger, and fed by the schedules'
 * dead-letter queue, each dead letter recorded as a missed run; an alarm
 * says when a dead letter is waiting.
 */
export class Watchdog extends Construct {
  readonly function: DigestFunction;
  readonly deadLetterAlarm: Alarm;

  constructor(scope: Construct, id: string, props: WatchdogProps) {
    super(scope, id);
    const fn = new DigestFunction(this, 'Function', {
      dir: 'watchdog',
      environment: props.environment,
      timeout: WATCHDOG_TIMEOUT,
    });
    props.table.grantReadWriteData(fn);
    // A notification to a file destination is written to the bucket; one to Discord or a webhook reads its secret.
    props.bucket.grantReadWrite(fn);
    for (const secret of props.secrets) secret.grantRead(fn);
    this.function = fn;

    // docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_scheduler_targets.LambdaInvoke.html
    new Schedule(this, 'Schedule', {
      // A pipeline's schedules are discord-digest-<pipeline>-<schedule>: this name is never one of them.
      scheduleName: 'discord-digest-watchdog',
      description: 'discord-digest missed-run watchdog',
      schedule: ScheduleExpression.rate(props.every ?? Duration.minutes(15)),
      target: new LambdaInvoke(fn, { retryAttempts: 2, maxEventAge: Duration.minutes(15) }),
    });
    // A dead letter that cannot be recorded stays in the queue (reportBatchItemFailures) for the next poll.
    fn.addEventSource(
      new SqsEventSource(props.deadLetters, { batchSize: 10, reportBatchItemFailures: true }),
    );
    this.deadLetterAlarm = new Alarm(this, 'DeadLettersAlarm', {
      alarmDescription:
        'A discord-digest schedule could not start its run (a message in its dead-letter queue)',
      metric: props.deadLetters.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }
}
