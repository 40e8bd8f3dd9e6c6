/**
 * Gemini's daily quota running out midway through a run, on the real state
 * machine with the real handlers and clients against the sandboxes: the run
 * ends partial naming the quota and its reset at midnight Pacific, nothing is
 * published or archived, and a resume after the reset analyses only the rest,
 * writes the draft, publishes once and archives every row once.
 */
import { describe, expect, it } from 'vitest';
import { assertNothingLostOrDoubled, pipeline, runOnce, withEnvironment } from '../faults/harness';

describe('a Gemini daily quota reached midway', () => {
  it('ends the run partial; a resume after the reset finishes it', { timeout: 120_000 }, async () => {
    await withEnvironment(async (env) => {
      // Prepare: one more request today, and at least two batches to analyse.
      const gemini = env.sandboxes.gemini;
      if (!gemini) throw new Error('no Gemini sandbox');
      gemini.exhaustQuota(pipeline.gemini.model, 'day', 1);

      // Act
      const first = await runOnce(env);
      const requestsBefore = gemini.requests.length;
      gemini.resetQuotas();
      const resumed = await runOnce(env, { resume: true });

      // Assess
      const analyze = first.report?.steps.analyze;
      expect(first.report?.status).toBe('partial');
      expect(analyze?.status).toBe('partial');
      expect(analyze?.counts.geminiRequests).toBe(1);
      expect(analyze?.counts.postsAnalysed).toBeGreaterThan(0);
      expect(analyze?.counts.postsRemaining).toBeGreaterThan(0);
      expect(analyze?.notes?.reason).toContain('GenerateRequestsPerDayPerProjectPerModel-FreeTier');
      expect(analyze?.notes?.resetAt).toMatch(/T0[78]:00:00\.000Z$/); // midnight in Los Angeles
      // …where the run is resumed by itself (by the daemon, locally).
      expect(first.report?.autoResume).toMatchObject({
        attempt: 1,
        at: analyze?.notes?.resetAt,
        state: 'scheduled',
      });
      expect(first.report?.steps.publish?.status).toBe('skipped');
      expect(first.report?.steps.archive?.status).toBe('skipped');
      expect(resumed.report?.status).toBe('succeeded');
      const remaining = analyze?.counts.postsRemaining ?? 0;
      expect(resumed.report?.steps.analyze?.counts.postsAnalysed).toBe(remaining);
      // Only the rest, then the draft.
      expect(gemini.requests.length - requestsBefore).toBe(
        Math.ceil(remaining / pipeline.gemini.batchSize) + 1,
      );
      expect(env.sandboxes.x?.tweets().length).toBe(resumed.report?.steps.publish?.counts.partsPublished);
      await assertNothingLostOrDoubled(env);
    }, 750);
  });
});
