import { processedPrefix } from '../config/resources';
import type { PipelineConfig } from '../config/schema';
import { archiveTabFor, archiveTabsIn, grownLayout, layoutFromNotes } from '../domain/archive-tab';
import { ARCHIVE_TAB_HEADERS, DRAFTS_TAB_HEADERS, KEY_COLUMN, MAIN_TAB_HEADERS } from '../domain/post';
import type { ObjectStore, SheetStore, StepRecord, TabUpdate } from '../ports';
import { loadDraft } from './analyze';
import { makeArchiveRoom } from './archive-rotation';
import { chunkFilesOf, csvKeyOf, rawKeyOf } from './collect';
import { type StepInput, skipped, stepOutcome, succeeded } from './run-state';
import { csvRunOf } from './upload';

export interface ArchiveDeps {
  pipeline: PipelineConfig;
  store: ObjectStore;
  sheet: SheetStore;
  now: () => Date;
  log: (message: string, data: Record<string, unknown>) => void;
}

/** How the archived rows were published, written to the Archive tab's processing_status. */
function processingStatus(input: StepInput, archiveUnpublished: boolean): string | undefined {
  const publish = stepOutcome(input, 'publish');
  if (publish?.status === 'succeeded') return 'published';
  if (publish?.status === 'skipped') return 'not-published';
  return archiveUnpublished ? 'unpublished' : undefined;
}

/**
 * The run's Drafts row once Publish is done: published (with the first post) or kept. A publish that
 * failed leaves the row as Analyze wrote it.
 */
function draftStatus(
  status: string,
  notes: Readonly<Record<string, string>> | undefined,
): Record<string, string> | undefined {
  if (status === 'published') return { status, post_id: notes?.postId ?? '', post_url: notes?.postUrl ?? '' };
  return status === 'not-published' ? { status } : undefined;
}

/**
 * Move the rows the run's draft covers from the main tab to the Archive tab in
 * one atomic batchUpdate, keyed by message id: a row already archived is only
 * deleted from the main tab, so a re-run after a crash anywhere neither loses
 * nor duplicates a row. The run's Drafts row is marked in the same batchUpdate
 * (Publish writes no request of its own). Then move the run's files under processed/.
 */
export async function archiveProcessedRows(deps: ArchiveDeps, input: StepInput): Promise<StepRecord> {
  const started = Date.now();
  const { run } = input;
  const { mainTab, draftsTab } = deps.pipeline.sheet;
  if (stepOutcome(input, 'analyze')?.status !== 'succeeded') {
    return skipped(started, 'analysis did not succeed: nothing unanalysed is archived');
  }
  // A draft that was not approved stays in the main tab: the next run's draft may take its rows.
  const review = stepOutcome(input, 'review');
  if (review && review.status !== 'succeeded')
    return skipped(started, 'the draft was not approved: rows stay for the next run');
  const status = processingStatus(input, deps.pipeline.publisher.archiveUnpublished);
  if (!status)
    return skipped(started, 'publishing failed and archiveUnpublished is off: rows stay for the next run');
  const draft = await loadDraft(deps.store, run.pipelineId, run.runId);
  if (!draft) return skipped(started, 'no draft for this run: nothing to archive');

  const publish = stepOutcome(input, 'publish');
  const postUrl = publish?.notes?.postUrl ?? '';
  const covered = new Set(draft.messageIds);
  // One look (sheet ids, cells in use), one read (the key columns of the main and the archive tabs, the
  // Drafts tab's run ids), one move. The server moves the rows with the values the sheet holds, not
  // rebuilt from the run's files: the draft covers earlier runs' rows too, and a user may have edited
  // any cell since.
  const layout = await deps.sheet.layout(layoutFromNotes(stepOutcome(input, 'upload')?.notes?.sheetLayout));
  const archiveTab = archiveTabFor(deps.pipeline.sheet, deps.now());
  const archiveTabs = archiveTabsIn(layout, deps.pipeline.sheet.archiveTab);
  // A Drafts tab someone deleted is not made again here: there is no row of the run's to mark in it.
  const hasDrafts = layout.tabs.some((t) => t.title === draftsTab);
  const marked = run.dryRun || !hasDrafts ? undefined : draftStatus(status, publish?.notes);
  // The main tab is named with its headers so its key column's place is known before its header row
  // is read (Upload made sure of them): no second read.
  const opened = await deps.sheet.openTabs(
    [
      { tab: mainTab, headers: MAIN_TAB_HEADERS },
      ...(archiveTabs.includes(archiveTab) ? [{ tab: archiveTab, headers: ARCHIVE_TAB_HEADERS }] : []),
      ...(marked ? [{ tab: draftsTab, headers: DRAFTS_TAB_HEADERS }] : []),
    ],
    {
      columns: [
        ...[mainTab, ...archiveTabs].map((tab) => ({ tab, header: KEY_COLUMN })),
        ...(marked ? [{ tab: draftsTab, header: 'run_id' }] : []),
      ],
    },
  );
  // The run's own Drafts row, as the sheet holds it now (a user may have sorted the tab since Analyze).
  const draftIndex = opened.column(draftsTab, 'run_id').lastIndexOf(run.runId);
  const writes: TabUpdate[] =
    marked && draftIndex >= 0
      ? [
          {
            tab: draftsTab,
            headers: opened.headers.get(draftsTab) ?? [...DRAFTS_TAB_HEADERS],
            // Data row i is sheet row i + 2 (row 1 holds the headers).
            updates: [{ rowNumber: draftIndex + 2, values: marked }],
          },
        ]
      : [];
  // A month's first run: the move adds the new tab in its first atomic batchUpdate.
  const archiveHeaders = opened.headers.get(archiveTab) ?? [...ARCHIVE_TAB_HEADERS];
  const alreadyArchived = new Set(archiveTabs.flatMap((tab) => opened.column(tab, KEY_COLUMN)));
  if (run.dryRun) {
    // A dry run shows what it would archive and moves nothing: the next real run must find every row where
    // it was. Its draft covers posts a dry run never appended, so count by message id, not by row.
    return skipped(started, 'dry run: nothing archived', {
      rowsWouldArchive: draft.messageIds.filter((id) => !alreadyArchived.has(id)).length,
    });
  }
  const mainKeys = opened.column(mainTab, KEY_COLUMN);
  // Rows by their key (row 2 on): the draft's rows not archived yet move, those archived already are
  // only deleted (a re-run after a crash), every other row stays.
  const rows: number[] = [];
  const drop: number[] = [];
  mainKeys.forEach((id, i) => {
    if (!covered.has(id)) return;
    (alreadyArchived.has(id) ? drop : rows).push(i + 2);
  });
  const archiveRow = opened.column(archiveTab, KEY_COLUMN).length + 2;
  // Checked before Google's own 400 at 10 million: old months move out first, or nothing moves at all.
  // The move inserts its rows into the archive's grid after its last message: the grid grows by as many.
  const { maxCells } = deps.pipeline.sheet;
  // A month's new tab comes with Google's 1000 rows, and the move's rows are inserted on top of them.
  const archiveGrid = layout.tabs.find((t) => t.title === archiveTab)?.rowCount ?? 1000;
  const room = await makeArchiveRoom(
    deps.sheet,
    deps.pipeline.sheet,
    layout,
    archiveTab,
    grownLayout(layout, archiveTab, Math.max(archiveGrid, archiveRow - 1), rows.length, archiveHeaders.length)
      .cellsUsed,
  );
  const { cellsAfter } = room;

  await deps.sheet.moveRows({
    mainTab,
    mainHeaders: opened.headers.get(mainTab) ?? [],
    archiveTab,
    archiveHeaders,
    archiveRow,
    rows,
    drop,
    stamp: { date_processed: deps.now().toISOString(), x_post_url: postUrl, processing_status: status },
    writes,
  });
  const appended = rows.length;
  const moved = rows.length + drop.length;

  const sourceRun = csvRunOf(input);
  const prefix = processedPrefix(run.pipelineId, sourceRun);
  for (const key of [csvKeyOf(run.pipelineId, sourceRun), rawKeyOf(run.pipelineId, sourceRun)]) {
    await deps.store.move(key, `${prefix}${key.split('/').pop()}`);
  }
  // The run's chunks too (raw messages among them): after Archive nothing of the run's posts stays under runs/.
  for (const key of await chunkFilesOf(deps.store, run.pipelineId, sourceRun)) {
    await deps.store.move(key, `${prefix}chunks/${key.split('/').pop()}`);
  }
  deps.log('rows archived', { moved, appended });
  return succeeded(
    started,
    {
      rowsArchived: moved,
      alreadyInArchive: moved - appended,
      sheetCellsUsed: cellsAfter,
      sheetCellLimit: maxCells,
      archiveTabsMovedOut: room.moved.length,
    },
    {
      processingStatus: status,
      processedPrefix: prefix,
      archiveTab,
      ...(room.moved.length > 0
        ? { movedOut: `${room.moved.join(', ')} → ${deps.pipeline.sheet.archiveSpreadsheetId}` }
        : {}),
    },
  );
}
