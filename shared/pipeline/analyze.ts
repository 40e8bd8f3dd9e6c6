import { runPrefix } from '../config/resources';
import type { PipelineConfig } from '../config/schema';
import { DRAFTS_TAB_HEADERS, KEY_COLUMN, MAIN_TAB_HEADERS, type PostAnalysis } from '../domain/post';
import { fitSinglePost, MAX_POST_LENGTH, splitIntoThread } from '../domain/tweet-length';
import type { Analyzer, ObjectStore, RowUpdate, SheetRow, SheetStore, StepRecord } from '../ports';
import { type StepInput, succeeded } from './run-state';

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
}

export const draftKeyOf = (pipelineId: string, runId: string) => `${runPrefix(pipelineId, runId)}draft.json`;

const PROCESSED = 'yes';
/** Upper bound of items handed to the draft request, to keep the prompt small. */
const DRAFT_CANDIDATES = 50;
const THREAD_TARGET_LENGTH = 1100;

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
 * Gemini request, writing each batch back as it completes; then write the
 * run's draft from all analysed rows still in the main tab.
 */
export async function analyzeSheetPosts(deps: AnalyzeDeps, input: StepInput): Promise<StepRecord> {
  const started = Date.now();
  const { run } = input;
  const { pipeline } = deps;
  const { mainTab, draftsTab } = pipeline.sheet;
  const headers = await deps.sheet.ensureTab(mainTab, MAIN_TAB_HEADERS);
  const table = await deps.sheet.readTable(mainTab);
  const rows = table.rows.filter((r) => r.values[KEY_COLUMN]);
  const pending = rows.filter((r) => r.values.ai_processed !== PROCESSED);

  const settings = {
    model: pipeline.gemini.model,
    topic: pipeline.gemini.topic,
    language: pipeline.gemini.language,
    temperature: pipeline.gemini.temperature,
  };
  let requests = 0;
  const updates: RowUpdate[] = [];
  try {
    for (let i = 0; i < pending.length; i += pipeline.gemini.batchSize) {
      const batch = pending.slice(i, i + pipeline.gemini.batchSize);
      const answers = await deps.analyzer.analyzePosts(
        batch.map((r) => ({
          messageId: r.values.message_id ?? '',
          content: r.values.content ?? '',
          postLink: r.values.post_link ?? '',
          author: r.values.author ?? '',
        })),
        settings,
      );
      requests += 1;
      const byId = new Map(answers.map((a) => [a.messageId, a]));
      for (const row of batch) {
        const answer = byId.get(row.values.message_id ?? '');
        if (!answer) continue;
        Object.assign(row.values, {
          ai_processed: PROCESSED,
          is_new_project: String(answer.isNewProject),
          project_handle: answer.projectHandle,
          project_link: answer.projectLink,
          summary: answer.summary,
        });
        updates.push({ rowNumber: row.rowNumber, values: row.values });
      }
    }
  } finally {
    // One write-back for all batches (Sheets allows 60 writes a minute), made even when a
    // later batch failed, so the analyses already paid for are kept.
    if (updates.length > 0) await deps.sheet.updateRows(mainTab, headers, updates);
  }
  const analysed = updates.length;
  const projects = updates.filter((u) => u.values.is_new_project === 'true').length;
  if (analysed < pending.length) {
    deps.log('some posts were not answered; they are analysed next run', {
      missing: pending.length - analysed,
    });
  }

  let draft = await loadDraft(deps.store, run.pipelineId, run.runId);
  if (draft) {
    deps.log('draft already written for this run; reusing it', { parts: draft.parts.length });
  } else {
    const ready = rows.filter((r) => r.values.ai_processed === PROCESSED).map(toAnalysis);
    if (ready.length === 0) {
      return succeeded(
        started,
        { postsAnalysed: analysed, projectsFound: projects, geminiRequests: requests },
        {
          draft: 'none: no analysed posts',
        },
      );
    }
    draft = await writeRunDraft(deps, run.runId, run.referenceTime, ready);
    requests += 1;
    await recordDraftRow(deps.sheet, draftsTab, draft);
  }
  return succeeded(
    started,
    {
      postsAnalysed: analysed,
      projectsFound: projects,
      geminiRequests: requests,
      draftParts: draft.parts.length,
    },
    { draftKey: draftKeyOf(run.pipelineId, run.runId) },
  );
}

async function writeRunDraft(
  deps: AnalyzeDeps,
  runId: string,
  referenceTime: string,
  ready: (PostAnalysis & { postLink: string })[],
): Promise<StoredDraft> {
  const { pipeline } = deps;
  const single = pipeline.publisher.mode === 'single';
  const candidates = [...ready.filter((a) => a.isNewProject), ...ready.filter((a) => !a.isNewProject)].slice(
    0,
    DRAFT_CANDIDATES,
  );
  const timeZone = pipeline.schedules[0]?.timeZone ?? 'UTC';
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
  const draft: StoredDraft = {
    runId,
    createdAt: new Date().toISOString(),
    draft: text,
    parts: single
      ? [fitSinglePost(text)]
      : splitIntoThread(text, { maxParts: pipeline.publisher.maxThreadParts }),
    messageIds: ready.map((a) => a.messageId),
  };
  const key = draftKeyOf(pipeline.id, runId);
  if (!(await deps.store.putIfAbsent(key, JSON.stringify(draft), 'application/json'))) {
    // A concurrent attempt stored its draft first: that one is the run's draft.
    const stored = await loadDraft(deps.store, pipeline.id, runId);
    if (stored) return stored;
  }
  return draft;
}

/** One row per run in the Drafts tab; skipped when a retry finds it there already. */
async function recordDraftRow(sheet: SheetStore, tab: string, draft: StoredDraft): Promise<void> {
  const headers = await sheet.ensureTab(tab, DRAFTS_TAB_HEADERS);
  const existing = (await sheet.readColumn([tab], 'run_id')).get(tab) ?? [];
  if (existing.includes(draft.runId)) return;
  await sheet.appendRows(tab, headers, [
    {
      run_id: draft.runId,
      created_at: draft.createdAt,
      draft: draft.parts.join('\n\n'),
      parts: String(draft.parts.length),
      status: 'drafted',
    },
  ]);
}
