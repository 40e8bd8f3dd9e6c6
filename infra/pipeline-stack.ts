import { Duration, Stack, type StackProps, TimeZone } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  Metric,
  TextWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Bucket } from 'aws-cdk-lib/aws-s3';
import {
  ContextAttribute,
  Schedule,
  ScheduleExpression,
  ScheduleTargetInput,
  TimeWindow,
} from 'aws-cdk-lib/aws-scheduler';
import { StepFunctionsStartExecution } from 'aws-cdk-lib/aws-scheduler-targets';
import type { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { schedulerScheduleName } from '../shared/config/aws-names';
import { CONFIG_ENV } from '../shared/config/load';
import { TASK_STATES, type TaskStateName } from '../shared/config/resources';
import { rateStartMs, scheduleKindOf } from '../shared/config/schedule-kind';
import type { DigestConfig, ScheduleConfig } from '../shared/config/schema';
import { normaliseAwsCron } from '../shared/domain/schedule/aws-cron';
import { schedulerExpression } from '../shared/domain/schedule/kinds';
import { DigestFunction } from './digest-function';
import { SchedulePauses } from './schedule-pauses';
import { analysisMaxConcurrency, buildDigestStateMachine } from './state-machine';
import { SECRET_NAME_PREFIX } from './stateful-stack';

export interface DigestPipelineStackProps extends StackProps {
  config: DigestConfig;
  bucket: Bucket;
  table: Table;
  secrets: Secret[];
}

/** Timeouts per step: collection and analysis may page through thousands of posts. */

/**
 * The deployed expression: every kind through `schedulerExpression`, the same string the evaluator reads
 * (a cron's fields one space apart). `dst` has no counterpart in Scheduler, which always skips a local
 * time that does not exist (repost.aws/knowledge-center/eventbridge-scheduler-adjust-dst): validate says so.
 */
export function scheduleExpression(schedule: ScheduleConfig): ScheduleExpression {
  const kind = scheduleKindOf(schedule);
  const expression = schedulerExpression('cron' in kind ? { cron: normaliseAwsCron(kind.cron) } : kind);
  return ScheduleExpression.expression(expression, TimeZone.of(schedule.timeZone));
}

/** The functions, the state machine, one schedule per configured schedule, the dashboard and alarms. */
export class DigestPipelineStack extends Stack {
  readonly stateMachine: StateMachine;
  readonly functions: Record<TaskStateName, DigestFunction>;

  constructor(scope: Construct, id: string, props: DigestPipelineStackProps) {
    super(scope, id, props);
    const environment = {
      BUCKET_NAME: props.bucket.bucketName,
      LEDGER_TABLE: props.table.tableName,
      SECRETS_SOURCE: 'secretsmanager',
      SECRET_NAME_PREFIX,
      [CONFIG_ENV]: JSON.stringify(props.config),
      POWERTOOLS_SERVICE_NAME: 'discord-digest',
      POWERTOOLS_METRICS_NAMESPACE: 'DiscordDigest',
    };
    const functions = Object.fromEntries(
      (Object.keys(TASK_STATES) as TaskStateName[]).map((state) => {
        const fn = new DigestFunction(this, `${state}Function`, {
          dir: TASK_STATES[state].dir,
          environment,
          timeout: Duration.seconds(TASK_STATES[state].timeoutSeconds),
        });
        props.table.grantReadWriteData(fn);
        props.bucket.grantReadWrite(fn);
        for (const secret of props.secrets) secret.grantRead(fn);
        return [state, fn];
      }),
    ) as Record<TaskStateName, DigestFunction>;
    this.functions = functions;

    const logs = new LogGroup(this, 'StateMachineLogs', { retention: RetentionDays.ONE_MONTH });
    this.stateMachine = buildDigestStateMachine(this, functions, logs, analysisMaxConcurrency(props.config));

    // An execution that dies before FinishRun (timeout, abort, a failed close) must not leave its
    // run "running" and its pipeline locked: this function closes it as failed.
    const closer = new DigestFunction(this, 'CloseAbandonedRunFunction', {
      dir: 'close-abandoned-run',
      environment,
      timeout: Duration.seconds(30),
    });
    props.table.grantReadWriteData(closer);
    new Rule(this, 'ExecutionEndedRule', {
      description: 'discord-digest executions that ended without closing their run',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: {
          status: ['FAILED', 'TIMED_OUT', 'ABORTED'],
          stateMachineArn: [this.stateMachine.stateMachineArn],
        },
      },
      targets: [new LambdaFunction(closer, { retryAttempts: 4 })],
    });

    // Deliveries that fail even after Scheduler's retries land here instead of vanishing.
    const deadLetters = new Queue(this, 'ScheduleDeadLetters', {
      enforceSSL: true,
      encryption: QueueEncryption.SQS_MANAGED,
      retentionPeriod: Duration.days(14),
    });
    // One role for every schedule's target, so re-applying a pause can pass exactly this role.
    const targetRole = new Role(this, 'ScheduleTargetRole', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com'),
      description: 'EventBridge Scheduler starting discord-digest executions',
    });
    const schedules: Schedule[] = [];
    const scheduleNames: string[] = [];
    for (const pipeline of props.config.pipelines) {
      for (const schedule of pipeline.schedules) {
        if (!schedule.enabled) continue;
        // The config check keeps these names unique and within Scheduler's 64 characters. The construct id is
        // unchanged so deployed schedules keep their logical ids (a new one would replace them in place).
        const deployed = new Schedule(this, `Schedule-${pipeline.id}-${schedule.name}`, {
          scheduleName: schedulerScheduleName(pipeline.id, schedule.name),
          description: `discord-digest pipeline ${pipeline.id}, schedule ${schedule.name} (${schedule.timeZone})`,
          schedule: scheduleExpression(schedule),
          ...(schedule.flexibleWindowMinutes
            ? { timeWindow: TimeWindow.flexible(Duration.minutes(schedule.flexibleWindowMinutes)) }
            : {}),
          // A rate counts from its start; without one Scheduler would count from each re-creation.
          // A one-time at() schedule needs none (Scheduler ignores StartDate for it). CloudFormation has no
          // ActionAfterCompletion (CDK's Schedule/CfnSchedule lack it, aws/aws-cdk#27455), so a fired `once`
          // stays as a completed schedule: the stack still owns it and a deploy neither re-creates nor re-runs it.
          ...(schedule.rate ? { start: new Date(rateStartMs(schedule) ?? 0) } : {}),
          target: new StepFunctionsStartExecution(this.stateMachine, {
            input: ScheduleTargetInput.fromObject({
              pipelineId: pipeline.id,
              trigger: 'schedule',
              scheduleName: schedule.name,
              scheduledTime: ContextAttribute.scheduledTime,
            }),
            role: targetRole,
            deadLetterQueue: deadLetters,
            // The CDK default is 185 attempts over a day; a digest that late is no digest.
            retryAttempts: 2,
            // How late a delivery may still start a run (the schedule's graceMinutes).
            maxEventAge: Duration.minutes(schedule.graceMinutes),
          }),
        });
        schedules.push(deployed);
        scheduleNames.push(schedulerScheduleName(pipeline.id, schedule.name));
      }
    }
    if (schedules.length > 0) {
      // FinishRun disables a schedule that paused itself after too many failures: UpdateSchedule sends the
      // target back with its role, so it must be allowed to pass exactly that role.
      // (AWS's own AmazonEventBridgeSchedulerFullAccess pairs scheduler:* with iam:PassRole to scheduler.amazonaws.com:
      // docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonEventBridgeSchedulerFullAccess.html)
      const finish = functions.FinishRun;
      finish.addToRolePolicy(
        new PolicyStatement({
          actions: ['scheduler:GetSchedule', 'scheduler:UpdateSchedule'],
          // ARNs built from the names, as CDK's Schedule does (group `default`): the schedules themselves depend
          // on the state machine, which depends on this function, so referencing them would be a cycle.
          resources: scheduleNames.map((name) =>
            this.formatArn({ service: 'scheduler', resource: 'schedule', resourceName: `default/${name}` }),
          ),
        }),
      );
      targetRole.grantPassRole(finish.grantPrincipal);
      new SchedulePauses(this, 'SchedulePauses', {
        config: props.config,
        table: props.table,
        environment,
        schedules,
        targetRole,
      });
    }
    this.addDashboard(props.config, functions);
  }

  private addDashboard(config: DigestConfig, functions: Record<TaskStateName, DigestFunction>) {
    const machine = this.stateMachine;
    const failures = new Topic(this, 'RunFailures', {
      displayName: 'discord-digest run failures',
      enforceSSL: true,
    });
    new Alarm(this, 'ExecutionsFailedAlarm', {
      alarmDescription: 'A discord-digest execution failed, timed out or was aborted',
      metric: machine.metricFailed({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    }).addAlarmAction(new SnsAction(failures));
    const runMetric = (name: string, pipelineId: string) =>
      new Metric({
        namespace: 'DiscordDigest',
        metricName: name,
        dimensionsMap: { pipelineId, service: 'discord-digest' },
        statistic: 'Sum',
        period: Duration.hours(1),
      });
    new Dashboard(this, 'Dashboard', {
      dashboardName: 'discord-digest',
      widgets: [
        [
          new TextWidget({
            markdown:
              '# discord-digest\nRuns of every pipeline: executions, run outcomes, step errors and durations.',
            width: 24,
            height: 2,
          }),
        ],
        [
          new GraphWidget({
            title: 'Executions',
            left: [
              machine.metricStarted(),
              machine.metricSucceeded(),
              machine.metricFailed(),
              machine.metricTimedOut(),
            ],
            width: 12,
          }),
          new GraphWidget({
            title: 'Run outcomes',
            left: config.pipelines.flatMap((p) =>
              ['RunsSucceeded', 'RunsPartial', 'RunsFailed', 'RunsSkipped'].map((m) => runMetric(m, p.id)),
            ),
            width: 12,
          }),
        ],
        [
          new GraphWidget({
            title: 'Posts',
            left: config.pipelines.flatMap((p) =>
              ['PostsCollected', 'RowsAppended', 'PostsAnalysed', 'RowsArchived', 'MalformedMessages'].map(
                (m) => runMetric(m, p.id),
              ),
            ),
            width: 12,
          }),
          new GraphWidget({
            title: 'Step errors',
            left: Object.entries(functions).map(([state, fn]) => fn.metricErrors({ label: state })),
            width: 12,
          }),
        ],
        [
          new GraphWidget({
            title: 'Step duration (p90)',
            left: Object.entries(functions).map(([state, fn]) =>
              fn.metricDuration({ label: state, statistic: 'p90' }),
            ),
            width: 24,
          }),
        ],
      ],
    });
  }
}
