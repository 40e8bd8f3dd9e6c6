/**
 * Analysis under Gemini's quotas: a quota that stops the step midway keeps the
 * batches already analysed, ends the step partial with the quota and its reset
 * in the reason, and a resume of the run analyses only what is left, then
 * writes the draft; publish and archive never act on a partial analysis.
 */
import { describe, expect, it } from 'vitest';
import { MAIN_TAB_HEADERS } from '../../shared/domain/post';
import { quotaExhausted, RateLimitedError } from '../../shared/errors';
import { analyzeSheetPosts } from '../../shared/pipeline/analyze';
import { FakeChannel, silentLog, testPipeline } from '../support/fakes';
import { runPipeline, runRef, World } from '../support/harness';
import { linkMessages } from '../support/messages';

const T = '2026-11-24T09:00:00.000Z';
const RESET = new Date(Date.now() + 12 * 3_600_000);
const dailyQuota = () =>
  quotaExhausted(
    'gemini',
    'quota GenerateRequestsPerDayPerProjectPerModel-FreeTier (model gemini-2.5-flash)',
    RESET,
  );

/** A world whose analyzer answers `allowed` batches, then throws `error` until `lift()`. */
function quotaWorld(count: number, allowed: number, error: () => Error = dailyQuota) {
  const w = new World(testPipeline(), new FakeChannel(linkMessages(T, count)));
  const original = w.analyzer.analyzePosts.bind(w.analyzer);
  let blocked = true;
  let calls = 0;
  w.analyzer.analyzePosts = async (posts) => {
    calls += 1;
    if (blocked && calls > allowed) throw error();
    return original(posts);
  };
  return {
    w,
    lift: () => {
      blocked = false;
    },
  };
}

describe('analysis stopped by a quota', () => {
  it('keeps the analysed batches and ends partial, naming the quota and its reset', async () => {
    // Prepare
    const { w } = quotaWorld(250, 1);

    // Act
    const report = await runPipeline(w, runRef('r1', T));

    // Assess
    const analyze = report.steps.analyze;
    expect(analyze?.status).toBe('partial');
    expect(analyze?.counts).toMatchObject({ postsAnalysed: 100, postsRemaining: 150, geminiRequests: 1 });
    expect(analyze?.notes?.reason).toContain('GenerateRequestsPerDayPerProjectPerModel-FreeTier');
    expect(analyze?.notes?.reason).toContain(RESET.toISOString());
    expect(analyze?.notes?.resetAt).toBe(RESET.toISOString());
    expect(w.sheet.records('Posts').filter((r) => r.ai_processed === 'yes')).toHaveLength(100);
    expect(w.analyzer.drafts).toBe(0);
    expect(report.status).toBe('partial');
    expect(report.steps.publish?.status).toBe('skipped');
    expect(report.steps.archive?.status).toBe('skipped');
    expect(w.publisher.posts).toHaveLength(0);
  });

  it('a resume analyses only what is left, then writes the draft and publishes', async () => {
    // Prepare
    const { w, lift } = quotaWorld(250, 1);
    await runPipeline(w, runRef('r1', T));
    lift();
    w.analyzer.batches.length = 0;

    // Act
    const resumed = await runPipeline(w, runRef('r1', T));

    // Assess
    expect(w.analyzer.batches).toEqual([100, 50]);
    expect(w.analyzer.drafts).toBe(1);
    expect(resumed.steps.analyze?.status).toBe('succeeded');
    expect(resumed.steps.analyze?.counts).toMatchObject({ postsAnalysed: 150, geminiRequests: 3 });
    expect(resumed.status).toBe('succeeded');
    expect(w.sheet.records('Archive')).toHaveLength(250);
  });

  it('a quota reached at the draft leaves every analysis kept and the draft for the resume', async () => {
    // Prepare
    const { w, lift } = quotaWorld(50, 1);
    const writeDraft = w.analyzer.writeDraft.bind(w.analyzer);
    let blocked = true;
    w.analyzer.writeDraft = async (analyses, settings) => {
      if (blocked) throw dailyQuota();
      return writeDraft(analyses, settings);
    };

    // Act
    const first = await runPipeline(w, runRef('r1', T));
    blocked = false;
    lift();
    const resumed = await runPipeline(w, runRef('r1', T));

    // Assess
    expect(first.steps.analyze?.status).toBe('partial');
    expect(first.steps.analyze?.counts).toMatchObject({ postsAnalysed: 50, postsRemaining: 0 });
    expect(first.steps.analyze?.notes?.reason).toContain('draft is not written');
    expect(w.analyzer.batches).toEqual([50]);
    expect(resumed.steps.analyze?.status).toBe('succeeded');
    expect(resumed.status).toBe('succeeded');
  });

  it('a short per-minute wait is the state machine’s to retry, not a partial step', async () => {
    // Prepare
    const { w } = quotaWorld(150, 1, () => new RateLimitedError('gemini answered 429: per minute', 30_000));

    // Act
    const report = await runPipeline(w, runRef('r1', T));

    // Assess
    expect(report.steps.analyze?.status).toBe('failed');
    expect(report.steps.analyze?.error?.name).toBe('RateLimitedError');
    expect(w.sheet.records('Posts').filter((r) => r.ai_processed === 'yes')).toHaveLength(100);
  });
});

describe('analysis longer than one invocation', () => {
  it('lets go of a batch that would outlast the invocation, keeps what is done and asks to be run again, then finishes', async () => {
    // Prepare: 250 unanalysed rows, batches of 100, and time for two batches in the first invocation.
    const w = new World(testPipeline(), new FakeChannel([]));
    const headers = await w.sheet.ensureTab('Posts', MAIN_TAB_HEADERS);
    await w.sheet.appendRows(
      'Posts',
      headers,
      Array.from({ length: 250 }, (_, i) => ({
        message_id: String(1_300_000_000_000_000_000n + BigInt(i)),
        content: `post ${i}`,
        post_link: `https://x.com/p${i}/status/${9000 + i}`,
        author: 'member',
      })),
    );
    let checks = 0;
    const deps = (remainingMs: () => number) => ({
      pipeline: w.pipeline,
      sheet: w.sheet,
      analyzer: w.analyzer,
      store: w.store,
      log: silentLog,
      remainingMs,
    });
    const input = { run: runRef('r1', T), steps: {} };

    // The third batch answers far too late for this invocation's time (0.2 s left after the reserve).
    const analyzePosts = w.analyzer.analyzePosts.bind(w.analyzer);
    w.analyzer.analyzePosts = async (posts) => {
      checks += 1;
      if (checks === 3) await new Promise((resolve) => setTimeout(resolve, 5_000));
      return analyzePosts(posts);
    };

    // Act
    const first = await analyzeSheetPosts(
      deps(() => 90_000 + 200),
      input,
    );
    const second = await analyzeSheetPosts(
      deps(() => 300_000),
      input,
    );

    // Assess
    expect(first).toMatchObject({
      status: 'partial',
      waitSeconds: 1,
      counts: { postsAnalysed: 200, postsRemaining: 50 },
    });
    expect(first.notes?.reason).toContain('50 posts left');
    expect(second).toMatchObject({ status: 'succeeded', counts: { postsAnalysed: 50 } });
    expect(second.waitSeconds).toBeUndefined();
    expect(w.sheet.records('Posts').every((r) => r.ai_processed === 'yes')).toBe(true);
  });
});
