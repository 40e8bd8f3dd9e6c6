import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { localHolderDeps } from '../../shared/adapters/local-process';
import { ConfigError } from '../../shared/errors';
import { logger } from '../../shared/observability/logger';
import { parseEvent } from '../../shared/observability/step-handler';
import { requestReview, reviewEventSchema } from '../../shared/pipeline/review';
import { noticeSender } from '../../shared/runtime/notifier';
import { REVIEW_LINK_URL_ENV, reviewStoreFor, taskCallbackFor } from '../../shared/runtime/review';
import { stepContext } from '../../shared/runtime/step-context';

/** AwaitReview (`lambda:invoke.waitForTaskToken`): store the token, ask for a decision, return; the task waits. */
export const handler = middy(async (event: unknown, lambda: Context) => {
  const parsed = parseEvent(reviewEventSchema, event);
  logger.appendKeys({ pipelineId: parsed.run.pipelineId, runId: parsed.run.runId, step: 'review' });
  const context = stepContext(parsed.run.pipelineId, lambda);
  const callback = taskCallbackFor();
  const base = process.env[REVIEW_LINK_URL_ENV];
  const { holderProcess } = localHolderDeps();
  return requestReview(
    {
      pipeline: context.pipeline,
      store: context.store,
      ledger: context.ledger,
      reviews: reviewStoreFor(),
      // The request goes to the pipeline's notify destinations, journalled: a retried task sends nothing twice.
      notify: noticeSender(context),
      links: async () => {
        if (!base) return undefined;
        try {
          return { base, key: (await context.secrets('review')).REVIEW_LINK_SECRET };
        } catch (error) {
          // No review key set: the request names the CLI commands only.
          if (error instanceof ConfigError) return undefined;
          throw error;
        }
      },
      ...(callback ? { callback } : {}),
      // Only when run by the local CLI: the extended lock still names this process.
      ...(holderProcess ? { holderProcess } : {}),
      now: context.now,
      log: context.log,
    },
    parsed,
  );
}).use(injectLambdaContext(logger, { resetKeys: true }));
