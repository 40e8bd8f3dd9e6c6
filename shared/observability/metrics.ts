import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { RunReport } from '../pipeline/finish-run';
import { type QuotaObserver, type QuotaUse, STEP_NAMES } from '../ports';

/**
 * EMF metrics the dashboard graphs and the alarms watch, by pipeline: one data point per run outcome
 * (Runs<Status>, skipped and duplicate runs included), per step duration, per API's requests.
 * Powertools adds `service` to every metric (aws-powertools/powertools-lambda-typescript
 * docs/features/metrics.md, "Adding dimensions"); a metric with other dimensions goes out as its own EMF
 * document, since one document shares its dimensions and timestamp (Metrics.singleMetric() in
 * @aws-lambda-powertools/metrics).
 */
const metrics = new Metrics({ namespace: 'DiscordDigest', serviceName: 'discord-digest' });

export const METRICS_NAMESPACE = 'DiscordDigest';
/** The run statuses that get a `Runs<Status>` metric; `RunsMissed` is the watchdog's. */
export const RUN_OUTCOME_METRICS = [
  'RunsSucceeded',
  'RunsPartial',
  'RunsFailed',
  'RunsSkipped',
  'RunsDuplicate',
  'RunsMissed',
] as const;

const COUNTS: readonly [step: keyof RunReport['steps'], count: string, metric: string][] = [
  ['collect', 'postsKept', 'PostsCollected'],
  ['collect', 'malformed', 'MalformedMessages'],
  ['upload', 'rowsAppended', 'RowsAppended'],
  ['analyze', 'postsAnalysed', 'PostsAnalysed'],
  ['publish', 'partsPublished', 'PartsPublished'],
  ['deliver', 'destinationsDelivered', 'DestinationsDelivered'],
  ['archive', 'rowsArchived', 'RowsArchived'],
];

/** Requests each step counts, by API (the `api` dimension: `service` is Powertools' own). */
const API_REQUESTS: readonly [
  step: keyof RunReport['steps'],
  count: string,
  api: (r: RunReport) => string,
][] = [
  ['collect', 'discordRequests', () => 'discord'],
  ['analyze', 'geminiRequests', () => 'gemini'],
  // One request per part published; `via` is the publisher (x or typefully).
  ['publish', 'partsPublished', (r) => r.steps.publish?.notes?.via ?? 'publisher'],
];

export const runOutcomeMetric = (status: string) => `Runs${status[0]?.toUpperCase()}${status.slice(1)}`;

export function recordRunMetrics(report: RunReport): void {
  metrics.addDimension('pipelineId', report.pipelineId);
  metrics.addMetric(runOutcomeMetric(report.status), MetricUnit.Count, 1);
  for (const [step, count, metric] of COUNTS) {
    const value = report.steps[step]?.counts[count];
    if (value !== undefined) metrics.addMetric(metric, MetricUnit.Count, value);
  }
  metrics.publishStoredMetrics();
  for (const step of STEP_NAMES) {
    const durationMs = report.steps[step]?.durationMs;
    if (durationMs === undefined) continue;
    const single = metrics.singleMetric();
    single.addDimensions({ pipelineId: report.pipelineId, step });
    single.addMetric('StepDuration', MetricUnit.Milliseconds, durationMs);
  }
  for (const [step, count, api] of API_REQUESTS) {
    const value = report.steps[step]?.counts[count];
    if (value === undefined) continue;
    const single = metrics.singleMetric();
    single.addDimensions({ pipelineId: report.pipelineId, api: api(report) });
    single.addMetric('ApiRequests', MetricUnit.Count, value);
  }
}

/** A run BeginRun recorded and did not start (skipped: paused, overlapping; duplicate): FinishRun never sees it. */
export function recordNotRunMetric(pipelineId: string, status: 'skipped' | 'duplicate'): void {
  metrics.addDimension('pipelineId', pipelineId);
  metrics.addMetric(runOutcomeMetric(status), MetricUnit.Count, 1);
  metrics.publishStoredMetrics();
}

/** Scheduled runs that did not happen, by pipeline (the watchdog and the dead-letter queue); alarmed on. */
export function recordMissedRuns(pipelineId: string, count: number): void {
  metrics.addDimension('pipelineId', pipelineId);
  metrics.addMetric('RunsMissed', MetricUnit.Count, count);
  metrics.publishStoredMetrics();
}

/**
 * How much of a service quota is used, in percent, by pipeline, API and quota, as an adapter learned it
 * (shared/ports.ts QUOTAS); an exhausted quota (a 429 naming it) is 100. Graphed as its maximum.
 */
export function recordQuotaUse(pipelineId: string, use: QuotaUse): void {
  if (!(use.limit > 0) || !Number.isFinite(use.used)) return;
  const single = metrics.singleMetric();
  single.addDimensions({ pipelineId, api: use.api, quota: use.quota });
  const percent = Math.min(100, Math.max(0, (100 * use.used) / use.limit));
  single.addMetric('QuotaUsedPercent', MetricUnit.Percent, Math.round(percent * 10) / 10);
}

/** The observer the runtime hands each adapter of a pipeline's step. */
export const quotaObserverFor =
  (pipelineId: string): QuotaObserver =>
  (use) =>
    recordQuotaUse(pipelineId, use);
