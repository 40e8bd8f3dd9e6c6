import type { DestinationConfig, PipelineConfig } from '../config/schema';
import { extractUrls } from '../domain/links';
import { UnknownOutcomeError } from '../errors';
import type {
  DeliveryJournal,
  DeliveryReceipt,
  Destination,
  DigestMessage,
  ObjectStore,
  StepRecord,
} from '../ports';
import { loadDraft, type StoredDraft } from './analyze';
import { partial, type StepInput, skipped, stepOutcome, succeeded } from './run-state';

/**
 * Receivers that recognise a repeat, so an attempt whose answer was lost may be
 * sent again: the signed webhook drops a repeated Idempotency-Key, a file is
 * written only if absent. Discord's Execute Webhook and SES SendEmail take no
 * idempotency key (discord-api-docs developers/resources/webhook.mdx;
 * docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html): a lost
 * answer there is left unknown rather than risk a second message.
 */
const REPEAT_SAFE: ReadonlySet<Destination['kind']> = new Set(['webhook', 'file']);

export type DeliveryOutcome =
  | { status: 'delivered'; receipt: DeliveryReceipt }
  | { status: 'already'; receipt?: DeliveryReceipt }
  | { status: 'unknown'; reason: string }
  | { status: 'failed'; error: string };

const describe = (error: unknown) =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);

/**
 * Deliver `message` to one destination at most once, journalled under `key`:
 * the attempt is recorded before the call and confirmed after it (each piece
 * of a long Discord digest as it is confirmed, so a retry sends only the rest).
 * Never throws for the destination's own failures (the caller reports them); the journal's
 * errors are thrown, so the step is retried and finds what was done.
 */
export async function deliverOnce(
  journal: DeliveryJournal,
  destination: Destination,
  pipelineId: string,
  key: string,
  message: DigestMessage,
): Promise<DeliveryOutcome> {
  const previous = await journal.beginAttempt(pipelineId, key, destination.name);
  if (previous?.status === 'delivered')
    return { status: 'already', ...(previous.receipt ? { receipt: previous.receipt } : {}) };
  if (previous?.status === 'unknown')
    return { status: 'unknown', reason: previous.error ?? 'an earlier attempt may have arrived' };
  if (previous?.status === 'attempting' && !REPEAT_SAFE.has(destination.kind)) {
    // An attempt that never confirmed (a crash, a lost answer): this receiver cannot say whether it arrived.
    const reason = `an earlier attempt to ${destination.kind} ${destination.name} was never confirmed and it may have arrived; it is not sent again`;
    await journal.markUnknown(pipelineId, key, reason);
    return { status: 'unknown', reason };
  }
  try {
    const receipt = await destination.deliver(message, key, {
      confirmed: previous?.confirmed ?? [],
      confirm: (index, id) => journal.confirmPiece(pipelineId, key, index, id),
    });
    await journal.complete(pipelineId, key, receipt);
    return { status: 'delivered', receipt };
  } catch (error) {
    if (error instanceof UnknownOutcomeError && !REPEAT_SAFE.has(destination.kind)) {
      const reason = `${describe(error)}; not sent again`;
      await journal.markUnknown(pipelineId, key, reason);
      return { status: 'unknown', reason };
    }
    // The receiver answered with a refusal (or the repeat-safe one is still unsure): a later attempt may send it.
    await journal.fail(pipelineId, key, describe(error));
    return { status: 'failed', error: describe(error) };
  }
}

/** The journal key of a run's delivery to one destination. */
export const deliveryKeyOf = (runId: string, destination: string) => `${runId}#deliver#${destination}`;

/** The run's digest as every destination receives it: the stored draft, so a retry renders the same bytes. */
export function digestMessageOf(pipeline: PipelineConfig, draft: StoredDraft): DigestMessage {
  return {
    pipelineId: pipeline.id,
    runId: draft.runId,
    title: `${pipeline.id} digest, ${draft.createdAt.slice(0, 10)}`,
    parts: [...draft.parts],
    // The draft's links passed the allow-list when it was written: they are posts of this run.
    links: extractUrls(draft.parts.join('\n')),
    createdAt: draft.createdAt,
  };
}

export interface DeliverDeps {
  pipeline: PipelineConfig;
  store: ObjectStore;
  journal: DeliveryJournal;
  /** The adapter for one configured destination (its secrets are read here: a missing one fails only it). */
  destinationFor: (spec: DestinationConfig) => Promise<Destination>;
  log: (message: string, data: Record<string, unknown>) => void;
}

/**
 * Deliver the run's digest to each configured destination, independently and
 * at most once each. One that fails does not stop the others: the step is
 * `partial`, and a resume tries only the destinations not yet delivered.
 */
export async function deliverRunDigest(deps: DeliverDeps, input: StepInput): Promise<StepRecord> {
  const started = Date.now();
  const { run } = input;
  const specs = deps.pipeline.deliver;
  if (specs.length === 0) return skipped(started, 'no destinations configured');
  const analyze = stepOutcome(input, 'analyze');
  if (analyze?.status !== 'succeeded')
    return skipped(started, 'analysis did not succeed: nothing to deliver');
  const draft = await loadDraft(deps.store, run.pipelineId, run.runId);
  if (!draft || draft.parts.length === 0) return skipped(started, 'no draft for this run');
  if (run.dryRun)
    return skipped(
      started,
      `dry run: nothing delivered (would deliver to ${specs.map((s) => s.name).join(', ')})`,
    );

  const message = digestMessageOf(deps.pipeline, draft);
  const counts = {
    destinationsDelivered: 0,
    destinationsAlready: 0,
    destinationsFailed: 0,
    destinationsUnknown: 0,
  };
  const notes: Record<string, string> = {};
  const problems: string[] = [];
  for (const spec of specs) {
    const outcome = await deliverToOne(
      deps,
      spec,
      run.pipelineId,
      deliveryKeyOf(run.runId, spec.name),
      message,
    );
    deps.log('destination handled', { destination: spec.name, kind: spec.kind, status: outcome.status });
    const where = `${spec.kind} ${spec.name}`;
    switch (outcome.status) {
      case 'delivered':
        counts.destinationsDelivered += 1;
        notes[`deliver.${spec.name}`] = `delivered${outcome.receipt.id ? ` ${outcome.receipt.id}` : ''}`;
        break;
      case 'already':
        counts.destinationsAlready += 1;
        notes[`deliver.${spec.name}`] = 'already delivered';
        break;
      case 'unknown':
        counts.destinationsUnknown += 1;
        notes[`deliver.${spec.name}`] = `unknown: ${outcome.reason}`;
        problems.push(
          `${where}: outcome unknown (${outcome.reason}); look there, and if it did not arrive run "npm run digest -- deliver retry ${run.runId} ${spec.name}" and resume the run`,
        );
        break;
      case 'failed':
        counts.destinationsFailed += 1;
        notes[`deliver.${spec.name}`] = `failed: ${outcome.error}`;
        problems.push(`${where} failed: ${outcome.error}`);
        break;
    }
  }
  if (problems.length === 0) return succeeded(started, counts, notes);
  const delivered = counts.destinationsDelivered + counts.destinationsAlready;
  const reason = `${delivered} of ${specs.length} destinations delivered; ${problems.join('; ')}`;
  if (delivered === 0 && counts.destinationsUnknown === 0) {
    // Nothing arrived anywhere: the step failed (the run is still partial if earlier steps did work).
    return {
      ...partial(started, reason, counts, notes),
      status: 'failed',
      error: { name: 'DeliveryError', message: reason },
    };
  }
  return partial(started, reason, counts, notes);
}

/**
 * One destination: built (a missing secret or a bad URL fails this one, not the others), then delivered
 * once. The journal's own errors are thrown: the state machine retries the step, which finds what was done.
 */
async function deliverToOne(
  deps: Pick<DeliverDeps, 'journal' | 'destinationFor'>,
  spec: DestinationConfig,
  pipelineId: string,
  key: string,
  message: DigestMessage,
): Promise<DeliveryOutcome> {
  let destination: Destination;
  try {
    destination = await deps.destinationFor(spec);
  } catch (error) {
    return { status: 'failed', error: describe(error) };
  }
  return deliverOnce(deps.journal, destination, pipelineId, key, message);
}
