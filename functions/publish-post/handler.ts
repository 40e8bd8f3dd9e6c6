import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { createDynamoDocumentClient } from '../../shared/adapters/aws-clients';
import { createScheduledPostStore } from '../../shared/adapters/dynamo-post-store';
import { runtimeEnvFromEnv } from '../../shared/config/env';
import { logger } from '../../shared/observability/logger';
import { parseEvent } from '../../shared/observability/step-handler';
import { type PublishPostOutcome, publishScheduledPost } from '../../shared/pipeline/one-off-post';
import { publisherFor } from '../../shared/runtime/publisher';
import { stepContext } from '../../shared/runtime/step-context';

/** What the one-time Scheduler schedule of a post (or the local daemon) sends. */
export const publishPostEventSchema = z.object({
  pipelineId: z.string().min(1),
  postId: z.string().min(1),
  /** Locally only: take over a post left `publishing` by a daemon that died. */
  resumeClaimed: z.boolean().default(false),
});
export type PublishPostEvent = z.infer<typeof publishPostEventSchema>;

/**
 * Publish one scheduled post when its moment comes. The post's own failure is
 * recorded on the post (status failed, with the error) and returned, not
 * thrown: Scheduler's retry would find it no longer pending anyway.
 */
export async function handler(
  event: unknown,
  lambda: Pick<Context, 'getRemainingTimeInMillis'>,
): Promise<{ status: PublishPostOutcome['status']; postUrl?: string; error?: string }> {
  const { pipelineId, postId, resumeClaimed } = parseEvent(publishPostEventSchema, event);
  logger.appendKeys({ pipelineId, postId });
  const context = stepContext(pipelineId, lambda);
  const outcome = await publishScheduledPost(
    {
      posts: createScheduledPostStore({
        client: createDynamoDocumentClient(),
        tableName: runtimeEnvFromEnv().LEDGER_TABLE,
      }),
      journal: context.journal,
      // The post's platform, whatever the pipeline's daily draft uses; a Typefully draft is published now.
      publisher: async (platform) => {
        const publisher = await publisherFor({
          ...context,
          pipeline: {
            ...context.pipeline,
            publisher: { ...context.pipeline.publisher, kind: platform, typefullyPublishAt: 'now' },
          },
        });
        if (!publisher) throw new Error(`no publisher for ${platform}`);
        return publisher;
      },
      now: context.now,
      log: context.log,
    },
    pipelineId,
    postId,
    { resumeClaimed },
  );
  logger.info('one-off post handled', { status: outcome.status });
  return {
    status: outcome.status,
    ...(outcome.post?.postUrl ? { postUrl: outcome.post.postUrl } : {}),
    ...(outcome.post?.error && outcome.status === 'failed' ? { error: outcome.post.error } : {}),
  };
}
