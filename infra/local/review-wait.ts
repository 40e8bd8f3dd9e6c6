import { setTimeout as sleep } from 'node:timers/promises';
import { ReviewRejectedError } from '../../shared/errors';
import { type ReviewRequested, reviewEventSchema, reviewStepRecord } from '../../shared/pipeline/review';
import { reviewStoreFor } from '../../shared/runtime/review';
import type { TaskHandler } from './local-execution';

/** How often the local AwaitReview looks for a decision (DIGEST_REVIEW_POLL_MS shortens it in tests). */
const pollMs = () => Number(process.env.DIGEST_REVIEW_POLL_MS ?? 1000);

/**
 * AwaitReview as the deployed `lambda:invoke.waitForTaskToken` task behaves, for aws-local-stepfunctions,
 * which invokes the function and moves on (it has no task tokens, no SendTaskSuccess): the real handler runs
 * (token stored, step recorded, request sent), then this waits until `digest approve|reject` writes the
 * decision to the same review record the deployed commands write before their SendTaskSuccess/Failure, and
 * answers what that call would have sent. The expiry is the state's own TimeoutSecondsPath, which the library
 * enforces (States.Timeout), exactly as Step Functions does.
 */
export function awaitReviewLocally(invoke: TaskHandler, signal?: AbortSignal): TaskHandler {
  return async (input) => {
    // Without payloadResponseOnly a lambda:invoke task's Parameters are {FunctionName, Payload}.
    const payload = (input as { Payload?: unknown }).Payload ?? input;
    const requested = (await invoke(payload)) as ReviewRequested;
    const { run } = reviewEventSchema.parse(payload);
    const reviews = reviewStoreFor();
    const deadline = Date.parse(requested.deadline);
    while (!signal?.aborted && Date.now() <= deadline + pollMs()) {
      const review = await reviews.get(run.pipelineId, run.runId);
      if (review?.status === 'approved') return reviewStepRecord(review);
      if (review?.status === 'rejected') {
        const record = reviewStepRecord(review);
        throw new ReviewRejectedError(record.error?.message ?? 'rejected');
      }
      await sleep(pollMs(), undefined, signal ? { signal } : {}).catch(() => undefined);
    }
    // The library's timeout has already ended the task; this settles the abandoned promise.
    throw Object.assign(new Error('the review expired'), { name: 'States.Timeout' });
  };
}
