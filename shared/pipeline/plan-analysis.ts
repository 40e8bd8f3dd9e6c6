import * as z from 'zod';
import { runPrefix } from '../config/resources';
import type { PipelineConfig } from '../config/schema';
import { batchesPerItem, itemsOf } from '../domain/analysis-fan-out';
import { KEY_COLUMN, MAIN_TAB_HEADERS } from '../domain/post';
import { PermanentError } from '../errors';
import type { ObjectStore, PostForAnalysis, SheetStore } from '../ports';
import { readRunPosts } from './collect';
import { runRefSchema, type StepInput } from './run-state';
import { csvRunOf } from './upload';

/**
 * The analysis of one run, fanned out: PlanAnalysis cuts the rows still to be
 * analysed into batches stored in S3, the state machine's Map runs
 * AnalyzeBatch once per item of a few batches sent at once (each result
 * stored once per run and batch),
 * and Analyze writes every result back to the sheet and writes the draft.
 * Only batch numbers travel between states (payloads are capped at 256 KiB).
 */

export const PROCESSED = 'yes';

/** The analysis cells of the main tab a result writes back; the row's other cells are the user's. */
export type AnalysisCells = {
  ai_processed: string;
  is_new_project: string;
  project_handle: string;
  project_link: string;
  summary: string;
};

/** One row to analyse, where it is in the main tab (a dry run's rows not in the sheet are negative). */
export interface PlannedRow extends PostForAnalysis {
  rowNumber: number;
}

export interface AnalysisPlan {
  runId: string;
  round: number;
  createdAt: string;
  batchSize: number;
  /** Batches are numbered 1..batches. */
  batches: number;
  posts: number;
}

/** What AnalyzeBatch stores for its batch: written once, so a stored result means the batch is done. */
export interface BatchResult {
  batch: number;
  analysedAt: string;
  rows: { rowNumber: number; messageId: string; postLink: string; cells: AnalysisCells }[];
}

/** One Map iteration's small answer; the batch's analyses are in S3. */
export const batchOutcomeSchema = z.object({
  batch: z.number().int().min(1),
  /** done: analysed now; reused: stored by an earlier attempt; waiting: a quota; failed: caught error. */
  status: z.enum(['done', 'reused', 'waiting', 'failed']),
  posts: z.number().int().min(0).optional(),
  requests: z.number().int().min(0).optional(),
  /** A rate limit the state machine waits out before running the batch again. */
  waitSeconds: z.number().optional(),
  /** waiting: when the quota resets (its reason is stored under analysis/quota/). */
  resetAt: z.string().optional(),
  /** failed, in process (tests): the error's message. */
  reason: z.string().optional(),
  /** failed: the error name the iterator's Catch saw. */
  error: z.string().optional(),
});
export type BatchOutcome = z.infer<typeof batchOutcomeSchema>;

/**
 * One Map item's answer: its batches' outcomes, or, when the iterator's Catch
 * took the item's error, the item failed as a whole (its batches that stored a
 * result before the error are done all the same: Analyze reads the results).
 */
export const itemOutcomeSchema = z.union([
  z.array(batchOutcomeSchema),
  z.object({
    batches: z.array(z.number().int().min(1)),
    status: z.literal('failed'),
    error: z.string(),
    /** In process (tests): the error's message. */
    reason: z.string().optional(),
  }),
]);
export type ItemOutcome = z.infer<typeof itemOutcomeSchema>;

/** Every batch's outcome from the Map's item outcomes. */
export function batchOutcomesOf(items: readonly ItemOutcome[]): BatchOutcome[] {
  return items.flatMap((item) =>
    Array.isArray(item)
      ? item
      : item.batches.map((batch) => ({
          batch,
          status: 'failed' as const,
          error: item.error,
          ...(item.reason ? { reason: item.reason } : {}),
        })),
  );
}

export const batchInputSchema = z.object({
  run: runRefSchema,
  round: z.number().int().min(1),
  batch: z.number().int().min(1),
});
export type BatchInput = z.infer<typeof batchInputSchema>;

/** One Map item: the batches one AnalyzeBatch invocation sends at once. */
export const itemInputSchema = z.object({
  run: runRefSchema,
  round: z.number().int().min(1),
  batches: z.array(z.number().int().min(1)).min(1),
});
export type ItemInput = z.infer<typeof itemInputSchema>;

export const analysisPrefixOf = (pipelineId: string, runId: string) =>
  `${runPrefix(pipelineId, runId)}analysis/`;
const pad = (n: number, width: number) => String(n).padStart(width, '0');
/**
 * A run plans in rounds: a resume reuses the round under way, and once a
 * round's results are all written back the next plan (rows appended since,
 * by a resumed Collect and Upload) is a new round.
 */
const roundPrefixOf = (pipelineId: string, runId: string, round: number) =>
  `${analysisPrefixOf(pipelineId, runId)}r${pad(round, 3)}/`;
export const planKeyOf = (pipelineId: string, runId: string, round: number) =>
  `${roundPrefixOf(pipelineId, runId, round)}plan.json`;
/** Written by Analyze once every result of the round is written back. */
export const roundDoneKeyOf = (pipelineId: string, runId: string, round: number) =>
  `${roundPrefixOf(pipelineId, runId, round)}written-back.json`;
export const batchInputKeyOf = (pipelineId: string, runId: string, round: number, batch: number) =>
  `${roundPrefixOf(pipelineId, runId, round)}input/${pad(batch, 5)}.json`;
/** Why batches wait for the quota resetting at `resetAt`: written by the first batch stopped by it. */
export const quotaStopKeyOf = (pipelineId: string, runId: string, round: number, resetAt: string) =>
  `${roundPrefixOf(pipelineId, runId, round)}quota/${resetAt}.json`;
export const batchResultKeyOf = (pipelineId: string, runId: string, round: number, batch: number) =>
  `${roundPrefixOf(pipelineId, runId, round)}${pad(batch, 5)}.json`;

export async function loadPlan(
  store: ObjectStore,
  pipelineId: string,
  runId: string,
  round: number,
): Promise<AnalysisPlan | undefined> {
  const text = await store.getText(planKeyOf(pipelineId, runId, round));
  return text === undefined ? undefined : (JSON.parse(text) as AnalysisPlan);
}

export async function loadBatchResult(
  store: ObjectStore,
  pipelineId: string,
  runId: string,
  round: number,
  batch: number,
): Promise<BatchResult | undefined> {
  const text = await store.getText(batchResultKeyOf(pipelineId, runId, round, batch));
  return text === undefined ? undefined : (JSON.parse(text) as BatchResult);
}

export interface PlanAnalysisDeps {
  pipeline: PipelineConfig;
  sheet: SheetStore;
  store: ObjectStore;
  log: (message: string, data: Record<string, unknown>) => void;
}

/** What the Map iterates over: batch numbers only, in the items each AnalyzeBatch invocation sends at once. */
export interface PlanAnswer {
  round: number;
  items: number[][];
  posts: number;
  planKey: string;
}

/** S3 writes in flight at once while storing a plan's batches. */
const WRITE_CONCURRENCY = 8;

/**
 * Cut the main tab's unanalysed rows into the run's batches, each stored as
 * `analysis/rNNN/input/NNNNN.json`, then the round's plan (the commit mark).
 * A round not yet written back is reused as it is, so a retry or a `--resume`
 * sends the same batches and AnalyzeBatch skips every one whose result is
 * stored; after a written-back round the rows still unanalysed (appended by a
 * resumed Upload) make the next round.
 */
export async function planRunAnalysis(deps: PlanAnalysisDeps, input: StepInput): Promise<PlanAnswer> {
  const { run } = input;
  let latest: AnalysisPlan | undefined;
  for (let round = 1; ; round += 1) {
    const plan = await loadPlan(deps.store, run.pipelineId, run.runId, round);
    if (!plan) break;
    latest = plan;
  }
  if (
    latest &&
    (await deps.store.getText(roundDoneKeyOf(run.pipelineId, run.runId, latest.round))) === undefined
  ) {
    deps.log('analysis round under way for this run; reusing its plan', {
      round: latest.round,
      batches: latest.batches,
    });
    return answerOf(deps.pipeline, run, latest);
  }
  const round = (latest?.round ?? 0) + 1;
  const planKey = planKeyOf(run.pipelineId, run.runId, round);
  const { mainTab, archiveTab } = deps.pipeline.sheet;
  // One read (Upload made sure the tab exists: no look at the spreadsheet first): the main tab's rows,
  // streamed, and for a dry run, which appended nothing, the archive's keys too. The unanalysed rows are
  // stored a batch at a time as they are parsed, so only the batches being written are held.
  const opened = await deps.sheet.openTabs([{ tab: mainTab, headers: MAIN_TAB_HEADERS }], {
    columns: run.dryRun ? [{ tab: archiveTab, header: KEY_COLUMN }] : [],
    rows: { tab: mainTab },
  });
  const headers = opened.headers.get(mainTab) ?? [...MAIN_TAB_HEADERS];
  const cellOf = (cells: readonly string[], header: string) => {
    const index = headers.indexOf(header);
    return index < 0 ? '' : (cells[index] ?? '');
  };
  // A dry run's own posts the main tab holds already are planned from the tab, not again from its CSV.
  const mainKeys = new Set<string>();

  const { batchSize } = deps.pipeline.gemini;
  let count = 0;
  let posts = 0;
  let batch: PlannedRow[] = [];
  const writing = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  const writeBatch = async (n: number, slice: PlannedRow[]) => {
    const key = batchInputKeyOf(run.pipelineId, run.runId, round, n);
    if (!(await deps.store.putIfAbsent(key, JSON.stringify(slice), 'application/json'))) {
      // An earlier attempt died between its batches and its plan: its batch may hold other rows.
      const existing = JSON.parse((await deps.store.getText(key)) ?? '[]') as PlannedRow[];
      if (existing.map((r) => r.messageId).join() !== slice.map((r) => r.messageId).join()) {
        throw new PermanentError(`analysis batch ${key} holds other rows than this plan's`);
      }
    }
  };
  /** Store the batch filled so far, at most WRITE_CONCURRENCY at once: only those batches are held. */
  const flush = async () => {
    if (batch.length === 0) return;
    count += 1;
    const write: Promise<void> = writeBatch(count, batch)
      .catch((error: unknown) => {
        failure ??= { error };
      })
      .finally(() => writing.delete(write));
    writing.add(write);
    batch = [];
    if (writing.size >= WRITE_CONCURRENCY) await Promise.race(writing);
    if (failure) throw failure.error;
  };
  const plan = async (row: PlannedRow) => {
    posts += 1;
    batch.push(row);
    if (batch.length >= batchSize) await flush();
  };

  for await (const { rowNumber, cells } of opened.rows) {
    const messageId = cellOf(cells, KEY_COLUMN);
    if (run.dryRun && messageId) mainKeys.add(messageId);
    if (!messageId || cellOf(cells, 'ai_processed') === PROCESSED) continue;
    await plan({
      rowNumber,
      messageId,
      content: cellOf(cells, 'content'),
      postLink: cellOf(cells, 'post_link'),
      author: cellOf(cells, 'author'),
    });
  }
  // A dry run analyses the run's posts the sheet does not hold yet as well.
  if (run.dryRun) {
    const known = new Set([...mainKeys, ...opened.column(archiveTab, KEY_COLUMN)]);
    let missing = 0;
    for await (const chunk of readRunPosts(deps.store, run.pipelineId, csvRunOf(input))) {
      for (const post of chunk) {
        if (known.has(post.messageId)) continue;
        missing += 1;
        await plan({
          rowNumber: -missing,
          messageId: post.messageId,
          content: post.content,
          postLink: post.postLink,
          author: post.author,
        });
      }
    }
  }
  await flush();
  await Promise.all(writing);
  if (failure) throw failure.error;
  const stored: AnalysisPlan = {
    runId: run.runId,
    round,
    createdAt: new Date().toISOString(),
    batchSize,
    batches: count,
    posts,
  };
  if (!(await deps.store.putIfAbsent(planKey, JSON.stringify(stored), 'application/json'))) {
    const winner = await loadPlan(deps.store, run.pipelineId, run.runId, round);
    if (winner) return answerOf(deps.pipeline, run, winner);
  }
  deps.log('analysis planned', { round, posts, batches: count });
  return answerOf(deps.pipeline, run, stored);
}

const answerOf = (pipeline: PipelineConfig, run: StepInput['run'], plan: AnalysisPlan): PlanAnswer => ({
  round: plan.round,
  items: itemsOf(plan.batches, batchesPerItem(pipeline.gemini)),
  posts: plan.posts,
  planKey: planKeyOf(run.pipelineId, run.runId, plan.round),
});
