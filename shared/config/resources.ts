/**
 * Names shared by the CDK app, the Lambda handlers and the local runner, so the
 * state machine that runs locally is the one `cdk deploy` ships.
 */

/** One Lambda function per state; `dir` is the folder under functions/ holding handler.ts. */
export const TASK_STATES = {
  BeginRun: { dir: 'begin-run' },
  Collect: { dir: 'collect' },
  Upload: { dir: 'upload' },
  Analyze: { dir: 'analyze' },
  Publish: { dir: 'publish' },
  Archive: { dir: 'archive' },
  FinishRun: { dir: 'finish-run' },
} as const;
export type TaskStateName = keyof typeof TASK_STATES;

/** Key attributes of the ledger table (runs, locks, publication journal). */
export const LEDGER_TABLE_KEYS = { partitionKey: 'pk', sortKey: 'sk', ttl: 'expiresAt' } as const;

/** S3 layout of one run. */
export const runPrefix = (pipelineId: string, runId: string) => `runs/${pipelineId}/${runId}/`;
export const processedPrefix = (pipelineId: string, runId: string) => `processed/${pipelineId}/${runId}/`;
