import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { RunReport } from '../pipeline/finish-run';

/** EMF metrics the dashboard graphs: one data point per finished run, by pipeline. */
const metrics = new Metrics({ namespace: 'DiscordDigest', serviceName: 'discord-digest' });

const COUNTS: readonly [step: keyof RunReport['steps'], count: string, metric: string][] = [
  ['collect', 'postsKept', 'PostsCollected'],
  ['collect', 'malformed', 'MalformedMessages'],
  ['upload', 'rowsAppended', 'RowsAppended'],
  ['analyze', 'postsAnalysed', 'PostsAnalysed'],
  ['publish', 'partsPublished', 'PartsPublished'],
  ['archive', 'rowsArchived', 'RowsArchived'],
];

export function recordRunMetrics(report: RunReport): void {
  metrics.addDimension('pipelineId', report.pipelineId);
  metrics.addMetric(`Runs${report.status[0]?.toUpperCase()}${report.status.slice(1)}`, MetricUnit.Count, 1);
  for (const [step, count, metric] of COUNTS) {
    const value = report.steps[step]?.counts[count];
    if (value !== undefined) metrics.addMetric(metric, MetricUnit.Count, value);
  }
  metrics.publishStoredMetrics();
}
