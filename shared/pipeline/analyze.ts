import * as z from 'zod';
import { runPrefix } from '../config/resources';
import type { PipelineConfig } from '../config/schema';
import { canonicalPostLink, keepOnlyCollectedLinks } from '../domain/draft-links';
import { DRAFTS_TAB_HEADERS, KEY_COLUMN, MAIN_TAB_HEADERS, type PostAnalysis } from '../domain/post';
import { fitSinglePost, MAX_POST_LENGTH, splitIntoThread } from '../domain/tweet-length';
import { PermanentError, RateLimitedError } from '../errors';
import type { Analyzer, ObjectStore, RowUpdate, SheetStore, StepRecord } from '../ports';
import {
  analysisPrefixOf,
  batchOutcomesOf,
  type ItemOutcome,
  itemOutcomeSchema,
  loadBatchResult,
  loadPlan,
  PROCESSED,
  quotaStopKeyOf,
  roundDoneKeyOf,
} from './plan-analysis';
import { partial, type StepInput, stepInputSchema, succeeded } from './run-state';

export interface AnalyzeDeps {
  pipeline: PipelineConfig;
  sheet: SheetStore;
  analyzer: Analyzer;
  store: ObjectStore;
  log: (message: string, data: Record<string, unknown>) => void;
}

/** The run's draft as publish and archive read it. Written once per run: a retry never rewrites it. */
export interface StoredDraft {
  runId: string;
  createdAt: string;
  draft: string;
  parts: string[];
  /** The main-tab rows this draft covers: exactly these are archived. */
  messageIds: string[];
  /** Links taken out of the model's text: not the link of any post collected in this run. */
  linksRemoved?: string[];
}

export const draftKeyOf = (pipelineId: string, runId: string) => `${runPrefix(pipelineId, runId)}draft.json`;

/** Upper bound of items handed to the draft request, to keep the prompt small. */
const DRAFT_CANDIDATES = 50;
const THREAD_TARGET_LENGTH = 1100;
/**
 * A quota resetting later than this is not waited for: the step ends partial and
 * a `--resume` after the reset finishes it. Shorter waits are thrown on to the
 * state machine (its Retry, or its Wait state for longer ones).
 */
const QUOTA_WAIT_HORIZON_MS = 2 * 60_000;

/** A quota (Gemini's daily one, a 429 that says nothing) that will not come back within this run. */
function stoppedByQuota(error: unknown): error is RateLimitedError {
  return error instanceof RateLimitedError && error.resetAt.getTime() - Date.now() > QUOTA_WAIT_HORIZON_MS;
}

export async function loadDraft(store: ObjectStore, pipelineId: string, runId: string) {
  const text = await store.getText(draftKeyOf(pipelineId, runId));
  return text === undefined ? undefined : (JSON.parse(text) as StoredDraft);
}

type ReadyAnalysis = PostAnalysis & { postLink: string };

function toAnalysis(
  messageId: string,
  postLink: string,
  v: Record<string, string | undefined>,
): ReadyAnalysis {
  return {
    messageId,
    isNewProject: v.is_new_project === 'true',
    projectHandle: v.project_handle ?? '',
    projectLink: v.project_link ?? '',
    summary: v.summary ?? '',
    postLink,
  };
}

/** Analyze's state input: the run, the steps so far and the Map's answer for each item. */
export const analyzeInputSchema = stepInputSchema.extend({
  round: z.number().int().min(1),
  items: z.array(itemOutcomeSchema).optional(),
});
export type AnalyzeInput = StepInput & { round: number; items?: readonly ItemOutcome[] | undefined };

/**
 * After the Map: write every batch result of the run's plan back to the main
 * tab in one request (read one result at a time), then write the run's draft
 * from all analysed rows still in the main tab. A batch without a result
 * (waiting on a quota, or failed after its retries) leaves the step short: what
 * was analysed is kept, no draft is written, and a resume analyses only the
 * batches still missing.
 */
export async function analyzeSheetPosts(deps: AnalyzeDeps, input: AnalyzeInput): Promise<StepRecord> {
  const started = Date.now();
  const { run } = input;
  const { pipeline } = deps;
  const { mainTab, draftsTab } = pipeline.sheet;
  const { round } = input;
  const plan = await loadPlan(deps.store, run.pipelineId, run.runId, round);
  if (!plan) throw new PermanentError(`no analysis plan for run ${run.runId}: PlanAnalysis did not run`);
  const outcomes = new Map(batchOutcomesOf(input.items ?? []).map((o) => [o.batch, o]));

  // One read: the main tab's columns a result or the draft needs, as they are now (a result is written
  // back only to its own row, still unanalysed), and the Drafts tab's run ids. Upload made sure both tabs
  // exist: no look at the spreadsheet first. Columns, not the tab: its posts' text is not needed here.
  const opened = await deps.sheet.openTabs(
    [
      { tab: mainTab, headers: MAIN_TAB_HEADERS },
      { tab: draftsTab, headers: DRAFTS_TAB_HEADERS },
    ],
    {
      columns: [
        ...SHEET_COLUMNS.map((header) => ({ tab: mainTab, header })),
        { tab: draftsTab, header: 'run_id' },
      ],
    },
  );
  const headers = opened.headers.get(mainTab) ?? [...MAIN_TAB_HEADERS];
  const sheet = new MainTabColumns(opened.column.bind(opened), mainTab);
  const drafts = {
    tab: draftsTab,
    headers: opened.headers.get(draftsTab) ?? [...DRAFTS_TAB_HEADERS],
    runIds: opened.columns.get(draftsTab) ?? [],
  };
  // Each result is written as it is read: the store sends a request as each fills to the payload limit.
  // One write for the analyses and the run's Drafts row when they fit (Sheets allows 60 writes a minute);
  // the round is marked written back only after the last, so a crash before it leaves the round for a
  // resume to write again (the rows written already are skipped then). A dry run writes nothing: the
  // next real run must find the same work.
  const writer = deps.sheet.cellWriter();
  let updates = 0;
  let writtenBack = false;
  const writeBack = async (draftRow: RowUpdate[] = []) => {
    if (writtenBack) return;
    writtenBack = true;
    if (run.dryRun) return;
    for (const update of draftRow) await writer.write(drafts.tab, drafts.headers, update);
    await writer.close();
  };
  const roundWrittenBack = () =>
    deps.store.putIfAbsent(
      roundDoneKeyOf(run.pipelineId, run.runId, round),
      JSON.stringify({ round, writtenBack: updates, at: new Date().toISOString() }),
      'application/json',
    );
  const missing: number[] = [];
  let requests = 0;
  let answered = 0;
  let postsAnalysed = 0;
  let projects = 0;
  let moved = 0;
  for (let batch = 1; batch <= plan.batches; batch += 1) {
    const result = await loadBatchResult(deps.store, run.pipelineId, run.runId, round, batch);
    if (!result) {
      missing.push(batch);
      continue;
    }
    // Analysed by this execution: answered now, or stored by an item that then failed as a whole.
    const status = outcomes.get(batch)?.status;
    const fresh = status === 'done' || (status === 'failed' && result.analysedAt >= run.startedAt);
    if (status === 'failed' && fresh) requests += 1;
    for (const row of result.rows) {
      answered += 1;
      if (fresh) {
        postsAnalysed += 1;
        if (row.cells.is_new_project === 'true') projects += 1;
      }
      const analysis = toAnalysis(row.messageId, row.postLink, row.cells);
      // Results of earlier attempts too (their write-back may have died with them), but never over a
      // row that moved (archived by a finished run, or the user's edit): its post is analysed again later.
      if (!sheet.holds(row.rowNumber, row.messageId)) {
        if (row.rowNumber > 0) moved += 1;
        sheet.offSheet(analysis);
        continue;
      }
      if (sheet.analysed(row.rowNumber)) continue;
      sheet.write(row.rowNumber, analysis);
      updates += 1;
      if (!run.dryRun)
        await writer.write(mainTab, headers, { rowNumber: row.rowNumber, values: { ...row.cells } });
    }
  }
  if (moved > 0 && postsAnalysed > 0) {
    deps.log('analysed rows no longer where the plan found them; left for the next run', { moved });
  }
  for (const o of outcomes.values()) requests += o.requests ?? 0;
  const counts = { postsAnalysed, projectsFound: projects, geminiRequests: requests, batches: plan.batches };

  if (missing.length > 0) {
    // Written back even with batches missing: the analyses already paid for are kept.
    await writeBack();
    const left = plan.posts - answered;
    const waiting = missing.map((b) => outcomes.get(b)).filter((o) => o?.status === 'waiting');
    const failed = missing.map((b) => outcomes.get(b)).filter((o) => o?.status !== 'waiting');
    const resetAt = waiting
      .map((o) => o?.resetAt)
      .filter((r): r is string => r !== undefined)
      .sort()
      .at(-1);
    const stop = resetAt
      ? await deps.store.getText(quotaStopKeyOf(run.pipelineId, run.runId, round, resetAt))
      : undefined;
    const reason = stop ? (JSON.parse(stop) as { reason: string }).reason : 'a rate limit';
    deps.log('analysis incomplete; a resume redoes only the missing batches', {
      missing: missing.length,
      waiting: waiting.length,
      failed: failed.length,
    });
    if (failed.length === 0) {
      // No draft from half the posts: publish and archive wait for a succeeded analysis.
      // retryAt: the run is resumed by itself at the reset (shared/pipeline/auto-resume.ts).
      return {
        ...partial(
          started,
          `analysis stopped by a quota, ${left} posts left in ${missing.length} batches: ${reason}`,
          { ...counts, postsRemaining: left, batchesMissing: missing.length },
          resetAt ? { resetAt } : {},
        ),
        ...(resetAt ? { retryAt: resetAt } : {}),
      };
    }
    const errors = [...new Set(failed.map((o) => o?.error ?? 'no answer'))].join(', ');
    return {
      ...partial(
        started,
        `${failed.length} of ${plan.batches} analysis batches failed (${errors})` +
          `${waiting.length > 0 ? `, ${waiting.length} wait on a quota: ${reason}` : ''}; ` +
          `${left} posts left for --resume, which redoes only those batches`,
        { ...counts, postsRemaining: left, batchesMissing: missing.length },
        resetAt ? { resetAt } : {},
      ),
      status: 'failed',
      error: {
        name: failed[0]?.error ?? 'AnalysisError',
        message: failed[0]?.reason ?? `batch ${failed[0]?.batch} failed`,
      },
    };
  }
  if (answered < plan.posts) {
    deps.log('some posts were not answered; they are analysed next run', { missing: plan.posts - answered });
  }

  let draft = await loadDraft(deps.store, run.pipelineId, run.runId);
  if (draft) {
    deps.log('draft already written for this run; reusing it', { parts: draft.parts.length });
  } else {
    const ready = sheet.ready();
    if (ready.messageIds.length === 0) {
      await writeBack();
      await roundWrittenBack();
      return succeeded(started, counts, { draft: 'none: no analysed posts' });
    }
    try {
      draft = await writeRunDraft(deps, run.runId, run.referenceTime, run.scheduleName, ready);
    } catch (error) {
      await writeBack();
      await roundWrittenBack();
      if (!stoppedByQuota(error)) throw error;
      return {
        ...partial(
          started,
          `every post is analysed but the draft is not written: ${error.message}`,
          { ...counts, postsRemaining: 0 },
          { resetAt: error.resetAt.toISOString() },
        ),
        retryAt: error.resetAt.toISOString(),
      };
    }
    requests += 1;
  }
  await writeBack(draftRowFor(drafts, draft));
  // Every result of the round is written back: the next plan is a new round of the rows left.
  await roundWrittenBack();
  const removed = draft.linksRemoved ?? [];
  return succeeded(
    started,
    { ...counts, geminiRequests: requests, draftParts: draft.parts.length, linksRemoved: removed.length },
    {
      draftKey: draftKeyOf(run.pipelineId, run.runId),
      analysisPrefix: analysisPrefixOf(run.pipelineId, run.runId),
      ...(removed.length ? { linksRemoved: removed.join(' ').slice(0, 500) } : {}),
    },
  );
}

/** The main tab's columns Analyze reads: the key, the analysis and the post's link (the draft's allow-list). */
const SHEET_COLUMNS = [
  KEY_COLUMN,
  'post_link',
  'ai_processed',
  'is_new_project',
  'project_handle',
  'project_link',
  'summary',
] as const;

/** What the draft is written from: its candidates, every ready post's link, and the ids it covers. */
interface ReadyPosts {
  candidates: ReadyAnalysis[];
  links: string[];
  messageIds: string[];
}

/**
 * The main tab as Analyze needs it, a column per field (not a record per row), with this run's results
 * merged in. The draft is written from every analysed row in the main tab (earlier runs' too: the draft
 * covers what will be archived), then this run's results for rows the sheet does not hold where the plan
 * found them (a dry run's, a moved row's); of these, only the first DRAFT_CANDIDATES of each kind (new
 * projects, the others) can be handed to the model, so only those analyses are kept.
 */
class MainTabColumns {
  private readonly ids: string[];
  private readonly links: string[];
  private readonly processed: string[];
  private readonly isNew: string[];
  private readonly column: (header: string) => string[];
  /** Rows this run's results were merged into: 1 analysed, 2 analysed as a new project. */
  private readonly merged: Uint8Array;
  private readonly pools = { fresh: [] as Candidate[], other: [] as Candidate[] };
  private readonly outside: ReadyAnalysis[] = [];

  constructor(column: (tab: string, header: string) => string[], tab: string) {
    this.column = (header) => column(tab, header);
    this.ids = this.column(KEY_COLUMN);
    this.links = this.column('post_link');
    this.processed = this.column('ai_processed');
    this.isNew = this.column('is_new_project');
    this.merged = new Uint8Array(this.ids.length);
  }

  /** Whether the row holds this post now. */
  holds(rowNumber: number, messageId: string): boolean {
    return rowNumber >= 2 && this.ids[rowNumber - 2] === messageId;
  }

  analysed(rowNumber: number): boolean {
    const i = rowNumber - 2;
    return this.processed[i] === PROCESSED || (this.merged[i] ?? 0) > 0;
  }

  /** A result merged into its row (written back, or for a dry run only here). */
  write(rowNumber: number, analysis: ReadyAnalysis): void {
    const i = rowNumber - 2;
    this.merged[i] = analysis.isNewProject ? 2 : 1;
    this.offer(i, { ...analysis, postLink: this.links[i] ?? '' });
  }

  /** A result whose row the sheet does not hold where the plan found it: ready after every sheet row. */
  offSheet(analysis: ReadyAnalysis): void {
    this.outside.push(analysis);
  }

  private offer(index: number, analysis: ReadyAnalysis): void {
    const pool = analysis.isNewProject ? this.pools.fresh : this.pools.other;
    if (pool.length >= DRAFT_CANDIDATES && (pool.at(-1)?.index ?? 0) < index) return;
    const at = pool.findIndex((c) => c.index > index);
    pool.splice(at < 0 ? pool.length : at, 0, { index, analysis });
    if (pool.length > DRAFT_CANDIDATES) pool.pop();
  }

  ready(): ReadyPosts {
    const summaries = this.column('summary');
    const handles = this.column('project_handle');
    const projectLinks = this.column('project_link');
    const ids = new Set<string>();
    const links: string[] = [];
    for (const [i, id] of this.ids.entries()) {
      if (!id) continue;
      const merged = this.merged[i] ?? 0;
      if (merged === 0 && this.processed[i] !== PROCESSED) continue;
      ids.add(id);
      links.push(this.links[i] ?? '');
      // The sheet's own analysis: a row analysed before this run.
      if (merged === 0)
        this.offer(i, {
          messageId: id,
          isNewProject: this.isNew[i] === 'true',
          projectHandle: handles[i] ?? '',
          projectLink: projectLinks[i] ?? '',
          summary: summaries[i] ?? '',
          postLink: this.links[i] ?? '',
        });
    }
    const outside = this.outside.filter((a) => !ids.has(a.messageId) && ids.add(a.messageId));
    for (const a of outside) links.push(a.postLink);
    const byKind = (isNew: boolean, pool: Candidate[]) => [
      ...pool.map((c) => c.analysis),
      ...outside.filter((a) => a.isNewProject === isNew),
    ];
    const candidates = [...byKind(true, this.pools.fresh), ...byKind(false, this.pools.other)].slice(
      0,
      DRAFT_CANDIDATES,
    );
    return { candidates, links, messageIds: [...ids] };
  }
}

interface Candidate {
  index: number;
  analysis: ReadyAnalysis;
}

async function writeRunDraft(
  deps: AnalyzeDeps,
  runId: string,
  referenceTime: string,
  scheduleName: string | undefined,
  ready: ReadyPosts,
): Promise<StoredDraft> {
  const { pipeline } = deps;
  const single = pipeline.publisher.mode === 'single';
  const { candidates } = ready;
  // The zone of the schedule that fired (a manual run: the pipeline's first schedule's).
  const timeZone =
    (pipeline.schedules.find((s) => s.name === scheduleName) ?? pipeline.schedules[0])?.timeZone ?? 'UTC';
  const text = await deps.analyzer.writeDraft(candidates, {
    model: pipeline.gemini.model,
    topic: pipeline.gemini.topic,
    language: pipeline.gemini.language,
    temperature: pipeline.gemini.temperature,
    maxDraftItems: pipeline.gemini.maxDraftItems,
    targetLength: single ? MAX_POST_LENGTH : THREAD_TARGET_LENGTH,
    dateLabel: new Intl.DateTimeFormat('en-CA', { timeZone, dateStyle: 'medium' }).format(
      new Date(referenceTime),
    ),
  });
  // The one place every draft is made (publish, deliver and one-off posts --from-run all read it): a link
  // the model invented or a member smuggled into a message is no post of this run and goes.
  const allowed = new Set(ready.links.map((link) => canonicalPostLink(link)).filter(Boolean));
  const filtered = keepOnlyCollectedLinks(text, allowed, canonicalPostLink);
  if (filtered.removed.length > 0)
    deps.log('links removed from the draft: not posts of this run', { links: filtered.removed });
  const draft: StoredDraft = {
    runId,
    createdAt: new Date().toISOString(),
    draft: filtered.text,
    parts: single
      ? [fitSinglePost(filtered.text)]
      : splitIntoThread(filtered.text, { maxParts: pipeline.publisher.maxThreadParts }),
    messageIds: ready.messageIds,
    ...(filtered.removed.length ? { linksRemoved: filtered.removed } : {}),
  };
  const key = draftKeyOf(pipeline.id, runId);
  if (!(await deps.store.putIfAbsent(key, JSON.stringify(draft), 'application/json'))) {
    // A concurrent attempt stored its draft first: that one is the run's draft.
    const stored = await loadDraft(deps.store, pipeline.id, runId);
    if (stored) return stored;
  }
  return draft;
}

/**
 * The run's row in the Drafts tab, written with the analyses in one request: after the last
 * row holding a run id (values reads leave out trailing empty rows); none when a retry finds it there.
 */
function draftRowFor(drafts: { runIds: readonly string[] }, draft: StoredDraft): RowUpdate[] {
  if (drafts.runIds.includes(draft.runId)) return [];
  return [
    {
      rowNumber: drafts.runIds.length + 2,
      values: {
        run_id: draft.runId,
        created_at: draft.createdAt,
        draft: draft.parts.join('\n\n'),
        parts: String(draft.parts.length),
        status: 'drafted',
      },
    },
  ];
}
