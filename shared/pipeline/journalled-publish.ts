/**
 * The one protocol that puts parts on an account at most once, shared by the
 * daily draft (publish.ts) and one-off posts (one-off-post.ts). Each part's
 * attempt is journalled before the call and confirmed after it; an attempt
 * found unconfirmed (a timeout, a crash after sending) is first looked for on
 * the account and adopted if there, so a retry never posts twice. A thread
 * interrupted after part k resumes at part k+1, replying to part k.
 */
import { DuplicatePostError, UnknownOutcomeError } from '../errors';
import type { PublicationJournal, PublishedPart, Publisher, PublishUnit } from '../ports';

export type JournalledOutcome =
  | {
      status: 'published';
      published: PublishedPart[];
      /** Calls made by this attempt (0 when an earlier one had finished). */
      calls: number;
      alreadyComplete: boolean;
    }
  | {
      /** A part may or may not be out and the account cannot be read: only the operator can say. */
      status: 'unknown';
      index: number;
      /** How many publish calls the whole publication takes (one per part, or one for a whole thread). */
      units: number;
      reason: string;
      published: PublishedPart[];
      calls: number;
      kind: Publisher['kind'];
    };

export interface JournalledPublishDeps {
  journal: PublicationJournal;
  /** Asked for only when something is left to publish, so a finished publication needs no credentials. */
  publisher: () => Promise<Publisher>;
  log: (message: string, data: Record<string, unknown>) => void;
}

/**
 * Publish `parts` under (pipelineId, runId) exactly once. Throws the
 * publisher's refusal (nothing went out; the attempt is cleared) and
 * `UnknownOutcomeError` (the next attempt looks on the account first).
 */
export async function publishPartsOnce(
  deps: JournalledPublishDeps,
  pipelineId: string,
  runId: string,
  parts: readonly string[],
): Promise<JournalledOutcome> {
  let record = await deps.journal.begin(pipelineId, runId, parts);
  if (record.status === 'completed') {
    return { status: 'published', published: record.published, calls: 0, alreadyComplete: true };
  }
  const publisher = await deps.publisher();
  // Typefully takes the whole thread in one call; X one part per call.
  const units = publisher.takesWholeThread ? [record.parts] : record.parts.map((p) => [p]);
  let calls = 0;
  const unknown = (index: number, reason: string): JournalledOutcome => ({
    status: 'unknown',
    index,
    units: units.length,
    reason,
    published: record.published,
    calls,
    kind: publisher.kind,
  });
  if (record.status === 'unknown') {
    // The operator has not said yet: looking again would be refused again, posting could duplicate.
    return unknown(record.attempting ?? record.published.length, record.unknownReason ?? 'unknown outcome');
  }
  for (let index = record.published.length; index < units.length; index += 1) {
    const previous = record.published[index - 1];
    const unit: PublishUnit = {
      pipelineId,
      runId,
      index,
      parts: units[index] ?? [],
      ...(previous ? { replyTo: previous.id } : {}),
    };
    if (record.attempting === index) {
      const lookup = await publisher.findPublished(unit);
      if (lookup.status === 'found') {
        deps.log('unconfirmed post found on the account; adopting it', { index, id: lookup.part.id });
        await deps.journal.confirmPart(pipelineId, runId, index, lookup.part);
        record = { ...record, published: [...record.published, lookup.part] };
        continue;
      }
      if (lookup.status === 'refused') {
        // Neither retry blindly (a duplicate) nor stall: park it for the operator.
        deps.log('unknown outcome and the account cannot be read', { index, reason: lookup.reason });
        await deps.journal.markUnknown(pipelineId, runId, index, lookup.reason);
        return unknown(index, lookup.reason);
      }
    }
    await deps.journal.markAttempt(pipelineId, runId, index);
    let part: PublishedPart;
    try {
      calls += 1;
      part = await publisher.publish(unit);
    } catch (error) {
      if (error instanceof UnknownOutcomeError) throw error; // the next attempt looks first
      // The account already has this text: most likely our own earlier attempt.
      const lookup = error instanceof DuplicatePostError ? await publisher.findPublished(unit) : undefined;
      if (lookup?.status !== 'found') {
        // The API answered with a refusal: nothing went out, nothing to look for next time.
        await deps.journal.clearAttempt(pipelineId, runId, index);
        throw error;
      }
      part = lookup.part;
    }
    await deps.journal.confirmPart(pipelineId, runId, index, part);
    record = { ...record, published: [...record.published, part] };
  }
  await deps.journal.complete(pipelineId, runId);
  return { status: 'published', published: record.published, calls, alreadyComplete: false };
}
