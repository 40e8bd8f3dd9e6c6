/**
 * Review before publishing (`publisher.review: approve`): the AwaitReview task stores its task token with
 * the run and asks the pipeline's destinations for a decision; `digest approve|reject` or a signed link
 * records the decision and resumes the task. Approved, Publish posts; rejected or expired, nothing is
 * posted and the run ends partial.
 */
import * as z from 'zod';
import type { PipelineConfig } from '../config/schema';
import { signReviewLink, verifyReviewLink } from '../domain/review-link';
import { DigestError, PermanentError, ReviewLinkError, ReviewRejectedError } from '../errors';
import type {
  LockHolderProcess,
  ObjectStore,
  ReviewDecision,
  ReviewRecord,
  ReviewStore,
  RunLedger,
  StepRecord,
  TaskCallback,
} from '../ports';
import { loadDraft } from './analyze';
import type { DeliveryOutcome } from './deliver';
import type { Notice } from './notify';
import { stepInputSchema } from './run-state';

/** The AwaitReview state's payload: the usual step input plus `$$.Task.Token` and `$$.Execution.Name`. */
export const reviewEventSchema = stepInputSchema.extend({
  taskToken: z.string().min(1),
  /** `$$.Execution.Name`: a retry of the task keeps it, a resumed run's new execution does not. */
  executionName: z.string().min(1),
});
export type ReviewEvent = z.infer<typeof reviewEventSchema>;

/** The lock outlives the wait by the run's ordinary lease, so Publish and Archive still hold it after. */
export const LOCK_LEASE_AFTER_REVIEW_MS = 75 * 60_000;

export interface RequestReviewDeps {
  pipeline: PipelineConfig;
  store: ObjectStore;
  ledger: RunLedger;
  reviews: ReviewStore;
  /**
   * Send the request to the pipeline's notify destinations (those listening for `review-requested`),
   * journalled once per destination (shared/pipeline/notify.ts `sendNotice`); none: the CLI is the only way.
   */
  notify: (notice: Notice) => Promise<DeliveryOutcome[]>;
  /** Signed approve/reject links, when the deployment has a link address and the pipeline a key. */
  links?: () => Promise<{ base: string; key: string } | undefined>;
  /** In AWS: resume the task at once when a decision already stands. Locally the runner reads the store. */
  callback?: TaskCallback;
  /** Locally: this process, kept with the extended lock so a kill -9 during the wait is still seen. */
  holderProcess?: LockHolderProcess;
  now: () => Date;
  log: (message: string, data: Record<string, unknown>) => void;
}

export interface ReviewRequested {
  runId: string;
  deadline: string;
  notified: number;
  /** An earlier decision on this run (before a resume) stands: no new request was made. */
  decided?: ReviewRecord['status'];
}

/** The task's result once decided: what SendTaskSuccess sends in AWS and the local runner returns. */
export function reviewStepRecord(review: ReviewRecord): StepRecord {
  const endedAt = review.decidedAt ?? new Date().toISOString();
  const durationMs = Math.max(0, Date.parse(endedAt) - Date.parse(review.requestedAt));
  const notes = {
    decidedBy: review.decidedBy ?? 'unknown',
    ...(review.reason ? { reason: review.reason } : {}),
  };
  if (review.status === 'approved') return { status: 'succeeded', endedAt, durationMs, counts: {}, notes };
  return {
    status: 'failed',
    endedAt,
    durationMs,
    counts: {},
    notes,
    error: { name: 'ReviewRejected', message: rejectionMessage(review) },
  };
}

const rejectionMessage = (review: ReviewRecord) =>
  `rejected by ${review.decidedBy ?? 'unknown'}${review.reason ? `: ${review.reason}` : ''}; nothing was published`;

/**
 * Store the waiting task's token with the run, extend the run's lock over the wait, record the step as
 * waiting and send the request. Returns; the task itself waits until a decision resumes it.
 */
export async function requestReview(deps: RequestReviewDeps, event: ReviewEvent): Promise<ReviewRequested> {
  const { run } = event;
  if (!run.review) throw new PermanentError(`run ${run.runId} does not ask for a review`);
  const now = deps.now();
  const earlier = await deps.reviews.get(run.pipelineId, run.runId);
  if (earlier?.status === 'approved') {
    // A resumed run whose draft was approved before: the decision stands.
    deps.log('review already approved for this run', { decidedBy: earlier.decidedBy });
    await deps.callback?.succeed(event.taskToken, reviewStepRecord(earlier));
    return { runId: run.runId, deadline: earlier.deadline, notified: 0, decided: earlier.status };
  }
  const sameExecution = earlier?.executionName === event.executionName;
  if (earlier?.status === 'rejected' && sameExecution) {
    // Rejected between a failed attempt of this task and its retry: the old token's callback found no task.
    await deps.callback?.fail(event.taskToken, new ReviewRejectedError('').name, rejectionMessage(earlier));
    return { runId: run.runId, deadline: earlier.deadline, notified: 0, decided: earlier.status };
  }
  // A retry of this task (Step Functions gives it a new token) keeps the request its first attempt made:
  // the same deadline and message, so the journal sends nothing twice and links already sent still decide
  // (they name the run; the store hands the decision the latest token). A new execution (a resume) asks anew.
  const retried = earlier?.status === 'pending' && sameExecution ? earlier : undefined;
  const waitMs = run.review.timeoutSeconds * 1000;
  const requestedAt = retried?.requestedAt ?? now.toISOString();
  const deadline = retried?.deadline ?? new Date(now.getTime() + waitMs).toISOString();
  // The ordinary lease would run out during a wait of hours and let the next run take the pipeline over.
  const lock = await deps.ledger.acquireLock(
    run.pipelineId,
    run.runId,
    now.getTime(),
    waitMs + LOCK_LEASE_AFTER_REVIEW_MS,
    deps.holderProcess,
  );
  if (!lock.acquired)
    throw new PermanentError(`run ${run.runId} no longer holds the lock (${lock.heldBy} does)`);
  // The step first: once the request is visible (and so decidable), the run already says it waits.
  await deps.ledger.recordStep(run.pipelineId, run.runId, 'review', {
    status: 'partial',
    endedAt: now.toISOString(),
    counts: {},
    notes: {
      reason: `waiting for a review until ${deadline}: npm run digest -- approve ${run.runId} (or reject)`,
    },
  });
  const request = {
    pipelineId: run.pipelineId,
    runId: run.runId,
    taskToken: event.taskToken,
    requestedAt,
    deadline,
    executionName: event.executionName,
  };
  await deps.reviews.request(request);
  const draft = await loadDraft(deps.store, run.pipelineId, run.runId);
  if (!draft) {
    // Nothing would be posted: no one is asked, and Publish says why it has nothing to do.
    await decideReview(deps, {
      pipelineId: run.pipelineId,
      runId: run.runId,
      decision: 'approve',
      by: 'digest',
      reason: 'no draft: nothing to review',
    });
    return { runId: run.runId, deadline, notified: 0, decided: 'approved' };
  }
  const outcomes = await deps.notify(await reviewNotice(deps, request, draft.parts));
  const notified = outcomes.filter((o) => o.status === 'delivered' || o.status === 'already').length;
  deps.log('review requested', { deadline, notified, retried: retried !== undefined });
  return { runId: run.runId, deadline, notified };
}

/**
 * The request as a notice: the draft and how to decide, journalled per execution (`attempt`), and built
 * only from what the request stored, so a retry renders the same bytes.
 */
async function reviewNotice(
  deps: RequestReviewDeps,
  request: Omit<ReviewRecord, 'status'> & { executionName: string },
  parts: readonly string[],
): Promise<Notice> {
  const { pipelineId, runId, deadline } = request;
  const links = await deps.links?.();
  const expires = Math.floor(Date.parse(deadline) / 1000);
  const link = (decision: ReviewDecision) =>
    links
      ? [`${decision}: ${signReviewLink(links.base, { pipelineId, runId, decision, expires }, links.key)}`]
      : [];
  return {
    event: 'review-requested',
    pipelineId,
    runId,
    at: request.requestedAt,
    attempt: request.executionName,
    what: `the draft waits for a decision until ${deadline}: approved, it is published; rejected or expired, nothing is`,
    body: parts,
    links: [...link('approve'), ...link('reject')],
    command: `npm run digest -- approve ${runId} --pipeline ${pipelineId} (or reject ${runId} --reason "...")`,
  };
}

export interface DecideReviewDeps {
  reviews: ReviewStore;
  ledger: RunLedger;
  /** In AWS SendTaskSuccess/SendTaskFailure; locally absent: the local runner's waiting task reads the store. */
  callback?: TaskCallback;
  now: () => Date;
}

export interface ReviewVerdict {
  pipelineId: string;
  runId: string;
  decision: ReviewDecision;
  by: string;
  reason?: string;
}

/** A decision that cannot be taken (nothing pending, already decided, expired): one line for the user. */
export class ReviewDecisionError extends DigestError {
  override name = 'ReviewDecisionError';
}

/**
 * Record a person's decision (one wins: a conditional write), the review step, then resume the task.
 * Repeating the same decision resends the callback, so a decision whose callback was lost still resumes.
 */
export async function decideReview(deps: DecideReviewDeps, verdict: ReviewVerdict): Promise<string> {
  const { pipelineId, runId, decision } = verdict;
  const at = deps.now().toISOString();
  const current = await deps.reviews.get(pipelineId, runId);
  if (!current)
    throw new ReviewDecisionError(`run ${runId} of ${pipelineId} has no review (see runs show ${runId})`);
  if (current.status === 'pending' && current.deadline <= at)
    throw new ReviewDecisionError(
      `the review of run ${runId} expired at ${current.deadline}; nothing was published`,
    );
  const run = await deps.ledger.getRun(pipelineId, runId);
  if (current.status === 'pending' && run && run.status !== 'running') {
    // Its execution ended (aborted, timed out, closed by an operator): no task waits for this decision.
    throw new ReviewDecisionError(
      `run ${runId} ended ${run.status}; its review no longer waits and nothing was published`,
    );
  }
  let review = await deps.reviews.decide(pipelineId, runId, {
    decision,
    by: verdict.by,
    at,
    ...(verdict.reason ? { reason: verdict.reason } : {}),
  });
  if (!review) {
    const stored = (await deps.reviews.get(pipelineId, runId)) ?? current;
    const same = stored.status === (decision === 'approve' ? 'approved' : 'rejected');
    if (stored.status === 'pending')
      throw new ReviewDecisionError(
        `the review of run ${runId} expired at ${stored.deadline}; nothing was published`,
      );
    if (!same)
      throw new ReviewDecisionError(
        `run ${runId} was already ${stored.status} by ${stored.decidedBy ?? 'unknown'} at ${stored.decidedAt ?? '?'}`,
      );
    review = stored;
  }
  const step = reviewStepRecord(review);
  await deps.ledger.recordStep(pipelineId, runId, 'review', step);
  if (deps.callback) {
    try {
      if (review.status === 'approved') await deps.callback.succeed(review.taskToken, step);
      else
        await deps.callback.fail(
          review.taskToken,
          new ReviewRejectedError('').name,
          rejectionMessage(review),
        );
    } catch (error) {
      // TaskTimedOut: the task was already resumed (a repeated decision) or has timed out.
      if (!(error instanceof PermanentError && /TaskTimedOut/.test(error.message))) throw error;
    }
  }
  return review.status === 'approved'
    ? `run ${runId}: approved by ${review.decidedBy}; Publish goes ahead`
    : `run ${runId}: rejected by ${review.decidedBy}${review.reason ? ` (${review.reason})` : ''}; nothing is published`;
}

export interface ReviewLinkRequest {
  method: string;
  /** The raw query string, signed claims included. */
  query: string;
}

export interface ReviewLinkAnswer {
  statusCode: number;
  html: string;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * A signed link opened: GET only shows what it would do (mail scanners and link previews fetch every
 * link, so a GET must never decide), the page's button POSTs the same signed query, which decides.
 */
export async function answerReviewLink(
  deps: DecideReviewDeps & { linkKey: (pipelineId: string) => Promise<string | undefined> },
  request: ReviewLinkRequest,
): Promise<ReviewLinkAnswer> {
  const params = new URLSearchParams(request.query);
  const pipelineId = params.get('pipeline') ?? '';
  const page = (statusCode: number, text: string, form = '') => ({
    statusCode,
    html: `<!doctype html><meta charset="utf-8"><title>discord-digest review</title><p>${escapeHtml(text)}</p>${form}`,
  });
  const key = pipelineId ? await deps.linkKey(pipelineId) : undefined;
  if (!key) return page(403, 'this link is not valid');
  let claims: ReturnType<typeof verifyReviewLink>;
  try {
    claims = verifyReviewLink(params, key, deps.now().getTime());
  } catch (error) {
    if (error instanceof ReviewLinkError) return page(403, `this link is not valid: ${error.message}`);
    throw error;
  }
  if (request.method === 'GET') {
    return page(
      200,
      `${claims.decision} the ${claims.pipelineId} digest of run ${claims.runId}?`,
      `<form method="post" action="?${escapeHtml(request.query)}"><button type="submit">${claims.decision}</button></form>`,
    );
  }
  if (request.method !== 'POST') return page(405, 'open the link in a browser');
  try {
    const message = await decideReview(deps, {
      pipelineId: claims.pipelineId,
      runId: claims.runId,
      decision: claims.decision,
      by: 'signed link',
    });
    return page(200, message);
  } catch (error) {
    if (error instanceof ReviewDecisionError) return page(409, error.message);
    throw error;
  }
}
