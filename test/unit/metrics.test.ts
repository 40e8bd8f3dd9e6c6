import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RunReport } from '../../shared/pipeline/finish-run';

type MetricsModule = typeof import('../../shared/observability/metrics');
let recordRunMetrics: MetricsModule['recordRunMetrics'];
let recordNotRunMetric: MetricsModule['recordNotRunMetric'];

/** The EMF documents written to stdout, as CloudWatch Logs turns them into metrics. */
let documents: Record<string, unknown>[];
beforeEach(async () => {
  documents = [];
  // The suite disables metrics (vitest.config.ts); Powertools reads that when the module builds its instance.
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
  vi.resetModules();
  ({ recordRunMetrics, recordNotRunMetric } = await import('../../shared/observability/metrics'));
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
