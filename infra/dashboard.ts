import { Duration, Stack } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { fireRuleOfSchedule } from '../shared/config/coverage';
import type { DigestConfig } from '../shared/config/schema';
import { fireTimesBetween } from '../shared/domain/schedule/evaluator';
import { METRICS_NAMESPACE, RUN_OUTCOME_METRICS } from '../shared/observability/metrics';
import { QUOTAS, type QuotaApi, STEP_NAMES } from '../shared/ports';

export interface DigestDashboardProps {
  config: DigestConfig;
  stateMachine: StateMachine;
  /** Each state's function, by state name. */
  functions: Record<string, IFunction>;
  /** The function that closes runs whose execution died. */
  closer: IFunction;
  /** Scheduler deliveries that failed for good. */
  deadLetters: IQueue;
  /** When the template is made: the next runs are computed from here. */
  now?: Date;
}

/** Powertools puts `service` on every metric (shared/observability/metrics.ts). */
const SERVICE = 'discord-digest';
const DAY = 86_400_000;

/**
 * The run alarms, each to one SNS topic (`alerts`; subscribe an address to it), and the dashboard.
 * Alarms watch run outcomes, not only executions: a run can fail or end partial inside a SUCCEEDED execution.
 */
export class DigestDashboard extends Construct {
  readonly alerts: Topic;
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: DigestDashboardProps) {
    super(scope, id);
    const { config, stateMachine: machine } = props;
    this.alerts = new Topic(this, 'Alerts', { displayName: 'discord-digest alerts', enforceSSL: true });
    const alarm = (name: string, description: string, metric: IMetric) =>
      new Alarm(this, name, {
        alarmDescription: description,
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        // No runs, no data: that is not a failure (RunsMissed says when a run should have happened).
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }).addAlarmAction(new SnsAction(this.alerts));

    const five = Duration.minutes(5);
    alarm(
      'ExecutionsFailedAlarm',
      'A discord-digest execution failed, timed out or was aborted',
      machine.metricFailed({ period: five, statistic: 'Sum' }),
    );
    // Every run metric: per pipeline (and maybe per step or API), summed per hour unless said otherwise.
    const run = (
      name: string,
      pipelineId: string,
      period = Duration.hours(1),
      more: { dimensions?: Record<string, string>; statistic?: string; label?: string } = {},
    ) =>
      new Metric({
        namespace: METRICS_NAMESPACE,
        metricName: name,
        dimensionsMap: { pipelineId, service: SERVICE, ...more.dimensions },
        statistic: more.statistic ?? 'Sum',
        period,
        ...(more.label ? { label: more.label } : {}),
      });
    for (const pipeline of config.pipelines) {
      alarm(
        `RunsFailed-${pipeline.id}`,
        `A run of pipeline ${pipeline.id} failed`,
        run('RunsFailed', pipeline.id, five),
      );
      alarm(
        `RunsPartial-${pipeline.id}`,
        `A run of pipeline ${pipeline.id} ended partial (a step stopped short, or its draft was not approved)`,
        run('RunsPartial', pipeline.id, five),
      );
      alarm(
        `RunsMissed-${pipeline.id}`,
        `A scheduled run of pipeline ${pipeline.id} did not happen`,
        run('RunsMissed', pipeline.id, five),
      );
    }
    alarm(
      'CloserErrorsAlarm',
      'The function closing abandoned runs failed: a run may stay "running" with its pipeline locked',
      props.closer.metricErrors({ period: five, statistic: 'Sum' }),
    );
    alarm(
      'DeadLettersAlarm',
      'A schedule delivery failed for good and is in the dead-letter queue',
      props.deadLetters.metricApproximateNumberOfMessagesVisible({ period: five, statistic: 'Maximum' }),
    );

    // In the stack's scope under its old id: a new logical id would make CloudFormation create the new dashboard
    // (the same dashboardName, overwritten) and then delete the old one, which deletes that name.
    this.dashboard = new Dashboard(Stack.of(this), 'Dashboard', {
      dashboardName: 'discord-digest',
      widgets: [
        [
          new TextWidget({
            markdown:
              '# discord-digest\nRuns of every pipeline: outcomes, success rate, step durations, API requests, quota use, deliveries.',
            width: 12,
            height: 6,
          }),
          new TextWidget({
            markdown: nextRunsMarkdown(config, props.now ?? new Date()),
            width: 12,
            height: 6,
          }),
        ],
        [
          new GraphWidget({
            title: 'Success rate (%): succeeded / (succeeded + partial + failed)',
            // Metric ids are unique per graph: one set per pipeline.
            left: config.pipelines.map(
              (p, i) =>
                new MathExpression({
                  // FILL: a day without partial or failed runs counts them as 0, not as missing.
                  expression: `100 * FILL(s${i}, 0) / (FILL(s${i}, 0) + FILL(p${i}, 0) + FILL(f${i}, 0))`,
                  usingMetrics: {
                    [`s${i}`]: run('RunsSucceeded', p.id, Duration.days(1)),
                    [`p${i}`]: run('RunsPartial', p.id, Duration.days(1)),
                    [`f${i}`]: run('RunsFailed', p.id, Duration.days(1)),
                  },
                  label: p.id,
                  period: Duration.days(1),
                }),
            ),
            leftYAxis: { min: 0, max: 100 },
            width: 12,
          }),
          new GraphWidget({
            title: 'Runs by status',
            left: config.pipelines.flatMap((p) =>
              RUN_OUTCOME_METRICS.map((m) =>
                run(m, p.id).with({ label: `${p.id} ${m.replace(/^Runs/, '').toLowerCase()}` }),
              ),
            ),
            stacked: true,
            width: 12,
          }),
        ],
        [
          new GraphWidget({
            title: 'Step duration (p90, ms)',
            left: config.pipelines.flatMap((p) =>
              STEP_NAMES.map((step) =>
                run('StepDuration', p.id, Duration.hours(1), {
                  dimensions: { step },
                  statistic: 'p90',
                  label: `${p.id} ${step}`,
                }),
              ),
            ),
            width: 12,
          }),
          new GraphWidget({
            title: 'API requests per run hour',
            left: config.pipelines.flatMap((p) =>
              ['discord', 'gemini', p.publisher.kind === 'none' ? undefined : p.publisher.kind]
                .filter((api): api is string => api !== undefined)
                .map((api) =>
                  run('ApiRequests', p.id, Duration.hours(1), {
                    dimensions: { api },
                    label: `${p.id} ${api}`,
                  }),
                ),
            ),
            width: 12,
          }),
        ],
        [
          new GraphWidget({
            title: 'Quota used per service (%, highest in 5 minutes; 100 = exhausted)',
            left: config.pipelines.flatMap((p) =>
              quotaApisOf(p).flatMap((api) =>
                QUOTAS[api].map((quota) =>
                  run('QuotaUsedPercent', p.id, Duration.minutes(5), {
                    dimensions: { api, quota },
                    statistic: 'Maximum',
                    label: `${p.id} ${api} ${quota}`,
                  }),
                ),
              ),
            ),
            leftYAxis: { min: 0, max: 100 },
            width: 24,
          }),
        ],
        [
          new GraphWidget({
            title: 'Posts',
            left: config.pipelines.flatMap((p) =>
              ['PostsCollected', 'RowsAppended', 'PostsAnalysed', 'RowsArchived', 'MalformedMessages'].map(
                (m) => run(m, p.id),
              ),
            ),
            width: 12,
          }),
          new GraphWidget({
            title: 'Destinations delivered',
            left: config.pipelines.map((p) => run('DestinationsDelivered', p.id).with({ label: p.id })),
            width: 12,
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
            title: 'Function errors',
            left: [
              ...Object.entries(props.functions).map(([state, fn]) => fn.metricErrors({ label: state })),
              props.closer.metricErrors({ label: 'CloseAbandonedRun' }),
            ],
            width: 12,
          }),
        ],
      ],
    });
  }
}

/** The APIs whose quota use a pipeline's steps report (shared/ports.ts QUOTAS): Typefully's is not read. */
function quotaApisOf(pipeline: DigestConfig['pipelines'][number]): QuotaApi[] {
  return ['discord', 'sheets', 'gemini', ...(pipeline.publisher.kind === 'x' ? (['x'] as const) : [])];
}

/**
 * The next runs of every enabled schedule, computed when the template is made by the evaluator the
 * daemon and `schedules next` use: a dashboard cannot compute them itself, so this is as of the last deploy.
 */
export function nextRunsMarkdown(config: DigestConfig, now: Date, count = 8): string {
  const from = now.getTime();
  const runs = config.pipelines
    .flatMap((pipeline) =>
      pipeline.schedules
        .filter((s) => s.enabled)
        .flatMap((schedule) =>
          fireTimesBetween(fireRuleOfSchedule(schedule, from), from, from + 31 * DAY, schedule.dst)
            .filter((t) => t.dst !== 'skipped')
            .slice(0, count)
            .map((t) => ({ pipeline: pipeline.id, schedule, time: t })),
        ),
    )
    .sort((a, b) => a.time.at.getTime() - b.time.at.getTime())
    .slice(0, count);
  const lines = runs.map(
    (r) =>
      `| ${r.pipeline}/${r.schedule.name} | ${r.time.at.toISOString()} | ${r.time.local} ${r.schedule.timeZone} |`,
  );
  return [
    `## Next scheduled runs\nas of the deploy at ${now.toISOString()}`,
    '',
    '| schedule | UTC | local |',
    '|---|---|---|',
    ...(lines.length ? lines : ['| none in the next 31 days | | |']),
  ].join('\n');
}
