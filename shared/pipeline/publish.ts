import type { PipelineConfig } from '../config/schema';
import type { ObjectStore, PublicationJournal, PublishedPart, Publisher, StepRecord } from '../ports';
import { loadDraft } from './analyze';
import { publishPartsOnce } from './journalled-publish';
import { partial, type StepInput, skipped, stepOutcome, succeeded } from './run-state';

export interface PublishDeps {
  pipeline: PipelineConfig;
  store: ObjectStore;
  journal: PublicationJournal;
  /** Undefined when the pipeline publishes nowhere. */
  publisher: () => Promise<Publisher | undefined>;
  log: (message: string, data: Record<string, unknown>) => void;
}

/**
 * Publish the run's draft at most once, whatever fails, through the
 * publication journal (journalled-publish.ts); a part whose outcome only the
 * operator can settle leaves the step partial with the two commands that do.
 */
export async function publishRunDraft(deps: PublishDeps, input: StepInput): Promise<StepRecord> {
  const started = Date.now();
  const { run } = input;
  const analyze = stepOutcome(input, 'analyze');
  if (analyze?.status !== 'succeeded')
    return skipped(started, 'analysis did not succeed: nothing to publish');
  // With review: approve, only an approved draft goes out; rejected or expired, nothing does.
  const review = stepOutcome(input, 'review');
  if (review && review.status !== 'succeeded')
    return skipped(
      started,
      `not approved: ${review.error?.message ?? review.notes?.reason ?? review.status}`,
    );
  const draft = await loadDraft(deps.store, run.pipelineId, run.runId);
  if (!draft || draft.parts.length === 0) return skipped(started, 'no draft for this run');

  const settings = deps.pipeline.publisher;
  const publisher =
    settings.kind === 'none' || run.dryRun || settings.dryRun ? undefined : await deps.publisher();
  // The run's Drafts row is marked by Archive, in its one batchUpdate: Publish sends Sheets nothing.
  if (!publisher) {
    const reason =
      settings.kind === 'none' ? 'publisher is none: draft kept' : 'dry run: draft kept, not published';
    return skipped(started, reason, { draftParts: draft.parts.length });
  }

  const outcome = await publishPartsOnce(
    { journal: deps.journal, publisher: async () => publisher, log: deps.log },
    run.pipelineId,
    run.runId,
    draft.parts,
  );
  if (outcome.status === 'unknown') {
    return partial(
      started,
      unknownOutcomeReason(run.runId, outcome.kind, outcome.index, outcome.units, outcome.reason),
      { partsPublished: outcome.calls, partsUnknown: 1 },
      publishedNotes(outcome.published, outcome.kind),
    );
  }
  if (outcome.alreadyComplete) {
    deps.log('draft already published for this run', { parts: outcome.published.length });
    return succeeded(started, { partsPublished: 0 }, publishedNotes(outcome.published, 'already published'));
  }
  return succeeded(
    started,
    { partsPublished: outcome.calls },
    publishedNotes(outcome.published, publisher.kind),
  );
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
