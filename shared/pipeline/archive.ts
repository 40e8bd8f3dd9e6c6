import { processedPrefix } from '../config/resources';
import type { PipelineConfig } from '../config/schema';
import { archiveTabFor, archiveTabsIn, grownLayout, layoutFromNotes } from '../domain/archive-tab';
import { ARCHIVE_TAB_HEADERS, KEY_COLUMN } from '../domain/post';
import type { ArchiveMove, ObjectStore, SheetStore, StepRecord } from '../ports';
import { loadDraft } from './analyze';
import { makeArchiveRoom } from './archive-rotation';
import { csvKeyOf, rawKeyOf } from './collect';
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
  // One look (sheet ids, cells in use), one read (the main tab, the archive tabs' keys), one move.
  const layout = await deps.sheet.layout(layoutFromNotes(stepOutcome(input, 'upload')?.notes?.sheetLayout));
  const archiveTab = archiveTabFor(deps.pipeline.sheet, deps.now());
  const archiveTabs = archiveTabsIn(layout, deps.pipeline.sheet.archiveTab);
  const opened = await deps.sheet.openTabs(
    archiveTabs.includes(archiveTab) ? [{ tab: archiveTab, headers: ARCHIVE_TAB_HEADERS }] : [],
    { tables: [mainTab], columns: archiveTabs.map((tab) => ({ tab, header: KEY_COLUMN })) },
  );
  // A month's first run: moveRows adds the new tab in its own atomic batchUpdate.
  const archiveHeaders = opened.headers.get(archiveTab) ?? [...ARCHIVE_TAB_HEADERS];
  const table = opened.tables.get(mainTab) ?? { headers: [], rows: [] };
  const alreadyArchived = new Set(archiveTabs.flatMap((tab) => opened.columns.get(tab) ?? []));
  const processedAt = deps.now().toISOString();
  const moves: ArchiveMove[] = table.rows
    .filter((row) => covered.has(row.values[KEY_COLUMN] ?? ''))
    .map((row) => ({
      rowNumber: row.rowNumber,
      archiveValues: alreadyArchived.has(row.values[KEY_COLUMN] ?? '')
        ? undefined
        : { ...row.values, date_processed: processedAt, x_post_url: postUrl, processing_status: status },
    }));
  if (run.dryRun) {
    // A dry run shows what it would archive and moves nothing: the next real run must find every row where
    // it was. Its draft covers posts a dry run never appended, so count by message id, not by row.
    return skipped(started, 'dry run: nothing archived', {
      rowsWouldArchive: draft.messageIds.filter((id) => !alreadyArchived.has(id)).length,
    });
  }
  const archiveRow = (opened.columns.get(archiveTab) ?? []).length + 1;
  const appendedRows = moves.filter((m) => m.archiveValues).length;
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
  if (moves.length > 0) await deps.sheet.moveRows(mainTab, archiveTab, archiveHeaders, moves);

  const sourceRun = csvRunOf(input);
  const prefix = processedPrefix(run.pipelineId, sourceRun);
  for (const key of [csvKeyOf(run.pipelineId, sourceRun), rawKeyOf(run.pipelineId, sourceRun)]) {
    await deps.store.move(key, `${prefix}${key.split('/').pop()}`);
  }
  const appended = moves.filter((m) => m.archiveValues).length;
  deps.log('rows archived', { moved: moves.length, appended });
  return succeeded(
    started,
    {
      rowsArchived: moves.length,
      alreadyInArchive: moves.length - appended,
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
