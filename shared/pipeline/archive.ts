import { processedPrefix } from '../config/resources';
import type { PipelineConfig } from '../config/schema';
import { archiveTabFor, archiveTabsIn, grownLayout, layoutFromNotes } from '../domain/archive-tab';
import { ARCHIVE_TAB_HEADERS, KEY_COLUMN, MAIN_TAB_HEADERS } from '../domain/post';
import { FIRST_WINDOW_ROWS } from '../domain/sheet-payload';
import type { ObjectStore, SheetStore, StepRecord } from '../ports';
import { loadDraft } from './analyze';
import { makeArchiveRoom } from './archive-rotation';
import { chunkFilesOf, csvKeyOf, rawKeyOf } from './collect';
import { type StepInput, skipped, stepOutcome, succeeded } from './run-state';
import { tabRows } from './tab-windows';
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
 * Move the rows the run's draft covers from the main tab to the Archive tab in
 * one atomic batchUpdate, keyed by message id: a row already archived is only
 * deleted from the main tab, so a re-run after a crash anywhere neither loses
 * nor duplicates a row. Then move the run's files under processed/.
 */
export async function archiveProcessedRows(deps: ArchiveDeps, input: StepInput): Promise<StepRecord> {
  const started = Date.now();
  const { run } = input;
  const { mainTab } = deps.pipeline.sheet;
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
  // One look (sheet ids, cells in use), one read (the main tab's keys and its first window of rows, the
  // archive tabs' keys), one move. The rows are moved with the values the sheet holds, not rebuilt from
  // the run's files: the draft covers earlier runs' rows too, and a user may have edited any cell since.
  // A main tab longer than a window is read a window at a time, each sent on to the move as it is read.
  const layout = await deps.sheet.layout(layoutFromNotes(stepOutcome(input, 'upload')?.notes?.sheetLayout));
  const archiveTab = archiveTabFor(deps.pipeline.sheet, deps.now());
  const archiveTabs = archiveTabsIn(layout, deps.pipeline.sheet.archiveTab);
  // The main tab is named with its headers so its key column's place is known before its header row
  // is read (Upload made sure of them): no second read.
  const opened = await deps.sheet.openTabs(
    [
      { tab: mainTab, headers: MAIN_TAB_HEADERS },
      ...(archiveTabs.includes(archiveTab) ? [{ tab: archiveTab, headers: ARCHIVE_TAB_HEADERS }] : []),
    ],
    {
      columns: [mainTab, ...archiveTabs].map((tab) => ({ tab, header: KEY_COLUMN })),
      window: { tab: mainTab, rows: FIRST_WINDOW_ROWS },
    },
  );
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
  let appendedRows = 0;
  for (const id of mainKeys) if (covered.has(id) && !alreadyArchived.has(id)) appendedRows += 1;
  const archiveRow = opened.column(archiveTab, KEY_COLUMN).length + 1;
  // Checked before Google's own 400 at 10 million: old months move out first, or nothing moves at all.
  const { maxCells } = deps.pipeline.sheet;
  const room = await makeArchiveRoom(
    deps.sheet,
    deps.pipeline.sheet,
    layout,
    archiveTab,
    grownLayout(layout, archiveTab, archiveRow, appendedRows, archiveHeaders.length).cellsUsed,
  );
  const { cellsAfter } = room;

  const headers = opened.headers.get(mainTab) ?? [];
  const keyIndex = headers.indexOf(KEY_COLUMN);
  const processedAt = deps.now().toISOString();
  const mover = deps.sheet.rowMover(mainTab, archiveTab, archiveHeaders);
  let moved = 0;
  let appended = 0;
  // Without a key column no row is the draft's: nothing to read past the first window.
  const rows =
    keyIndex < 0
      ? []
      : tabRows(deps.sheet, mainTab, opened.window, mainKeys.length + 1, () => mover.rowsDeleted);
  for await (const { rowNumber, cells } of rows) {
    const id = cells[keyIndex] ?? '';
    if (!covered.has(id)) continue;
    const archive = !alreadyArchived.has(id);
    await mover.add({
      rowNumber,
      archiveValues: archive
        ? {
            ...Object.fromEntries(headers.map((h, j) => [h, cells[j] ?? ''])),
            date_processed: processedAt,
            x_post_url: postUrl,
            processing_status: status,
          }
        : undefined,
    });
    moved += 1;
    if (archive) appended += 1;
  }
  await mover.close();

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
