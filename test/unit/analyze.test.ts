/**
 * Analysis under Gemini's quotas: a quota that stops the step midway keeps the
 * batches already analysed, ends the step partial with the quota and its reset
 * in the reason, and a resume of the run analyses only what is left, then
 * writes the draft; publish and archive never act on a partial analysis.
 */

import { describe, expect, it } from 'vitest';
import { batchesPerItem } from '../../shared/domain/analysis-fan-out';
import { nextPacificMidnight } from '../../shared/domain/pacific-day';
import { MAIN_TAB_HEADERS } from '../../shared/domain/post';
import { quotaExhausted, RateLimitedError, TransientError, WaitForRateLimitError } from '../../shared/errors';
import { analyzeSheetPosts } from '../../shared/pipeline/analyze';
import { analyzeRunBatch, analyzeRunItem } from '../../shared/pipeline/analyze-batch';
import { batchInputKeyOf, batchResultKeyOf, planRunAnalysis } from '../../shared/pipeline/plan-analysis';
import { FakeChannel, silentLog, testPipeline } from '../support/fakes';
import { runPipeline, runRef, World } from '../support/harness';
import { linkMessages } from '../support/messages';

const T = '2026-11-24T09:00:00.000Z';
const LATER = '2026-11-24T10:00:00.000Z';
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

  it('asks nothing more of Gemini once a batch found the daily quota spent, until the reset', async () => {
    // Prepare: the daily quota resets at midnight Pacific, as Gemini's does.
    const reset = nextPacificMidnight(Date.now());
    const daily = () =>
      quotaExhausted('gemini', 'quota GenerateRequestsPerDayPerProjectPerModel-FreeTier', reset);
    const w = new World(testPipeline(), new FakeChannel(linkMessages(T, 450)));
    const original = w.analyzer.analyzePosts.bind(w.analyzer);
    let calls = 0;
    w.analyzer.analyzePosts = async (posts) => {
      calls += 1;
      if (calls > 1) throw daily();
      return original(posts);
    };

    // Act
    const report = await runPipeline(w, runRef('r1', T));

    // Assess: the first item's batches went at once (one answered, the others refused); the second item's
    // batch waits without a request.
    const perItem = batchesPerItem(w.pipeline.gemini);
    expect(perItem).toBe(4);
    expect(calls).toBe(perItem);
    expect(report.steps.analyze?.status).toBe('partial');
    expect(report.steps.analyze?.counts).toMatchObject({ postsAnalysed: 100, postsRemaining: 350 });
    expect(report.steps.analyze?.notes?.resetAt).toBe(reset.toISOString());
  });

  it('a resume analyses only what is left, then writes the draft and publishes', async () => {
    // Prepare
    const { w, lift } = quotaWorld(250, 1);
    await runPipeline(w, runRef('r1', T));
    lift();
    w.analyzer.batches.length = 0;

    // Act
    // A resume is a new execution: BeginRun gives it a start of its own.
    const resumed = await runPipeline(w, runRef('r1', T, { startedAt: LATER }));

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

  it('a per-minute wait longer than the Lambda should take is answered for the iterator’s Wait state', async () => {
    // Prepare: the run started now, so a 30 s wait fits its wait budget.
    const w = await sheetWorld();
    w.analyzer.failWith = new RateLimitedError('gemini answered 429: per minute', 30_000);
    const run = runRef('r1', T, { startedAt: new Date().toISOString() });
    const plan = await planRunAnalysis(
      { pipeline: w.pipeline, sheet: w.sheet, store: w.store, log: silentLog },
      { run, steps: {} },
    );

    // Act
    const outcome = await analyzeRunBatch(batchDeps(w), { run, round: 1, batch: 1 });

    // Assess
    expect(plan.items.flat()).toEqual([1, 2, 3]);
    expect(outcome).toMatchObject({ batch: 1, status: 'waiting', waitSeconds: 30 });
  });
});

const batchDeps = (w: World) => ({
  pipeline: w.pipeline,
  analyzer: w.analyzer,
  store: w.store,
  log: silentLog,
});

/** 250 unanalysed rows in the main tab: three batches of 100, 100 and 50. */
async function sheetWorld() {
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
  return w;
}

describe('the analysis fan-out', () => {
  it('an item sends its batches at once; a failed batch leaves the others stored and alone is asked again', async () => {
    // Prepare: answers are held, so batches sent together overlap; the second batch fails once.
    const w = await sheetWorld();
    const run = runRef('r1', T);
    await planRunAnalysis(
      { pipeline: w.pipeline, sheet: w.sheet, store: w.store, log: silentLog },
      {
        run,
        steps: {},
      },
    );
    const original = w.analyzer.analyzePosts.bind(w.analyzer);
    let inFlight = 0;
    let peak = 0;
    let failures = 1;
    w.analyzer.analyzePosts = async (posts) => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 20));
      inFlight -= 1;
      if (posts.length === 50 && failures-- > 0) throw new TransientError('gemini answered 503');
      return original(posts);
    };

    // Act
    const first = analyzeRunItem(batchDeps(w), { run, round: 1, batches: [1, 2, 3] });
    await expect(first).rejects.toThrow(TransientError);
    const stored = [1, 2, 3].map((b) => w.store.objects.has(batchResultKeyOf('demo', 'r1', 1, b)));
    const again = await analyzeRunItem(batchDeps(w), { run, round: 1, batches: [1, 2, 3] });

    // Assess
    expect(peak).toBe(3);
    expect(stored).toEqual([true, true, false]);
    expect(again.map((o) => o.status)).toEqual(['reused', 'reused', 'done']);
    expect(w.analyzer.batches).toEqual([100, 100, 50]);
  });

  it('an item with a batch stopped by a rate limit throws for the state machine to wait, its others stored', async () => {
    // Prepare: the run started now, so a 30 s wait fits its wait budget.
    const w = await sheetWorld();
    const run = runRef('r1', T, { startedAt: new Date().toISOString() });
    await planRunAnalysis(
      { pipeline: w.pipeline, sheet: w.sheet, store: w.store, log: silentLog },
      {
        run,
        steps: {},
      },
    );
    const original = w.analyzer.analyzePosts.bind(w.analyzer);
    w.analyzer.analyzePosts = async (posts) => {
      if (posts.length === 50) throw new RateLimitedError('gemini answered 429: per minute', 30_000);
      return original(posts);
    };
    const before = Date.now();

    // Act
    const item = analyzeRunItem(batchDeps(w), { run, round: 1, batches: [1, 2, 3] });

    // Assess: the time to run it again is the limit's, in the Wait state's whole-second format.
    const error = await item.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WaitForRateLimitError);
    const resumeAt = (error as WaitForRateLimitError).resumeAt.getTime();
    expect(resumeAt - before).toBeGreaterThanOrEqual(30_000);
    expect(resumeAt - before).toBeLessThan(35_000);
    expect((error as Error).message).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect([1, 2, 3].map((b) => w.store.objects.has(batchResultKeyOf('demo', 'r1', 1, b)))).toEqual([
      true,
      true,
      false,
    ]);
  });

  it('stores each batch once: a retried batch is not asked of Gemini again, a failed one alone is', async () => {
    // Prepare
    const w = await sheetWorld();
    const run = runRef('r1', T);
    const plan = await planRunAnalysis(
      { pipeline: w.pipeline, sheet: w.sheet, store: w.store, log: silentLog },
      { run, steps: {} },
    );
    const first = [];
    w.analyzer.failWith = undefined;
    first.push(await analyzeRunBatch(batchDeps(w), { run, round: 1, batch: 1 }));
    w.analyzer.failWith = new Error('gemini answered 500');
    await expect(analyzeRunBatch(batchDeps(w), { run, round: 1, batch: 2 })).rejects.toThrow('500');
    w.analyzer.failWith = undefined;
    first.push(await analyzeRunBatch(batchDeps(w), { run, round: 1, batch: 3 }));
    const written = w.store.objects.get(batchResultKeyOf('demo', 'r1', 1, 1));

    // Act: the Map's retry (or a resume) runs every batch again.
    const again = [];
    for (const batch of plan.items.flat())
      again.push(await analyzeRunBatch(batchDeps(w), { run, round: 1, batch }));
    const record = await analyzeSheetPosts(
      { pipeline: w.pipeline, sheet: w.sheet, analyzer: w.analyzer, store: w.store, log: silentLog },
      { run, steps: {}, round: 1, items: [again] },
    );

    // Assess
    expect(plan).toMatchObject({ items: [[1, 2, 3]], posts: 250 });
    expect(again.map((o) => o.status)).toEqual(['reused', 'done', 'reused']);
    expect(w.analyzer.batches).toEqual([100, 50, 100]);
    expect(w.store.objects.get(batchResultKeyOf('demo', 'r1', 1, 1))).toBe(written);
    expect(record).toMatchObject({ status: 'succeeded', counts: { postsAnalysed: 100, geminiRequests: 2 } });
    expect(w.sheet.records('Posts').every((r) => r.ai_processed === 'yes')).toBe(true);
    expect(w.analyzer.drafts).toBe(1);
  });

  it('a plan stored for the run is reused as it is, so a resume sends the same batches', async () => {
    // Prepare
    const w = await sheetWorld();
    const run = runRef('r1', T);
    const deps = { pipeline: w.pipeline, sheet: w.sheet, store: w.store, log: silentLog };
    const first = await planRunAnalysis(deps, { run, steps: {} });
    await w.sheet.appendRows('Posts', MAIN_TAB_HEADERS, [
      { message_id: '1300000000000099999', content: 'late' },
    ]);

    // Act
    const second = await planRunAnalysis(deps, { run, steps: {} });

    // Assess
    expect(second).toEqual(first);
    expect(JSON.parse(w.store.objects.get(batchInputKeyOf('demo', 'r1', 1, 3)) ?? '[]')).toHaveLength(50);
  });

  it('after a round is written back, rows appended since (a resumed Upload) make a new round', async () => {
    // Prepare: the first execution planned and analysed the 250 rows; then 30 more arrive.
    const w = await sheetWorld();
    const run = runRef('r1', T);
    const planDeps = { pipeline: w.pipeline, sheet: w.sheet, store: w.store, log: silentLog };
    const analyzeDeps = { ...planDeps, analyzer: w.analyzer };
    const first = await planRunAnalysis(planDeps, { run, steps: {} });
    const outcomes = [];
    for (const batch of first.items.flat())
      outcomes.push(await analyzeRunBatch(batchDeps(w), { run, round: 1, batch }));
    await analyzeSheetPosts(analyzeDeps, { run, steps: {}, round: 1, items: [outcomes] });
    await w.sheet.appendRows(
      'Posts',
      MAIN_TAB_HEADERS,
      Array.from({ length: 30 }, (_, i) => ({
        message_id: String(1_300_000_000_000_100_000n + BigInt(i)),
        content: 'late',
      })),
    );

    // Act
    const second = await planRunAnalysis(planDeps, { run, steps: {} });

    // Assess
    expect(first).toMatchObject({ round: 1, posts: 250 });
    expect(second).toMatchObject({ round: 2, items: [[1]], posts: 30 });
  });
});
