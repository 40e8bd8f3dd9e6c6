import type { handler as publishPostHandler } from '../../../functions/publish-post/handler';
import type { DigestConfig } from '../../../shared/config/schema';
import type { ScheduledPost } from '../../../shared/ports';
import { startLocalEnvironment } from '../environment';
import { lambdaContext } from '../local-execution';
import { applyEnvironment } from '../runner';

/**
 * The config as the post's environment needs it: its pipeline publishing on
 * the post's platform, so `startLocalEnvironment` starts that platform's
 * sandbox (or uses the real service) exactly as `run` would choose.
 */
export function configForPost(config: DigestConfig, post: Pick<ScheduledPost, 'pipelineId' | 'platform'>) {
  return {
    ...config,
    pipelines: config.pipelines.map((p) =>
      p.id === post.pipelineId ? { ...p, publisher: { ...p.publisher, kind: post.platform } } : p,
    ),
  } satisfies DigestConfig;
}

/**
 * Publish one due post on this machine with the `publish-post` function, the
 * one the post's Scheduler schedule invokes in AWS, against the local
 * environment (sandbox or real service per the credentials in `secretsEnv`).
 */
export async function publishPostLocally(options: {
  config: DigestConfig;
  dataDir: string;
  secretsEnv: NodeJS.ProcessEnv;
  post: Pick<ScheduledPost, 'pipelineId' | 'postId' | 'platform'>;
  /** The post was left `publishing` by a daemon that died: finish it through the journal. */
  resumeClaimed?: boolean;
}): Promise<Awaited<ReturnType<typeof publishPostHandler>>> {
  const config = configForPost(options.config, options.post);
  const environment = await startLocalEnvironment({
    config,
    dataDir: options.dataDir,
    secretsEnv: options.secretsEnv,
    now: new Date(),
  });
  try {
    applyEnvironment(config, environment);
    // Loaded only now, as the runner loads the step handlers: the logger reads its level when imported.
    const { handler } = await import('../../../functions/publish-post/handler');
    return await handler(
      {
        pipelineId: options.post.pipelineId,
        postId: options.post.postId,
        resumeClaimed: options.resumeClaimed === true,
      },
      lambdaContext('discord-digest-publish-post', 60_000),
    );
  } finally {
    await environment.close();
  }
}
