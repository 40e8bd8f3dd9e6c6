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
 */
export const TASK_STATES = {
  BeginRun: { dir: 'begin-run', timeoutSeconds: 30 },
  Collect: { dir: 'collect', timeoutSeconds: 600 },
  Upload: { dir: 'upload', timeoutSeconds: 300 },
  // The analysis fan-out: plan the batches, analyse each in the Map, then write back and draft.
  PlanAnalysis: { dir: 'plan-analysis', timeoutSeconds: 300, partOf: 'analyze' },
  AnalyzeBatch: { dir: 'analyze-batch', timeoutSeconds: 300, partOf: 'analyze' },
  Analyze: { dir: 'analyze', timeoutSeconds: 600 },
  Publish: { dir: 'publish', timeoutSeconds: 300 },
  Archive: { dir: 'archive', timeoutSeconds: 300 },
  FinishRun: { dir: 'finish-run', timeoutSeconds: 30 },
} as const;
export type TaskStateName = keyof typeof TASK_STATES;

/** Key attributes of the ledger table (runs, locks, publication journal). */
export const LEDGER_TABLE_KEYS = { partitionKey: 'pk', sortKey: 'sk', ttl: 'expiresAt' } as const;

/** S3 layout of one run. */
export const runPrefix = (pipelineId: string, runId: string) => `runs/${pipelineId}/${runId}/`;
export const processedPrefix = (pipelineId: string, runId: string) => `processed/${pipelineId}/${runId}/`;
