import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/app';
import { nextRunsMarkdown } from '../../infra/dashboard';
import { loadConfigFile } from '../../shared/config/load';

const config = loadConfigFile('digest.config.json');
let template: Template;

beforeAll(() => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  template = Template.fromStack(buildApp(config, app).pipeline);
});

/** The dashboard's body, its tokens left as they are: the widgets' text and metrics are literal. */
function dashboardBody(): string {
  const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  return JSON.stringify(dashboard?.Properties?.DashboardBody);
}

describe('alarms', () => {
  it('alarms on failed, partial and missed runs of each pipeline, each to the alerts topic', () => {
    // Assess
    for (const metric of ['RunsFailed', 'RunsPartial', 'RunsMissed']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'DiscordDigest',
        MetricName: metric,
        Dimensions: Match.arrayWith([{ Name: 'pipelineId', Value: 'demo' }]),
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: Match.stringLikeRegexp('^ObservabilityAlerts') }],
      });
    }
  });

  it("alarms on the closer's errors, dead letters and failed executions", () => {
    // Assess
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [
        { Name: 'FunctionName', Value: { Ref: Match.stringLikeRegexp('^CloseAbandonedRunFunction') } },
      ],
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^ObservabilityAlerts') }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ScheduleDeadLetters'), 'QueueName'] },
        },
      ],
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^ObservabilityAlerts') }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ExecutionsFailed' });
    // 3 per pipeline, the closer, the dead letters, the executions; all to one topic.
    template.resourceCountIs('AWS::CloudWatch::Alarm', 3 * config.pipelines.length + 3);
    template.resourceCountIs('AWS::SNS::Topic', 1);
  });
});

describe('dashboard', () => {
  it('keeps its logical id and name, so a deploy updates it in place', () => {
    // Assess
    expect(Object.keys(template.findResources('AWS::CloudWatch::Dashboard'))).toEqual([
      expect.stringMatching(/^Dashboard[0-9A-F]{8}$/),
    ]);
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'discord-digest' });
  });

  it('graphs the success rate, runs by status, step durations, API requests and deliveries per pipeline', () => {
    // Act
    const body = dashboardBody();

    // Assess
    expect(body).toContain('100 * FILL(s0, 0) / (FILL(s0, 0) + FILL(p0, 0) + FILL(f0, 0))');
    for (const status of [
      'RunsSucceeded',
      'RunsPartial',
      'RunsFailed',
      'RunsSkipped',
      'RunsDuplicate',
      'RunsMissed',
    ]) {
      expect(body).toContain(`\\"${status}\\"`);
    }
    expect(body).toMatch(
      /StepDuration\\",\\"pipelineId\\",\\"demo\\",\\"service\\",\\"discord-digest\\",\\"step\\",\\"review/,
    );
    for (const api of ['discord', 'gemini', 'x']) {
      // The dimensions in CDK's order: by name.
      expect(body).toContain(`\\"ApiRequests\\",\\"api\\",\\"${api}\\",\\"pipelineId\\",\\"demo\\"`);
    }
    expect(body).toContain('DestinationsDelivered');
    expect(body).toContain('Next scheduled runs');
  });
});

/** The dashboard's widgets as CloudWatch reads them, each CDK token (an ARN, a region) as a placeholder. */
function dashboardWidgets(): { properties: { title?: string; metrics?: unknown[][] } }[] {
  const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  const body = dashboard?.Properties?.DashboardBody as string | { 'Fn::Join': [string, unknown[]] };
  const text =
    typeof body === 'string'
      ? body
      : body['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : 'TOKEN')).join('');
  return (JSON.parse(text) as { widgets: ReturnType<typeof dashboardWidgets> }).widgets;
}

describe('quota use', () => {
  it('graphs the highest quota use per service and quota of each pipeline, as the adapters report it', () => {
    // Act
    const widget = dashboardWidgets().find((w) => w.properties.title?.startsWith('Quota used per service'));

    // Assess: [namespace, name, ...dimension name/value pairs, options], the dimensions by name
    const lines = (widget?.properties.metrics ?? []).map((line) => ({
      name: line[1],
      dimensions: Object.fromEntries(
        line.slice(2, -1).flatMap((v, i, all) => (i % 2 === 0 ? [[v, all[i + 1]]] : [])),
      ),
      stat: (line.at(-1) as { stat?: string }).stat,
    }));
    const quotas = lines.map((l) => `${l.dimensions.api} ${l.dimensions.quota}`);
    expect(quotas).toEqual([
      'discord route-bucket',
      'sheets reads-per-minute',
      'sheets writes-per-minute',
      'gemini requests-per-minute',
      'gemini requests-per-day',
      'gemini input-tokens-per-minute',
      'x 15-minute-window',
      'x user-24-hour',
      'x app-24-hour',
    ]);
    for (const line of lines) {
      expect(line).toMatchObject({
        name: 'QuotaUsedPercent',
        dimensions: { pipelineId: 'demo', service: 'discord-digest' },
        stat: 'Maximum',
      });
    }
  });
});

describe('next scheduled runs', () => {
  it('lists the soonest runs of every enabled schedule, in UTC and local time', () => {
    // Act
    const text = nextRunsMarkdown(config, new Date('2026-11-24T07:30:00.000Z'), 3);

    // Assess
    const rows = text.split('\n').filter((l) => l.startsWith('| demo/'));
    expect(rows).toEqual([
      expect.stringMatching(
        /^\| demo\/morning \| 2026-11-24T08:00:00\.000Z \| 2026-11-24 09:00.* Europe\/Berlin \|$/,
      ),
      expect.stringMatching(
        /^\| demo\/evening \| 2026-11-24T23:00:00\.000Z \| 2026-11-24 18:00.* America\/New_York \|$/,
      ),
      expect.stringMatching(/^\| demo\/morning \| 2026-11-25T08:00:00\.000Z \|/),
    ]);
  });
});
