import { z } from 'zod';
import { runPrefix } from '../config/resources';
import type { PipelineConfig } from '../config/schema';
import { KEY_COLUMN, MAIN_TAB_HEADERS } from '../domain/post';
import { PermanentError } from '../errors';
import type { ObjectStore, PostForAnalysis, SheetRow, SheetStore } from '../ports';
import { readRunPosts } from './collect';
import { runRefSchema, type StepInput } from './run-state';
import { csvRunOf } from './upload';

/**
 * The analysis of one run, fanned out: PlanAnalysis cuts the rows still to be
 * analysed into batches stored in S3, the state machine's Map runs
 * AnalyzeBatch once per batch (each result stored once per run and batch),
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
  /** waiting: when the quota resets, and which quota. */
  resetAt: z.string().optional(),
  reason: z.string().optional(),
  /** failed: the error name the iterator's Catch saw. */
  error: z.string().optional(),
});
export type BatchOutcome = z.infer<typeof batchOutcomeSchema>;

export const batchInputSchema = z.object({ run: runRefSchema, batch: z.number().int().min(1) });
export type BatchInput = z.infer<typeof batchInputSchema>;

export const analysisPrefixOf = (pipelineId: string, runId: string) =>
  `${runPrefix(pipelineId, runId)}analysis/`;
const pad = (batch: number) => String(batch).padStart(5, '0');
export const planKeyOf = (pipelineId: string, runId: string) =>
  `${analysisPrefixOf(pipelineId, runId)}plan.json`;
export const batchInputKeyOf = (pipelineId: string, runId: string, batch: number) =>
  `${analysisPrefixOf(pipelineId, runId)}input/${pad(batch)}.json`;
export const batchResultKeyOf = (pipelineId: string, runId: string, batch: number) =>
  `${analysisPrefixOf(pipelineId, runId)}${pad(batch)}.json`;

export async function loadPlan(
  store: ObjectStore,
  pipelineId: string,
  runId: string,
): Promise<AnalysisPlan | undefined> {
  const text = await store.getText(planKeyOf(pipelineId, runId));
  return text === undefined ? undefined : (JSON.parse(text) as AnalysisPlan);
}

export async function loadBatchResult(
  store: ObjectStore,
  pipelineId: string,
  runId: string,
  batch: number,
): Promise<BatchResult | undefined> {
  const text = await store.getText(batchResultKeyOf(pipelineId, runId, batch));
  return text === undefined ? undefined : (JSON.parse(text) as BatchResult);
}

export interface PlanAnalysisDeps {
  pipeline: PipelineConfig;
  sheet: SheetStore;
  store: ObjectStore;
  log: (message: string, data: Record<string, unknown>) => void;
}

/** What the Map iterates over: batch numbers only. */
export interface PlanAnswer {
  batches: number[];
  posts: number;
  planKey: string;
}

/** S3 writes in flight at once while storing a plan's batches. */
const WRITE_CONCURRENCY = 8;

/**
 * Cut the main tab's unanalysed rows into the run's batches, each stored as
 * `analysis/input/NNNNN.json`, then the plan (the commit mark). A plan already
 * stored for this run is reused as it is, so a retry or a `--resume` sends the
 * same batches and AnalyzeBatch skips every one whose result is stored.
 */
export async function planRunAnalysis(deps: PlanAnalysisDeps, input: StepInput): Promise<PlanAnswer> {
  const { run } = input;
  const planKey = planKeyOf(run.pipelineId, run.runId);
  const stored = await loadPlan(deps.store, run.pipelineId, run.runId);
  if (stored) {
    deps.log('analysis plan already stored for this run; reusing it', { batches: stored.batches });
    return { batches: numbers(stored.batches), posts: stored.posts, planKey };
  }
  const { mainTab } = deps.pipeline.sheet;
  await deps.sheet.ensureTab(mainTab, MAIN_TAB_HEADERS);
  const table = await deps.sheet.readTable(mainTab);
  const rows = table.rows.filter((r) => r.values[KEY_COLUMN]);
  // A dry run appended nothing: it analyses the run's posts the sheet does not hold yet as well.
  if (run.dryRun) rows.push(...(await postsNotInSheet(deps, input, rows)));
  const pending = rows.filter((r) => r.values.ai_processed !== PROCESSED).map(toPlannedRow);

  const { batchSize } = deps.pipeline.gemini;
  const count = Math.ceil(pending.length / batchSize);
  const queue = numbers(count);
  const writeBatches = async () => {
    for (let batch = queue.shift(); batch !== undefined; batch = queue.shift()) {
      const slice = pending.slice((batch - 1) * batchSize, batch * batchSize);
      const key = batchInputKeyOf(run.pipelineId, run.runId, batch);
      if (!(await deps.store.putIfAbsent(key, JSON.stringify(slice), 'application/json'))) {
        // An earlier attempt died between its batches and its plan: its batch may hold other rows.
        const existing = JSON.parse((await deps.store.getText(key)) ?? '[]') as PlannedRow[];
        if (existing.map((r) => r.messageId).join() !== slice.map((r) => r.messageId).join()) {
          throw new PermanentError(`analysis batch ${key} holds other rows than this plan's`);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(WRITE_CONCURRENCY, count) }, writeBatches));
  const plan: AnalysisPlan = {
    runId: run.runId,
    createdAt: new Date().toISOString(),
    batchSize,
    batches: count,
    posts: pending.length,
  };
  if (!(await deps.store.putIfAbsent(planKey, JSON.stringify(plan), 'application/json'))) {
    const winner = await loadPlan(deps.store, run.pipelineId, run.runId);
    if (winner) return { batches: numbers(winner.batches), posts: winner.posts, planKey };
  }
  deps.log('analysis planned', { posts: pending.length, batches: count });
  return { batches: numbers(count), posts: pending.length, planKey };
}

const numbers = (count: number) => Array.from({ length: count }, (_, i) => i + 1);

function toPlannedRow(row: SheetRow): PlannedRow {
  const v = row.values;
  return {
    rowNumber: row.rowNumber,
    messageId: v.message_id ?? '',
    content: v.content ?? '',
    postLink: v.post_link ?? '',
    author: v.author ?? '',
  };
}

/** The run's collected posts that neither the main nor the Archive tab holds, as rows not yet analysed. */
async function postsNotInSheet(
  deps: PlanAnalysisDeps,
  input: StepInput,
  rows: readonly SheetRow[],
): Promise<SheetRow[]> {
  const { archiveTab } = deps.pipeline.sheet;
  const archived = (await deps.sheet.readColumn([archiveTab], KEY_COLUMN)).get(archiveTab) ?? [];
  const known = new Set([...rows.map((r) => r.values[KEY_COLUMN] ?? ''), ...archived]);
  const fresh: SheetRow[] = [];
  for await (const posts of readRunPosts(deps.store, input.run.pipelineId, csvRunOf(input))) {
    for (const post of posts) {
      if (known.has(post.messageId)) continue;
      fresh.push({
        rowNumber: -(fresh.length + 1),
        values: {
          message_id: post.messageId,
          content: post.content,
          post_link: post.postLink,
          author: post.author,
          run_id: input.run.runId,
        },
      });
    }
  }
  return fresh;
}
