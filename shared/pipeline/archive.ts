import { processedPrefix } from '../config/resources';
import type { PipelineConfig } from '../config/schema';
import { ARCHIVE_TAB_HEADERS, KEY_COLUMN } from '../domain/post';
import type { ArchiveMove, ObjectStore, SheetStore, StepRecord } from '../ports';
import { loadDraft } from './analyze';
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
  const { mainTab, archiveTab } = deps.pipeline.sheet;
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
  const archiveHeaders = await deps.sheet.ensureTab(archiveTab, ARCHIVE_TAB_HEADERS);
  const [table, archived] = await Promise.all([
    deps.sheet.readTable(mainTab),
    deps.sheet.readColumn([archiveTab], KEY_COLUMN),
  ]);
  const alreadyArchived = new Set(archived.get(archiveTab) ?? []);
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
    { rowsArchived: moves.length, alreadyInArchive: moves.length - appended },
    { processingStatus: status, processedPrefix: prefix },
  );
}
