import type { PipelineConfig } from '../config/schema';
import { archiveTabsIn, grownLayout } from '../domain/archive-tab';
import {
  ARCHIVE_TAB_HEADERS,
  DRAFTS_TAB_HEADERS,
  KEY_COLUMN,
  MAIN_TAB_HEADERS,
  postToRecord,
} from '../domain/post';
import type { ObjectStore, SheetStore, StepRecord } from '../ports';
import { readRunPosts, runPostsKey } from './collect';
import { type StepInput, skipped, stepOutcome, succeeded } from './run-state';

export interface UploadDeps {
  pipeline: PipelineConfig;
  store: ObjectStore;
  sheet: SheetStore;
  log: (message: string, data: Record<string, unknown>) => void;
}

/** The run whose CSV this run works on: itself, or the run it replays. */
export const csvRunOf = (input: StepInput) => input.run.sourceRunId ?? input.run.runId;

/**
 * Append the run's posts to the main tab, skipping every message id already in
 * the main or the Archive tab. The key columns are re-read on every attempt, so
 * a retry after an append whose answer was lost appends nothing twice.
 */
export async function appendNewPostsToSheet(deps: UploadDeps, input: StepInput): Promise<StepRecord> {
  const started = Date.now();
  const collect = stepOutcome(input, 'collect');
  if (!input.run.sourceRunId && collect?.status !== 'succeeded') {
    return skipped(started, 'collect did not succeed; rows already in the sheet are still analysed');
  }
  const source = csvRunOf(input);
  const postsKey = await runPostsKey(deps.store, input.run.pipelineId, source);
  if (!postsKey) return skipped(started, `no CSV for run ${source}`);

  const { sheet } = deps.pipeline;
  // One look at the spreadsheet (tabs, cells in use), then one read of every key column: the
  // main tab and each archive tab, rotated months included, so nothing archived comes back.
  const layout = await deps.sheet.layout();
  // A month's archive tab is added by Archive when it first moves rows there; the one tab of `none` is made here.
  const archiveTabs = [
    ...new Set([
      ...archiveTabsIn(layout, sheet.archiveTab),
      ...(sheet.archiveRotation === 'none' ? [sheet.archiveTab] : []),
    ]),
  ];
  const opened = await deps.sheet.openTabs(
    [
      { tab: sheet.mainTab, headers: MAIN_TAB_HEADERS },
      ...archiveTabs.map((tab) => ({ tab, headers: ARCHIVE_TAB_HEADERS })),
      // The Drafts tab too, so Analyze finds every tab in place and needs no look of its own.
      { tab: sheet.draftsTab, headers: DRAFTS_TAB_HEADERS },
    ],
    { columns: [sheet.mainTab, ...archiveTabs].map((tab) => ({ tab, header: KEY_COLUMN })) },
  );
  const mainTab = sheet.mainTab;
  const mainHeaders = opened.headers.get(mainTab) ?? [...MAIN_TAB_HEADERS];
  const known = new Set([...opened.columns.values()].flat().filter(Boolean));
  const mainRows = (opened.columns.get(mainTab) ?? []).length + 1;

  // The run's posts a chunk at a time, each fresh one handed to the append as it is read: the store sends
  // a request as each fills to the payload limit, so one request's rows are held, not the run's. A failure
  // midway leaves the rows sent so far: a retry re-reads the key columns and appends only the rest.
  let read = 0;
  let fresh = 0;
  async function* freshRows() {
    for await (const posts of readRunPosts(deps.store, input.run.pipelineId, source)) {
      for (const post of posts) {
        read += 1;
        if (known.has(post.messageId)) continue;
        known.add(post.messageId);
        fresh += 1;
        yield { ...postToRecord(post), run_id: input.run.runId };
      }
    }
  }
  if (input.run.dryRun) {
    // A dry run shows what it would append and appends nothing: the next real run must find the same work.
    for await (const _ of freshRows());
    return skipped(started, 'dry run: nothing appended', {
      rowsWouldAppend: fresh,
      duplicatesSkipped: read - fresh,
      sheetCellsUsed: grownLayout(layout, mainTab, mainRows, fresh, mainHeaders.length).cellsUsed,
    });
  }
  await deps.sheet.appendRows(mainTab, mainHeaders, freshRows());
  // The layout after this append, handed to Archive in the notes: it needs no look of its own.
  const after = grownLayout(await deps.sheet.layout(), mainTab, mainRows, fresh, mainHeaders.length);
  const cells = { sheetCellsUsed: after.cellsUsed };
  deps.log('rows appended', { appended: fresh, skipped: read - fresh });
  return succeeded(
    started,
    { rowsAppended: fresh, duplicatesSkipped: read - fresh, ...cells },
    { csvKey: postsKey, sheetLayout: JSON.stringify(after) },
  );
}
