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
  ['deliver', 'destinationsDelivered', 'DestinationsDelivered'],
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

/** Scheduled runs that did not happen, by pipeline (the watchdog and the dead-letter queue); alarmed on. */
export function recordMissedRuns(pipelineId: string, count: number): void {
  metrics.addDimension('pipelineId', pipelineId);
  metrics.addMetric('RunsMissed', MetricUnit.Count, count);
  metrics.publishStoredMetrics();
}
