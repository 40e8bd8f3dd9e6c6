import type { SecretService } from './env';
import type { PipelineConfig } from './schema';

/**
 * Names shared by the CDK app, the Lambda handlers and the local runner, so the
 * state machine that runs locally is the one `cdk deploy` ships.
 */

/**
 * One Lambda function per state; `dir` is the folder under functions/ holding
 * handler.ts, `timeoutSeconds` the function's timeout, which is also the
 * state's TimeoutSeconds (so the local runner, whose default is 60 s, gives
 * each step as long as Lambda does). `partOf` names the step a task is part
 * of when it is not a step itself (an interrupt during it is that step's).
 * `memoryMB` is chosen from `npm run bench`'s per-step peaks under Lambda's
 * heap flags: the steps whose data grows with N (Collect, Upload,
 * PlanAnalysis, Analyze, Archive: 195–237 MiB at 100,000 messages) get 512,
 * the others (under 180 MiB at any N) 256.
 */
export const TASK_STATES = {
  BeginRun: { dir: 'begin-run', timeoutSeconds: 30, memoryMB: 256 },
  Collect: { dir: 'collect', timeoutSeconds: 600, memoryMB: 512 },
  Upload: { dir: 'upload', timeoutSeconds: 300, memoryMB: 512 },
  // The analysis fan-out: plan the batches, analyse each in the Map, then write back and draft.
  PlanAnalysis: { dir: 'plan-analysis', timeoutSeconds: 300, partOf: 'analyze', memoryMB: 512 },
  AnalyzeBatch: { dir: 'analyze-batch', timeoutSeconds: 300, partOf: 'analyze', memoryMB: 256 },
  Analyze: { dir: 'analyze', timeoutSeconds: 600, memoryMB: 512 },
  /** The function answers at once; the state waits for the decision (`$.run.review.timeoutSeconds`). */
  AwaitReview: { dir: 'review', timeoutSeconds: 30, memoryMB: 256 },
  Publish: { dir: 'publish', timeoutSeconds: 300, memoryMB: 256 },
  Deliver: { dir: 'deliver', timeoutSeconds: 300, memoryMB: 256 },
  Archive: { dir: 'archive', timeoutSeconds: 300, memoryMB: 512 },
  FinishRun: { dir: 'finish-run', timeoutSeconds: 30, memoryMB: 256 },
} as const;
export type TaskStateName = keyof typeof TASK_STATES;

/** Key attributes of the ledger table (runs, locks, publication and delivery journals). */
export const LEDGER_TABLE_KEYS = { partitionKey: 'pk', sortKey: 'sk', ttl: 'expiresAt' } as const;

/** S3 layout of one run. */
export const runPrefix = (pipelineId: string, runId: string) => `runs/${pipelineId}/${runId}/`;
export const processedPrefix = (pipelineId: string, runId: string) => `processed/${pipelineId}/${runId}/`;

/** The state machine's fixed name: FinishRun builds its ARN from it (referencing the machine would be a cycle). */
export const STATE_MACHINE_NAME = 'discord-digest';

/** The pipeline stack, and the outputs the operator commands read with `--aws` (infra/scheduled-targets.ts). */
export const PIPELINE_STACK_NAME = 'DigestPipeline';
export const PIPELINE_OUTPUTS = {
  publishPostArn: 'PublishPostFunctionArn',
  postScheduleRoleArn: 'PostScheduleRoleArn',
} as const;

/**
 * What each function may touch, stated once so the CDK app grants exactly this and nothing more
 * (infra/function-grants.ts). `objects` are key prefixes of the run-files bucket; `table` is `record` for a
 * step that only records its outcome on the run (GetItem/UpdateItem), `read` for GetItem/Query, `readWrite`
 * for items written and deleted too (runs, locks, the publication journal, schedule state); `secrets` lists
 * the services whose credentials it reads, per pipeline, since what a step calls depends on the pipeline.
 */
export interface FunctionNeeds {
  table?: 'record' | 'read' | 'readWrite';
  objects?: { read?: readonly string[]; write?: readonly string[]; delete?: readonly string[] };
  secrets?: (pipeline: PipelineConfig) => readonly SecretService[];
  /** Which of a pipeline's destination lists it sends to: it may write their files' prefixes and send their email. */
  destinations?: readonly ('deliver' | 'notify')[];
}

/** A run's CSV is under runs/ until archived, then under processed/: a replay reads it there. */
const RUN_FILES = ['runs/', 'processed/'] as const;
/** The `destinations` secret holds the keys deliver/notify destinations name; only a pipeline with some has it read. */
const destinationSecrets =
  (lists: readonly ('deliver' | 'notify')[]) =>
  (pipeline: PipelineConfig): SecretService[] =>
    lists.some((list) => pipeline[list].some((d) => d.kind === 'discord' || d.kind === 'webhook'))
      ? ['destinations']
      : [];
const reviewService = (pipeline: PipelineConfig): SecretService[] =>
  pipeline.publisher.review === 'approve' ? ['review'] : [];
const publishingService = (pipeline: PipelineConfig): SecretService[] =>
  pipeline.publisher.kind === 'none' ? [] : [pipeline.publisher.kind];

export const FUNCTION_NEEDS = {
  BeginRun: { table: 'readWrite' },
  // The sheet only for a since_last window, which starts after the newest message id in it.
  Collect: {
    table: 'record',
    // Its own CSV and collect parts, all under runs/.
    objects: { read: ['runs/'], write: ['runs/'] },
    secrets: (p) => (p.discord.window.mode === 'since_last' ? ['discord', 'google'] : ['discord']),
  },
  Upload: { table: 'record', objects: { read: RUN_FILES }, secrets: () => ['google'] },
  // Plans the run's analysis batches from its chunks (a dry run: from the run's posts, wherever they are)
  // and the main tab's unanalysed rows; stores them under runs/. No table: its outcome is Analyze's.
  PlanAnalysis: { objects: { read: RUN_FILES, write: ['runs/'] }, secrets: () => ['google'] },
  // One Gemini request per batch: reads its batch, stores its result, under the run's analysis/.
  AnalyzeBatch: { objects: { read: ['runs/'], write: ['runs/'] }, secrets: () => ['gemini'] },
  Analyze: {
    table: 'record',
    objects: { read: RUN_FILES, write: ['runs/'] },
    secrets: () => ['google', 'gemini'],
  },
  Publish: {
    table: 'readWrite',
    // The run's draft, which stays under runs/ (Archive moves only the CSV and the raw messages).
    objects: { read: ['runs/'] },
    // Publish sends Sheets nothing (Archive marks the Drafts row): no Google key.
    secrets: (p) => publishingService(p),
  },
  // Archiving moves the run's files from runs/ to processed/: the only function that deletes objects.
  Archive: {
    table: 'record',
    objects: { read: RUN_FILES, write: ['processed/'], delete: ['runs/'] },
    secrets: () => ['google'],
  },
  // Sends the digest to the pipeline's destinations; reads the draft.
  Deliver: {
    table: 'readWrite',
    objects: { read: ['runs/'] },
    secrets: destinationSecrets(['deliver']),
    destinations: ['deliver'],
  },
  // Closes the run, counts it against its schedule, plans its resume, tells the notify destinations.
  FinishRun: { table: 'readWrite', secrets: destinationSecrets(['notify']), destinations: ['notify'] },
  // Records missed runs (and dead letters) and tells the notify destinations.
  Watchdog: { table: 'readWrite', secrets: destinationSecrets(['notify']), destinations: ['notify'] },
  CloseAbandonedRun: { table: 'readWrite' },
  ReapplyPauses: { table: 'read' },
  // A one-off post (functions/publish-post) goes to the platform it names, whichever the daily draft uses.
  PublishPost: { table: 'readWrite', secrets: () => ['x', 'typefully'] },
  // Asks for a decision on the run's draft: reads it, holds the lock over the wait, stores the task token,
  // signs the links with the pipeline's review key.
  AwaitReview: {
    table: 'readWrite',
    objects: { read: ['runs/'] },
    secrets: (p) => [...reviewService(p), ...destinationSecrets(['notify'])(p)],
    // The request goes to the notify destinations.
    destinations: ['notify'],
  },
  // The signed links' page: checks a link with the review key and records the decision.
  ReviewLink: { table: 'readWrite', secrets: reviewService },
} as const satisfies Record<
  TaskStateName | 'CloseAbandonedRun' | 'ReapplyPauses' | 'PublishPost' | 'ReviewLink' | 'Watchdog',
  FunctionNeeds
>;

/** The S3 object tag Collect puts on the raw messages, whose lifecycle rule expires them sooner than the run. */
export const RAW_MESSAGES_TAG = { key: 'digest-content', value: 'raw-messages' } as const;
