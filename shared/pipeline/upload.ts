import type { PipelineConfig } from '../config/schema';
import { ARCHIVE_TAB_HEADERS, KEY_COLUMN, MAIN_TAB_HEADERS, postToRecord } from '../domain/post';
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

  const { mainTab, archiveTab } = deps.pipeline.sheet;
  const mainHeaders = await deps.sheet.ensureTab(mainTab, MAIN_TAB_HEADERS);
  await deps.sheet.ensureTab(archiveTab, ARCHIVE_TAB_HEADERS);
  const columns = await deps.sheet.readColumn([mainTab, archiveTab], KEY_COLUMN);
  const known = new Set([...columns.values()].flat().filter(Boolean));

  // The run's posts a chunk at a time: only the rows to append are held, not the posts read.
  const fresh = [];
  let read = 0;
  for await (const posts of readRunPosts(deps.store, input.run.pipelineId, source)) {
    for (const post of posts) {
      read += 1;
      if (known.has(post.messageId)) continue;
      known.add(post.messageId);
      fresh.push({ ...postToRecord(post), run_id: input.run.runId });
    }
  }
  if (input.run.dryRun) {
    // A dry run shows what it would append and appends nothing: the next real run must find the same work.
    return skipped(started, 'dry run: nothing appended', {
      rowsWouldAppend: fresh.length,
      duplicatesSkipped: read - fresh.length,
    });
  }
  if (fresh.length > 0) await deps.sheet.appendRows(mainTab, mainHeaders, fresh);
  deps.log('rows appended', { appended: fresh.length, skipped: read - fresh.length });
  return succeeded(
    started,
    { rowsAppended: fresh.length, duplicatesSkipped: read - fresh.length },
    { csvKey: postsKey },
  );
}
