import { readFileSync } from 'node:fs';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { createDynamoDocumentClient, createS3Client } from '../../../shared/adapters/aws-clients';
import { createScheduledPostStore } from '../../../shared/adapters/dynamo-post-store';
import {
  createSchedulerGateway,
  type SchedulerGateway,
} from '../../../shared/adapters/eventbridge-scheduler';
import { createObjectStore } from '../../../shared/adapters/s3-object-store';
import { findPipeline } from '../../../shared/config/load';
import { PIPELINE_OUTPUTS } from '../../../shared/config/resources';
import { toLocal } from '../../../shared/domain/schedule/zoned-time';
import { DigestError } from '../../../shared/errors';
import { loadDraft } from '../../../shared/pipeline/analyze';
import { cancelScheduledPost, prepareScheduledPost } from '../../../shared/pipeline/one-off-post';
import type {
  ObjectStore,
  ScheduledPost,
  ScheduledPostStatus,
  ScheduledPostStore,
} from '../../../shared/ports';
import { UsageError } from '../command-line';
import { checkCredentialSets } from '../environment';
import { attachSharedAws } from '../shared-aws';
import type { CliContext, LocalCommand } from './command';
import { AWS_OPTION_HELP, AWS_OPTIONS, deployedOutputs, deployedTable } from './ledger-access';

const STATUSES: readonly ScheduledPostStatus[] = [
  'pending',
  'publishing',
  'published',
  'failed',
  'cancelled',
];
const USAGE =
  'posts schedule --at "YYYY-MM-DD HH:MM" --tz <zone> (--text … | --file … | --from-run <runId>) | posts list [--status s] | posts upcoming [--days n] | posts show <id> | posts cancel <id>';

/** A Scheduler schedule name: ^[0-9a-zA-Z-_.]+$, 1-64 characters (docs.aws.amazon.com/scheduler/latest/APIReference/API_CreateSchedule.html, Name). */
export function postScheduleName(pipelineId: string, postId: string): string {
  const head = `digest-post-${pipelineId}`.replace(/[^0-9A-Za-z._-]/g, '-');
  return `${head.slice(0, 64 - postId.length - 1)}-${postId}`;
}

/** The Scheduler `at()` local time of a post: `YYYY-MM-DDTHH:MM:SS` in its zone. */
export function schedulerAt(post: Pick<ScheduledPost, 'at' | 'timeZone'>): string {
  const ms = Date.parse(post.at);
  const t = toLocal(post.timeZone, ms);
  const two = (n: number) => String(n).padStart(2, '0');
  const seconds = Math.floor((ms % 60_000) / 1000);
  return `${t.year}-${two(t.month)}-${two(t.day)}T${two(t.hour)}:${two(t.minute)}:${two(seconds)}`;
}

export interface PostsBackend {
  posts: ScheduledPostStore;
  store: ObjectStore;
  /** With --aws: the one-time schedules, and what they invoke (read only when a post is scheduled). */
  scheduler?: {
    gateway: SchedulerGateway;
    targets(): Promise<{ targetArn: string; roleArn: string }>;
    groupName?: string;
  };
  where: string;
  close(): Promise<void>;
}

function awsBackend(context: CliContext): PostsBackend {
  const bucket = process.env.DIGEST_BUCKET;
  const { table, client } = deployedTable(context);
  const schedulerClient = new SchedulerClient({});
  const s3 = createS3Client();
  return {
    posts: createScheduledPostStore({ client, tableName: table }),
    store: createObjectStore({ client: s3, bucket: bucket ?? '' }),
    scheduler: {
      gateway: createSchedulerGateway(schedulerClient),
      targets: () => postTargets(process.env),
      ...(process.env.DIGEST_SCHEDULE_GROUP ? { groupName: process.env.DIGEST_SCHEDULE_GROUP } : {}),
    },
    where: `DynamoDB table ${table}`,
    close: async () => {
      client.destroy();
      schedulerClient.destroy();
    },
  };
}

/**
 * What a post's schedule invokes, and as whom: DIGEST_PUBLISH_POST_ARN and DIGEST_SCHEDULER_ROLE_ARN when both
 * are set, else the deployed stack's outputs (infra/scheduled-targets.ts).
 */
export async function postTargets(
  env: NodeJS.ProcessEnv,
  outputs: typeof deployedOutputs = deployedOutputs,
): Promise<{ targetArn: string; roleArn: string }> {
  const { DIGEST_PUBLISH_POST_ARN: targetArn, DIGEST_SCHEDULER_ROLE_ARN: roleArn } = env;
  if (targetArn && roleArn) return { targetArn, roleArn };
  if (targetArn || roleArn) {
    throw new DigestError(
      `${targetArn ? 'DIGEST_SCHEDULER_ROLE_ARN' : 'DIGEST_PUBLISH_POST_ARN'} is not set, ${targetArn ? 'DIGEST_PUBLISH_POST_ARN' : 'DIGEST_SCHEDULER_ROLE_ARN'} is: set both, or neither to use the deployed stack's`,
    );
  }
  const found = await outputs([PIPELINE_OUTPUTS.publishPostArn, PIPELINE_OUTPUTS.postScheduleRoleArn]);
  return {
    targetArn: found[PIPELINE_OUTPUTS.publishPostArn] ?? '',
    roleArn: found[PIPELINE_OUTPUTS.postScheduleRoleArn] ?? '',
  };
}

async function localBackend(dataDir: string): Promise<PostsBackend> {
  const aws = await attachSharedAws(dataDir);
  return {
    posts: createScheduledPostStore({ client: createDynamoDocumentClient(aws.env), tableName: aws.table }),
    store: createObjectStore({ client: createS3Client(aws.env), bucket: aws.bucket }),
    where: `local ledger in ${dataDir}`,
    close: aws.close,
  };
}

const line = (p: ScheduledPost) =>
  `${p.postId}  ${p.status.padEnd(10)} ${p.at}  (${p.localAt} ${p.timeZone})  ${p.platform}  ${p.parts.length} part(s)  ${(
    p.parts[0] ?? ''
  )
    .replace(/\s+/g, ' ')
    .slice(0, 50)}${p.postUrl ? `  ${p.postUrl}` : ''}${p.error ? `  error: ${p.error}` : ''}`;

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

/** The text of the post from exactly one of --text, --file, --from-run. */
async function postText(context: CliContext, backend: PostsBackend, pipelineId: string) {
  const { values } = context;
  const given = (['text', 'file', 'from-run'] as const).filter((k) => typeof values[k] === 'string');
  if (given.length !== 1) throw new UsageError(`give exactly one of --text, --file, --from-run (${USAGE})`);
  const text = str(values.text);
  if (text !== undefined) return { text, source: 'text' };
  const file = str(values.file);
  if (file !== undefined) {
    try {
      return { text: readFileSync(file, 'utf8'), source: `file ${file}` };
    } catch (error) {
      throw new UsageError(`--file ${file}: ${(error as NodeJS.ErrnoException).code ?? 'cannot be read'}`);
    }
  }
  const runId = str(values['from-run']) ?? '';
  const draft = await loadDraft(backend.store, pipelineId, runId);
  if (!draft || draft.parts.length === 0) throw new UsageError(`run ${runId} of ${pipelineId} has no draft`);
  return { text: draft.parts.join('\n---\n'), source: `run ${runId}` };
}

export async function runPosts(
  context: CliContext,
  backendFor = (c: CliContext) =>
    c.values.aws === true ? Promise.resolve(awsBackend(c)) : localBackend(c.dataDir),
): Promise<number> {
  const { values, positionals, config } = context;
  const [action, postId] = positionals;
  const pipelineId = context.pipelineId();
  const needsId = action === 'show' || action === 'cancel';
  if (!['schedule', 'list', 'upcoming', 'show', 'cancel'].includes(action ?? '')) {
    throw new UsageError(`unknown posts action "${action ?? ''}" (${USAGE})`);
  }
  if (needsId && !postId) throw new UsageError(`posts ${action} needs <postId>`);
  if (!needsId && postId) throw new UsageError(`posts ${action} takes no <postId>; unexpected "${postId}"`);
  const status = str(values.status);
  if (status !== undefined && !STATUSES.includes(status as ScheduledPostStatus)) {
    throw new UsageError(`--status must be one of ${STATUSES.join(', ')}`);
  }
  const platform = str(values.platform);
  if (platform !== undefined && platform !== 'x' && platform !== 'typefully') {
    throw new UsageError('--platform must be x or typefully');
  }
  if (action === 'schedule') {
    if (!str(values.at) || !str(values.tz))
      throw new UsageError(`posts schedule needs --at and --tz (${USAGE})`);
    // Locally: the platform's real credentials complete, or none (its sandbox). Half a set is refused now.
    if (values.aws !== true) checkCredentialSets(process.env);
  }
  const backend = await backendFor(context);
  try {
    if (action === 'schedule') {
      const { text, source } = await postText(context, backend, pipelineId);
      const post = prepareScheduledPost({
        pipeline: findPipeline(config, pipelineId),
        localAt: str(values.at) ?? '',
        timeZone: str(values.tz) ?? '',
        ...(platform ? { platform: platform as 'x' | 'typefully' } : {}),
        text,
        source,
        now: new Date(),
      });
      // Known before the post is stored: a post no schedule would ever publish is never stored pending.
      const targets = await backend.scheduler?.targets();
      await backend.posts.create(post);
      if (backend.scheduler && targets) {
        const { gateway, groupName } = backend.scheduler;
        const { targetArn, roleArn } = targets;
        await gateway
          .createOneTime({
            name: postScheduleName(post.pipelineId, post.postId),
            ...(groupName ? { groupName } : {}),
            at: schedulerAt(post),
            timeZone: post.timeZone,
            description: `one-off post ${post.postId} of ${post.pipelineId}`,
            target: {
              arn: targetArn,
              roleArn,
              input: JSON.stringify({ pipelineId: post.pipelineId, postId: post.postId }),
            },
          })
          .catch(async (error: unknown) => {
            // Without its schedule nothing would ever publish it: a stored post must not look pending.
            await backend.posts.transition(post.pipelineId, post.postId, 'pending', 'cancelled', {
              cancelledAt: new Date().toISOString(),
              error: `its one-time schedule could not be created: ${error instanceof Error ? error.message : String(error)}`,
            });
            throw error;
          });
      }
      console.log(
        `scheduled post ${post.postId} of ${pipelineId} for ${post.at} (${post.localAt} ${post.timeZone}) on ${post.platform}: ${post.parts.length} part(s)${
          backend.scheduler ? ', one-time schedule created' : ' (published by "npm run digest -- daemon")'
        }`,
      );
      return 0;
    }
    if (action === 'list' || action === 'upcoming') {
      const days = Number(str(values.days) ?? '7');
      const now = Date.now();
      const listed = await backend.posts.list(
        pipelineId,
        action === 'upcoming' ? ['pending'] : status ? [status as ScheduledPostStatus] : undefined,
      );
      const shown =
        action === 'upcoming' ? listed.filter((p) => Date.parse(p.at) <= now + days * 86_400_000) : listed;
      if (shown.length === 0)
        console.log(
          `no ${action === 'upcoming' ? `pending posts in the next ${days} day(s)` : 'posts'} for ${pipelineId} in ${backend.where}`,
        );
      for (const post of shown) console.log(line(post));
      return 0;
    }
    if (action === 'show') {
      const post = await backend.posts.get(pipelineId, postId ?? '');
      if (!post)
        throw new DigestError(`post ${postId} of pipeline ${pipelineId} does not exist in ${backend.where}`);
      console.log(JSON.stringify(post, null, 2));
      return 0;
    }
    const result = await cancelScheduledPost(backend.posts, pipelineId, postId ?? '', new Date());
    if (!result.cancelled) {
      console.error(result.reason);
      return 1;
    }
    if (backend.scheduler) {
      await backend.scheduler.gateway.delete(
        postScheduleName(pipelineId, postId ?? ''),
        backend.scheduler.groupName,
      );
    }
    console.log(
      `cancelled post ${postId} of ${pipelineId}${backend.scheduler ? ' and deleted its schedule' : ''}`,
    );
    return 0;
  } finally {
    await backend.close();
  }
}

export const postsCommand: LocalCommand = {
  name: 'posts',
  synopsis: 'posts schedule|list|upcoming|show <id>|cancel <id>   one-off posts at a set time',
  optionHelp: [
    '--at "YYYY-MM-DD HH:MM"  (posts schedule) when, on the wall clock of --tz',
    '--tz <zone>         (posts schedule) an IANA time zone, e.g. Europe/Berlin',
    '--text <text> | --file <path> | --from-run <runId>   (posts schedule) the post; long text becomes a thread, --- lines split it yourself',
    "--platform x|typefully  (posts schedule) default: the pipeline's publisher",
    '--status <status>   (posts list) pending, publishing, published, failed or cancelled',
    ...AWS_OPTION_HELP,
  ],
  options: {
    at: { type: 'string' },
    tz: { type: 'string' },
    text: { type: 'string' },
    file: { type: 'string' },
    'from-run': { type: 'string' },
    platform: { type: 'string' },
    status: { type: 'string' },
    days: { type: 'string' },
    ...AWS_OPTIONS,
  },
  positionals: ['action', 'postId?'],
  integerOptions: { days: { min: 1, max: 400 } },
  run: (context) => runPosts(context),
};
