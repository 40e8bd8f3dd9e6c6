import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startXSandbox } from '../../infra/local/sandbox/x-server';
import { createXPublisher } from '../../shared/adapters/x';
import type { RunReport } from '../../shared/pipeline/finish-run';

type MetricsModule = typeof import('../../shared/observability/metrics');
let recordRunMetrics: MetricsModule['recordRunMetrics'];
let recordNotRunMetric: MetricsModule['recordNotRunMetric'];
let recordQuotaUse: MetricsModule['recordQuotaUse'];
let quotaObserverFor: MetricsModule['quotaObserverFor'];

/** The EMF documents written to stdout, as CloudWatch Logs turns them into metrics. */
let documents: Record<string, unknown>[];
beforeEach(async () => {
  documents = [];
  // The suite disables metrics (vitest.config.ts); Powertools reads that when the module builds its instance.
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
  vi.resetModules();
  ({ recordRunMetrics, recordNotRunMetric, recordQuotaUse, quotaObserverFor } = await import(
    '../../shared/observability/metrics'
  ));
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    for (const line of String(chunk).split('\n').filter(Boolean)) {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      if (parsed._aws) documents.push(parsed);
    }
    return true;
  });
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

const step = (durationMs: number, counts: Record<string, number>, notes?: Record<string, string>) => ({
  status: 'succeeded' as const,
  endedAt: '2026-11-24T08:01:00.000Z',
  durationMs,
  counts,
  ...(notes ? { notes } : {}),
});

describe('run metrics', () => {
  it('sends the outcome, each step duration and each API request count of a finished run', () => {
    // Prepare
    const report: RunReport = {
      pipelineId: 'demo',
      runId: 'r1',
      status: 'partial',
      steps: {
        collect: step(1200, { postsKept: 57, discordRequests: 3 }),
        analyze: step(8000, { postsAnalysed: 57, geminiRequests: 2 }),
        publish: step(900, { partsPublished: 4 }, { via: 'x' }),
      },
    };

    // Act
    recordRunMetrics(report);

    // Assess
    const outcome = documents.find((d) => 'RunsPartial' in d);
    expect(outcome).toMatchObject({ pipelineId: 'demo', RunsPartial: 1, PostsCollected: 57 });
    const durations = documents.filter((d) => 'StepDuration' in d);
    expect(durations.map((d) => [d.step, d.StepDuration])).toEqual([
      ['collect', 1200],
      ['analyze', 8000],
      ['publish', 900],
    ]);
    expect(durations[0]).toMatchObject({ pipelineId: 'demo', service: 'discord-digest' });
    const requests = documents.filter((d) => 'ApiRequests' in d);
    expect(requests.map((d) => [d.api, d.ApiRequests])).toEqual([
      ['discord', 3],
      ['gemini', 2],
      ['x', 4],
    ]);
  });

  it('sends RunsSkipped and RunsDuplicate for runs BeginRun recorded without running', () => {
    // Act
    recordNotRunMetric('demo', 'skipped');
    recordNotRunMetric('demo', 'duplicate');

    // Assess
    expect(
      documents.map((d) => ('RunsSkipped' in d ? 'skipped' : 'RunsDuplicate' in d ? 'duplicate' : '?')),
    ).toEqual(['skipped', 'duplicate']);
    expect(documents[0]).toMatchObject({ pipelineId: 'demo', service: 'discord-digest' });
  });
});

describe('quota use', () => {
  it('sends the percent used by pipeline, API and quota, capped at 100, and nothing for an unknown limit', () => {
    // Act
    recordQuotaUse('demo', { api: 'discord', quota: 'route-bucket', used: 2, limit: 5 });
    recordQuotaUse('demo', { api: 'sheets', quota: 'writes-per-minute', used: 61, limit: 60 });
    recordQuotaUse('demo', { api: 'x', quota: 'user-24-hour', used: 3, limit: 0 });

    // Assess
    expect(documents).toHaveLength(2);
    expect(documents[0]).toMatchObject({
      pipelineId: 'demo',
      api: 'discord',
      quota: 'route-bucket',
      service: 'discord-digest',
      QuotaUsedPercent: 40,
    });
    expect(documents[1]).toMatchObject({ api: 'sheets', quota: 'writes-per-minute', QuotaUsedPercent: 100 });
    const emf = documents[0]?._aws as { CloudWatchMetrics: { Metrics: { Unit: string }[] }[] } | undefined;
    expect(emf?.CloudWatchMetrics[0]?.Metrics[0]?.Unit).toBe('Percent');
  });

  it("sends what X's answer to a post says of its windows (the X sandbox's headers)", async () => {
    // Prepare
    const x = await startXSandbox({ postsPer15Minutes: 10, postsPer24Hours: 4 });
    const publisher = createXPublisher({
      appKey: 'k',
      appSecret: 's',
      accessToken: 't',
      accessSecret: 'ts',
      baseUrl: x.url,
      onQuota: quotaObserverFor('demo'),
    });

    // Act
    try {
      await publisher.publish({ pipelineId: 'demo', runId: 'r1', index: 0, parts: ['gm'] });
    } finally {
      await x.close();
    }

    // Assess
    const used = Object.fromEntries(documents.map((d) => [d.quota, d.QuotaUsedPercent]));
    expect(used).toEqual({ '15-minute-window': 10, 'user-24-hour': 25 });
    expect(documents[0]).toMatchObject({ pipelineId: 'demo', api: 'x' });
  });
});
