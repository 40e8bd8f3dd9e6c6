import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CfnElement, Duration, Fn, Stack, type StackProps, TimeZone, Validations } from 'aws-cdk-lib';
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
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { schedulerScheduleName } from '../shared/config/aws-names';
import { CONFIG_FILE_NAME } from '../shared/config/load';
import { FUNCTION_NEEDS, TASK_STATES, type TaskStateName } from '../shared/config/resources';
import { rateStartMs, scheduleKindOf } from '../shared/config/schedule-kind';
import type { DigestConfig, ScheduleConfig } from '../shared/config/schema';
import { normaliseAwsCron } from '../shared/domain/schedule/aws-cron';
import { schedulerExpression } from '../shared/domain/schedule/kinds';
import { DigestDashboard } from './dashboard';
import { deadLetterQueue } from './dead-letters';
import { DigestFunction } from './digest-function';
import { type GrantTargets, grantFunctionNeeds, type PipelineSecrets } from './function-grants';
import { Review } from './review';
import { SchedulePauses } from './schedule-pauses';
import { ScheduledTargets } from './scheduled-targets';
import { analysisMaxConcurrency, buildDigestStateMachine } from './state-machine';
import { RUN_FILES_ARN_EXPORT, SECRET_NAME_PREFIX } from './stateful-stack';
import { WATCHDOG_TIMEOUT, Watchdog } from './watchdog';

export interface DigestPipelineStackProps extends StackProps {
  config: DigestConfig;
  bucket: Bucket;
  table: Table;
  secrets: PipelineSecrets;
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

/** The longest wait for a review among the pipelines that ask for one; undefined when none does. */
function longestReview(config: DigestConfig): Duration | undefined {
  const hours = config.pipelines
    .filter((p) => p.publisher.review === 'approve')
    .map((p) => p.review.expiresHours);
  return hours.length > 0 ? Duration.hours(Math.max(...hours)) : undefined;
}

/** The functions, the state machine, one schedule per configured schedule, the dashboard and alarms. */
export class DigestPipelineStack extends Stack {
  readonly stateMachine: StateMachine;
  readonly functions: Record<TaskStateName, DigestFunction>;
  /** The alarms' SNS topic (`observability.alerts`) and the dashboard. */
  readonly observability: DigestDashboard;

  constructor(scope: Construct, id: string, props: DigestPipelineStackProps) {
    super(scope, id, props);
    const environment = {
      BUCKET_NAME: props.bucket.bucketName,
      LEDGER_TABLE: props.table.tableName,
      SECRETS_SOURCE: 'secretsmanager',
      SECRET_NAME_PREFIX,
      POWERTOOLS_SERVICE_NAME: 'discord-digest',
      POWERTOOLS_METRICS_NAMESPACE: 'DiscordDigest',
    };
    // The validated config goes into every function's asset (infra/digest-function.ts), not its environment.
    const configFile = join(mkdtempSync(join(tmpdir(), 'digest-config-')), CONFIG_FILE_NAME);
    writeFileSync(configFile, JSON.stringify(props.config));
    // Each function gets what FUNCTION_NEEDS (shared/config/resources.ts) says it uses, and nothing else.
    const grants: GrantTargets = {
      config: props.config,
      bucketArn: Fn.importValue(RUN_FILES_ARN_EXPORT),
      bucketArnExport: RUN_FILES_ARN_EXPORT,
      table: props.table,
      secrets: props.secrets,
    };
    const functions = Object.fromEntries(
      (Object.keys(TASK_STATES) as TaskStateName[]).map((state) => {
        const fn = new DigestFunction(this, `${state}Function`, {
          dir: TASK_STATES[state].dir,
          environment,
          configFile,
          timeout: Duration.seconds(TASK_STATES[state].timeoutSeconds),
          memoryMB: TASK_STATES[state].memoryMB,
        });
        grantFunctionNeeds(fn, FUNCTION_NEEDS[state], grants);
        return [state, fn];
      }),
    ) as Record<TaskStateName, DigestFunction>;
    this.functions = functions;

    const logs = new LogGroup(this, 'StateMachineLogs', { retention: RetentionDays.ONE_MONTH });
    this.stateMachine = buildDigestStateMachine(
      this,
      functions,
      logs,
      analysisMaxConcurrency(props.config),
      longestReview(props.config),
    );
    this.acknowledgeStateMachineRole(functions);
    new Review(this, 'Review', { awaitReview: functions.AwaitReview, grants, environment, configFile });

    // An execution that dies before FinishRun (timeout, abort, a failed close) must not leave its
    // run "running" and its pipeline locked: this function closes it as failed.
    // EventBridge invokes the closer asynchronously: an event it could not deliver and one the closer failed
    // on after Lambda's retries both land in this queue rather than vanish.
    const closerDeadLetters = deadLetterQueue(this, 'CloserDeadLetters');
    const closer = new DigestFunction(this, 'CloseAbandonedRunFunction', {
      dir: 'close-abandoned-run',
      environment,
      configFile,
      timeout: Duration.seconds(30),
      deadLetterQueue: closerDeadLetters,
    });
    grantFunctionNeeds(closer, FUNCTION_NEEDS.CloseAbandonedRun, grants);
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
      // docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html
      targets: [new LambdaFunction(closer, { retryAttempts: 4, deadLetterQueue: closerDeadLetters })],
    });

    // Deliveries that fail even after Scheduler's retries land here instead of vanishing.
    // The watchdog consumes it: longer than its function's timeout, or a message still in work is handed
    // out again (CloudFormation validation E3505).
    const deadLetters = deadLetterQueue(this, 'ScheduleDeadLetters', {
      visibilityTimeout: Duration.seconds(WATCHDOG_TIMEOUT.toSeconds() * 5),
    });
    // Missed runs: a rate-scheduled check of every schedule's slots, and each dead letter above.
    new Watchdog(this, 'Watchdog', { environment, configFile, grants, deadLetters });
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
        grants,
        environment,
        configFile,
        schedules,
        targetRole,
      });
    }
    // What the one-time schedules of one-off posts and automatic resumes invoke, and FinishRun's right to create them.
    new ScheduledTargets(this, 'ScheduledTargets', {
      grants,
      environment,
      configFile,
      stateMachine: this.stateMachine,
      targetRole,
      finishRun: functions.FinishRun,
    });
    this.observability = new DigestDashboard(this, 'Observability', {
      config: props.config,
      stateMachine: this.stateMachine,
      functions,
      closer,
      deadLetters,
    });
    if (props.config.alerts?.email) {
      this.observability.alerts.addSubscription(new EmailSubscription(props.config.alerts.email));
    }
  }

  /**
   * What the state machine's role must hold that cdk-nag counts as a wildcard. CDK's LambdaInvoke grants each
   * function and its versions and aliases (`<arn>:*`); Step Functions' log delivery (logs:CreateLogDelivery…)
   * and X-Ray writes take no resource ARN
   * (docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html#cloudwatch-iam-policy). test/infra checks the
   * `*` statements hold nothing else.
   */
  private acknowledgeStateMachineRole(functions: Record<TaskStateName, DigestFunction>) {
    const role = Validations.of(this.stateMachine.role);
    for (const fn of Object.values(functions)) {
      const logicalId = this.getLogicalId(fn.node.defaultChild as CfnElement);
      role.acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>:*]`,
        reason: "LambdaInvoke's grant on this one function's versions and aliases",
      });
    }
    role.acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'CloudWatch Logs delivery and X-Ray trace writes support no resource-level permissions',
    });
  }
}
