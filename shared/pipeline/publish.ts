import type { PipelineConfig } from '../config/schema';
import { DRAFTS_TAB_HEADERS } from '../domain/post';
import { DuplicatePostError, UnknownOutcomeError } from '../errors';
import type {
  ObjectStore,
  PublicationJournal,
  PublishedPart,
  Publisher,
  PublishUnit,
  SheetStore,
  StepRecord,
} from '../ports';
import { loadDraft } from './analyze';
import { partial, type StepInput, skipped, stepOutcome, succeeded } from './run-state';

export interface PublishDeps {
  pipeline: PipelineConfig;
  store: ObjectStore;
  sheet: SheetStore;
  journal: PublicationJournal;
  /** Undefined when the pipeline publishes nowhere. */
  publisher: () => Promise<Publisher | undefined>;
  log: (message: string, data: Record<string, unknown>) => void;
}

/**
 * Publish the run's draft at most once, whatever fails. Each part's attempt is
 * journalled before the call and confirmed after it; an attempt found
 * unconfirmed (a timeout, a crash after sending) is first looked for on the
 * account and adopted if there, so a retry never posts twice. A thread
 * interrupted after part k resumes at part k+1, replying to part k.
 */
export async function publishRunDraft(deps: PublishDeps, input: StepInput): Promise<StepRecord> {
  const started = Date.now();
  const { run } = input;
  const analyze = stepOutcome(input, 'analyze');
  if (analyze?.status !== 'succeeded')
    return skipped(started, 'analysis did not succeed: nothing to publish');
  const draft = await loadDraft(deps.store, run.pipelineId, run.runId);
  if (!draft || draft.parts.length === 0) return skipped(started, 'no draft for this run');

  const settings = deps.pipeline.publisher;
  const { draftsTab } = deps.pipeline.sheet;
  const publisher =
    settings.kind === 'none' || run.dryRun || settings.dryRun ? undefined : await deps.publisher();
  if (!publisher) {
    const reason =
      settings.kind === 'none' ? 'publisher is none: draft kept' : 'dry run: draft kept, not published';
    // A dry run recorded no draft row; a real run without a publisher marks its own.
    if (!run.dryRun)
      await updateDraftRow(
        deps.sheet,
        draftsTab,
        run.runId,
        { status: 'not-published' },
        analyze.notes?.draftRow,
      );
    return skipped(started, reason, { draftParts: draft.parts.length });
  }

  let record = await deps.journal.begin(run.pipelineId, run.runId, draft.parts);
  if (record.status === 'completed') {
    deps.log('draft already published for this run', { parts: record.published.length });
    return succeeded(started, { partsPublished: 0 }, publishedNotes(record.published, 'already published'));
  }
  // Typefully takes the whole thread in one call; X one part per call.
  const units = publisher.takesWholeThread ? [record.parts] : record.parts.map((p) => [p]);
  const waiting = (index: number, reason: string) =>
    partial(
      started,
      unknownOutcomeReason(run.runId, publisher.kind, index, units.length, reason),
      { partsPublished: calls, partsUnknown: 1 },
      publishedNotes(record.published, publisher.kind),
    );
  let calls = 0;
  if (record.status === 'unknown') {
    // The operator has not said yet: looking again would be refused again, posting could duplicate.
    return waiting(record.attempting ?? record.published.length, record.unknownReason ?? 'unknown outcome');
  }
  for (let index = record.published.length; index < units.length; index += 1) {
    const unit: PublishUnit = {
      pipelineId: run.pipelineId,
      runId: run.runId,
      index,
      parts: units[index] ?? [],
      ...(record.published[index - 1] ? { replyTo: record.published[index - 1]?.id } : {}),
    };
    if (record.attempting === index) {
      const lookup = await publisher.findPublished(unit);
      if (lookup.status === 'found') {
        deps.log('unconfirmed post found on the account; adopting it', { index, id: lookup.part.id });
        await deps.journal.confirmPart(run.pipelineId, run.runId, index, lookup.part);
        record = { ...record, published: [...record.published, lookup.part] };
        continue;
      }
      if (lookup.status === 'refused') {
        // Neither retry blindly (a duplicate) nor stall: park it for the operator.
        deps.log('unknown outcome and the account cannot be read', { index, reason: lookup.reason });
        await deps.journal.markUnknown(run.pipelineId, run.runId, index, lookup.reason);
        return waiting(index, lookup.reason);
      }
    }
    await deps.journal.markAttempt(run.pipelineId, run.runId, index);
    let part: PublishedPart;
    try {
      calls += 1;
      part = await publisher.publish(unit);
    } catch (error) {
      if (error instanceof UnknownOutcomeError) throw error; // the next attempt looks first
      if (!(error instanceof DuplicatePostError)) {
        // The API answered with a refusal: nothing went out, nothing to look for next time.
        await deps.journal.clearAttempt(run.pipelineId, run.runId, index);
        throw error;
      }
      // The account already has this text: most likely our own earlier attempt.
      const lookup = await publisher.findPublished(unit);
      if (lookup.status !== 'found') {
        await deps.journal.clearAttempt(run.pipelineId, run.runId, index);
        throw error;
      }
      part = lookup.part;
    }
    await deps.journal.confirmPart(run.pipelineId, run.runId, index, part);
    record = { ...record, published: [...record.published, part] };
  }
  await deps.journal.complete(run.pipelineId, run.runId);
  const firstPart = record.published[0];
  await updateDraftRow(
    deps.sheet,
    draftsTab,
    run.runId,
    {
      status: 'published',
      post_id: firstPart?.id ?? '',
      post_url: firstPart?.url ?? '',
    },
    analyze.notes?.draftRow,
  );
  return succeeded(started, { partsPublished: calls }, publishedNotes(record.published, publisher.kind));
}

/** One line for the operator: what is unknown, why, and the two commands that settle it. */
function unknownOutcomeReason(
  runId: string,
  kind: string,
  index: number,
  total: number,
  why: string,
): string {
  const what = total > 1 ? `part ${index + 1}/${total}` : 'the post';
  return (
    `${kind}: ${what} may or may not be published and the account cannot be read (${why}); ` +
    `look on the account, then run "npm run digest -- publish confirm ${runId} <postId>" if it is there ` +
    `or "npm run digest -- publish retry ${runId}" if it is not, and resume the run`
  );
}

function publishedNotes(parts: readonly PublishedPart[], via: string): Record<string, string> {
  return { postId: parts[0]?.id ?? '', postUrl: parts[0]?.url ?? '', parts: String(parts.length), via };
}

async function updateDraftRow(
  sheet: SheetStore,
  tab: string,
  runId: string,
  values: Record<string, string>,
  draftRow: string | undefined,
): Promise<void> {
  // Analyze wrote the row this run and noted where (only while the tab keeps our column order): one write.
  if (draftRow && /^\d+$/.test(draftRow)) {
    await sheet.updateRows(tab, DRAFTS_TAB_HEADERS, [{ rowNumber: Number(draftRow), values }]);
    return;
  }
  // One read (headers and run ids together, no look at the spreadsheet first), one write.
  const opened = await sheet.openTabs([{ tab, headers: DRAFTS_TAB_HEADERS }], {
    columns: [{ tab, header: 'run_id' }],
  });
  const headers = opened.headers.get(tab) ?? [...DRAFTS_TAB_HEADERS];
  const ids = opened.columns.get(tab) ?? [];
  const index = ids.lastIndexOf(runId);
  if (index < 0) return;
  // Data row i is sheet row i + 2 (row 1 holds the headers).
  await sheet.updateRows(tab, headers, [{ rowNumber: index + 2, values }]);
}
