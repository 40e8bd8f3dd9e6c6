import { SFNClient } from '@aws-sdk/client-sfn';
import { createDynamoDocumentClient } from '../adapters/aws-clients';
import { createReviewStore } from '../adapters/dynamo-review-store';
import { LOCAL_HOLDER_ENV } from '../adapters/local-process';
import { createTaskCallback } from '../adapters/sfn-task-callback';
import { runtimeEnvFromEnv } from '../config/env';
import type { ReviewStore, TaskCallback } from '../ports';

/** The address of the review-link function's URL, set on AwaitReview by the stack. */
export const REVIEW_LINK_URL_ENV = 'REVIEW_LINK_URL';

let sfn: SFNClient | undefined;

/**
 * In Lambda, decisions resume the task through Step Functions (one client per container). The local runner
 * marks its functions (DIGEST_LOCK_HOLDER=process): there its AwaitReview task waits on the review store
 * itself (infra/local/review-wait.ts), as aws-local-stepfunctions has no task tokens.
 */
export function taskCallbackFor(env: NodeJS.ProcessEnv = process.env): TaskCallback | undefined {
  if (env[LOCAL_HOLDER_ENV] === 'process') return undefined;
  sfn ??= new SFNClient({});
  return createTaskCallback(sfn);
}

export function reviewStoreFor(env: NodeJS.ProcessEnv = process.env): ReviewStore {
  return createReviewStore({
    client: createDynamoDocumentClient(env),
    tableName: runtimeEnvFromEnv(env).LEDGER_TABLE,
  });
}
