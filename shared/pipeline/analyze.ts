import { runPrefix } from '../config/resources';
import type { PipelineConfig } from '../config/schema';
import { csvToPosts } from '../domain/csv';
import { canonicalPostLink, keepOnlyCollectedLinks } from '../domain/draft-links';
import {
  DRAFTS_TAB_HEADERS,
  KEY_COLUMN,
  MAIN_TAB_HEADERS,
  type PostAnalysis,
  postToRecord,
} from '../domain/post';
import { fitSinglePost, MAX_POST_LENGTH, splitIntoThread } from '../domain/tweet-length';
import { RateLimitedError } from '../errors';
import type { Analyzer, ObjectStore, RowUpdate, SheetRow, SheetStore, StepRecord } from '../ports';
import { readRunCsv } from './collect';
import { partial, type StepInput, succeeded } from './run-state';
import { csvRunOf } from './upload';

export interface AnalyzeDeps {
  pipeline: PipelineConfig;
  sheet: SheetStore;
  analyzer: Analyzer;
  store: ObjectStore;
  /** Time this invocation has left; unbounded when absent (tests). */
  remainingMs?: () => number;
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
  /** Links taken out of the model's text because no post of this run has them (see draft-links.ts). */
  linksRemoved?: string[];
}

export const draftKeyOf = (pipelineId: string, runId: string) => `${runPrefix(pipelineId, runId)}draft.json`;

const PROCESSED = 'yes';
/** Upper bound of items handed to the draft request, to keep the prompt small. */
const DRAFT_CANDIDATES = 50;
const THREAD_TARGET_LENGTH = 1100;
/**
 * A quota resetting later than this is not waited for: the step ends partial and
 * a `--resume` after the reset finishes it. Shorter waits are thrown on to the
 * state machine, whose Retry (5 s doubling, at most 60 s, 4 attempts) covers them.
 */
const QUOTA_WAIT_HORIZON_MS = 2 * 60_000;
/**
 * Kept back from the invocation's time for the write-back, the draft request
 * and recording the step: a batch is started only if this much and the
 * longest batch so far still fit.
 */
const TIME_RESERVE_MS = 90_000;

/** A quota (Gemini's daily one, a 429 that says nothing) that will not come back within this run. */
function stoppedByQuota(error: unknown): error is RateLimitedError {
  return error instanceof RateLimitedError && error.resetAt.getTime() - Date.now() > QUOTA_WAIT_HORIZON_MS;
}

export async function loadDraft(store: ObjectStore, pipelineId: string, runId: string) {
  const text = await store.getText(draftKeyOf(pipelineId, runId));
  return text === undefined ? undefined : (JSON.parse(text) as StoredDraft);
}

function toAnalysis(row: SheetRow): PostAnalysis & { postLink: string } {
  const v = row.values;
  return {
    messageId: v.message_id ?? '',
    isNewProject: v.is_new_project === 'true',
    projectHandle: v.project_handle ?? '',
    projectLink: v.project_link ?? '',
    summary: v.summary ?? '',
    postLink: v.post_link ?? '',
  };
}

/**
 * Judge and summarise every unanalysed row of the main tab, many posts per
 * Gemini request, writing the analyses back in one request; then write the
 * run's draft from all analysed rows still in the main tab. A quota that will
 * not reset within this run stops it `partial`: what was analysed is kept,
 * no draft is written, and a resume picks up the rows still unanalysed.
 */
export async function analyzeSheetPosts(deps: AnalyzeDeps, input: StepInput): Promise<StepRecord> {
  const started = Date.now();
  const { run } = input;
  const { pipeline } = deps;
  const { mainTab, draftsTab } = pipeline.sheet;
  // One read: the main tab and the Drafts tab's run ids (Upload made sure both exist: no look first).
  const opened = await deps.sheet.openTabs(
    [
      { tab: mainTab, headers: MAIN_TAB_HEADERS },
      { tab: draftsTab, headers: DRAFTS_TAB_HEADERS },
    ],
    { tables: [mainTab], columns: [{ tab: draftsTab, header: 'run_id' }] },
  );
  const headers = opened.headers.get(mainTab) ?? [...MAIN_TAB_HEADERS];
  const table = opened.tables.get(mainTab) ?? { headers, rows: [] };
  const drafts = {
    tab: draftsTab,
    headers: opened.headers.get(draftsTab) ?? [...DRAFTS_TAB_HEADERS],
    runIds: opened.columns.get(draftsTab) ?? [],
  };
  const rows = table.rows.filter((r) => r.values[KEY_COLUMN]);
  // A dry run appended nothing: it analyses the run's posts the sheet does not hold yet as well, in memory.
  if (run.dryRun) rows.push(...(await postsNotInSheet(deps, input, rows)));
  const pending = rows.filter((r) => r.values.ai_processed !== PROCESSED);

  const settings = {
    model: pipeline.gemini.model,
    topic: pipeline.gemini.topic,
    language: pipeline.gemini.language,
    temperature: pipeline.gemini.temperature,
  };
  let requests = 0;
  let attempted = 0;
  let stopped: RateLimitedError | undefined;
  let outOfTime = false;
  let longestBatchMs = 0;
  // The moment by which this invocation must stop asking Gemini, keeping back the time to write back and record.
  const deadline = deps.remainingMs
    ? Date.now() + deps.remainingMs() - TIME_RESERVE_MS
    : Number.POSITIVE_INFINITY;
  const updates: RowUpdate[] = [];
  // The write-back waits for the draft row when the loop ends normally: both go in one request.
  let analysisDone = false;
  let writtenBack = false;
  const writeBack = async (draftRow: RowUpdate[] = []) => {
    const mainRows = writtenBack ? [] : updates;
    writtenBack = true;
    if (run.dryRun || (mainRows.length === 0 && draftRow.length === 0)) return;
    await deps.sheet.updateTabs([
      { tab: mainTab, headers, updates: mainRows },
      { tab: drafts.tab, headers: drafts.headers, updates: draftRow },
    ]);
  };
  try {
    for (let i = 0; i < pending.length; i += pipeline.gemini.batchSize) {
      // A busy day is more batches than one invocation can take: stop in time, keep what is done,
      // and let the state machine run the step again for the rest.
      if (Date.now() + longestBatchMs > deadline) {
        outOfTime = true;
        break;
      }
      const batchStarted = Date.now();
      const batch = pending.slice(i, i + pipeline.gemini.batchSize);
      let answers: PostAnalysis[];
      try {
        const answered = await beforeDeadline(
          deps.analyzer.analyzePosts(
            batch.map((r) => ({
              messageId: r.values.message_id ?? '',
              content: r.values.content ?? '',
              postLink: r.values.post_link ?? '',
              author: r.values.author ?? '',
            })),
            settings,
          ),
          deadline,
        );
        // A batch slower than the time left (a quota wait, a slow answer) is let go: nothing of it was written.
        if (answered === undefined) {
          outOfTime = true;
          break;
        }
        answers = answered;
      } catch (error) {
        if (!stoppedByQuota(error)) throw error;
        stopped = error;
        break;
      }
      requests += 1;
      attempted += batch.length;
      longestBatchMs = Math.max(longestBatchMs, Date.now() - batchStarted);
      const byId = new Map(answers.map((a) => [a.messageId, a]));
      for (const row of batch) {
        const answer = byId.get(row.values.message_id ?? '');
        if (!answer) continue;
        const analysis = {
          ai_processed: PROCESSED,
          is_new_project: String(answer.isNewProject),
          project_handle: answer.projectHandle,
          project_link: answer.projectLink,
          summary: answer.summary,
        };
        Object.assign(row.values, analysis);
        // Only the analysis cells: the row's other cells are the user's and stay as they are.
        updates.push({ rowNumber: row.rowNumber, values: analysis });
      }
    }
    analysisDone = !stopped && !outOfTime;
  } finally {
    // One write-back for all batches (Sheets allows 60 writes a minute), made even when a
    // later batch failed, so the analyses already paid for are kept.
    // A dry run writes nothing back: the next real run analyses the same rows.
    if (!analysisDone) await writeBack();
  }
  const analysed = updates.length;
  const projects = updates.filter((u) => u.values.is_new_project === 'true').length;
  const counts = { postsAnalysed: analysed, projectsFound: projects, geminiRequests: requests };
  if (stopped) {
    // No draft from half the posts: publish and archive wait for a succeeded analysis.
    deps.log('analysis stopped by a quota; resume after it resets', {
      postsRemaining: pending.length - attempted,
      resetAt: stopped.resetAt.toISOString(),
    });
    // retryAt: the run is resumed by itself at the reset (shared/pipeline/auto-resume.ts).
    return {
      ...partial(
        started,
        `analysis stopped by a quota, ${pending.length - attempted} posts left: ${stopped.message}`,
        { ...counts, postsRemaining: pending.length - attempted },
        { resetAt: stopped.resetAt.toISOString() },
      ),
      retryAt: stopped.resetAt.toISOString(),
    };
  }
  if (outOfTime) {
    const left = pending.length - attempted;
    deps.log('analysis continues in a new invocation', { postsRemaining: left });
    // waitSeconds sends the state machine round its Wait state straight back to this step.
    return {
      ...partial(started, `analysis continues: ${left} posts left when this invocation's time ran out`, {
        ...counts,
        postsRemaining: left,
      }),
      waitSeconds: 1,
    };
  }
  if (analysed < pending.length) {
    deps.log('some posts were not answered; they are analysed next run', {
      missing: pending.length - analysed,
    });
  }

  let draft = await loadDraft(deps.store, run.pipelineId, run.runId);
  if (draft) {
    deps.log('draft already written for this run; reusing it', { parts: draft.parts.length });
    await writeBack(draftRowFor(drafts, draft));
  } else {
    const ready = rows.filter((r) => r.values.ai_processed === PROCESSED).map(toAnalysis);
    if (ready.length === 0) {
      await writeBack();
      return succeeded(started, counts, { draft: 'none: no analysed posts' });
    }
    try {
      draft = await writeRunDraft(deps, run.runId, run.referenceTime, run.scheduleName, ready);
    } catch (error) {
      await writeBack();
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
    await writeBack(draftRowFor(drafts, draft));
  }
  const removed = draft.linksRemoved ?? [];
  return succeeded(
    started,
    { ...counts, geminiRequests: requests, draftParts: draft.parts.length, linksRemoved: removed.length },
    {
      draftKey: draftKeyOf(run.pipelineId, run.runId),
      ...draftRowNote(drafts, run.runId, run.dryRun),
      ...(removed.length ? { linksRemoved: removed.join(' ').slice(0, 500) } : {}),
    },
  );
}

/**
 * Where the run's Drafts row is, for Publish to mark without reading the tab
 * again; only while the tab keeps our column order, which Publish then relies on.
 */
function draftRowNote(
  drafts: { headers: readonly string[]; runIds: readonly string[] },
  runId: string,
  dryRun: boolean | undefined,
): { draftRow: string } | Record<string, never> {
  if (dryRun || !DRAFTS_TAB_HEADERS.every((h, i) => drafts.headers[i] === h)) return {};
  const index = drafts.runIds.indexOf(runId);
  return { draftRow: String(index < 0 ? drafts.runIds.length + 2 : index + 2) };
}

/** The run's collected posts that neither the main nor the Archive tab holds, as rows not yet analysed. */
async function postsNotInSheet(
  deps: AnalyzeDeps,
  input: StepInput,
  rows: readonly SheetRow[],
): Promise<SheetRow[]> {
  const csv = await readRunCsv(deps.store, input.run.pipelineId, csvRunOf(input));
  if (!csv) return [];
  const { archiveTab } = deps.pipeline.sheet;
  const archived = (await deps.sheet.readColumn([archiveTab], KEY_COLUMN)).get(archiveTab) ?? [];
  const known = new Set([...rows.map((r) => r.values[KEY_COLUMN] ?? ''), ...archived]);
  return csvToPosts(csv.text)
    .filter((post) => !known.has(post.messageId))
    .map((post, i) => ({ rowNumber: -(i + 1), values: { ...postToRecord(post), run_id: input.run.runId } }));
}

async function writeRunDraft(
  deps: AnalyzeDeps,
  runId: string,
  referenceTime: string,
  scheduleName: string | undefined,
  ready: (PostAnalysis & { postLink: string })[],
): Promise<StoredDraft> {
  const { pipeline } = deps;
  const single = pipeline.publisher.mode === 'single';
  const candidates = [...ready.filter((a) => a.isNewProject), ...ready.filter((a) => !a.isNewProject)].slice(
    0,
    DRAFT_CANDIDATES,
  );
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
  const allowed = new Set(ready.map((a) => canonicalPostLink(a.postLink)).filter(Boolean));
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
    messageIds: ready.map((a) => a.messageId),
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

/** The promise's value, or undefined once `deadline` (epoch ms) has passed first; the late answer is dropped. */
async function beforeDeadline<T>(promise: Promise<T>, deadline: number): Promise<T | undefined> {
  if (!Number.isFinite(deadline)) return promise;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), Math.max(0, deadline - Date.now()));
  });
  // A late failure must not surface as an unhandled rejection once nobody waits for it.
  promise.catch(() => undefined);
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
