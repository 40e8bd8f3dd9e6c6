import { createHash } from 'node:crypto';

/**
 * Names the config turns into AWS resource names, and the limits AWS puts on them, so `validate`
 * refuses what a deploy would refuse and the CDK app names things the same way.
 */

/** Scheduler schedule names: 1-64 characters of `[0-9a-zA-Z-_.]`
 * (https://docs.aws.amazon.com/scheduler/latest/APIReference/API_CreateSchedule.html#API_CreateSchedule_RequestSyntax). */
export const SCHEDULE_NAME_MAX = 64;
export const SCHEDULE_NAME_PATTERN = /^[0-9a-zA-Z._-]{1,64}$/;
const SCHEDULE_NAME_PREFIX = 'discord-digest-';
const HASH_LENGTH = 8;

/**
 * The Scheduler schedule of one pipeline's schedule: `discord-digest-<pipeline>-<schedule>`. A name longer
 * than 64 characters is cut and ends with 8 hex digits of a hash of the full pipeline/schedule pair, so any
 * id and name the config allows deploys, the name stays the same from one deploy to the next (a changed
 * name would replace the schedule) and two long names that share a beginning still differ.
 */
export function schedulerScheduleName(pipelineId: string, scheduleName: string): string {
  return boundedScheduleName(
    `${SCHEDULE_NAME_PREFIX}${pipelineId}-${scheduleName}`,
    `${pipelineId}/${scheduleName}`,
  );
}

/**
 * Every automatic-resume schedule starts with this, and no other schedule does (the pipelines' start with
 * `discord-digest-`, one-off posts' with `digest-post-`): FinishRun may create schedules of this prefix only.
 */
export const RESUME_SCHEDULE_PREFIX = 'digest-resume-';

/**
 * The one-time schedule of a run's n-th automatic resume. The same run and attempt always give the same name,
 * so a retried FinishRun meets its own schedule (ConflictException) instead of creating a second one.
 */
export function resumeScheduleName(pipelineId: string, runId: string, attempt: number): string {
  return boundedScheduleName(
    `${RESUME_SCHEDULE_PREFIX}${pipelineId}-${runId}-${attempt}`,
    `${pipelineId}/${runId}/${attempt}`,
  );
}

/** `full` if it fits in 64 characters, else cut with 8 hex digits of a hash of `identity` at the end. */
function boundedScheduleName(full: string, identity: string): string {
  if (full.length <= SCHEDULE_NAME_MAX) return full;
  const hash = createHash('sha256').update(identity).digest('hex').slice(0, HASH_LENGTH);
  return `${full.slice(0, SCHEDULE_NAME_MAX - HASH_LENGTH - 1)}-${hash}`;
}

/**
 * Lambda refuses a function whose environment variables take more than 4 KB in all
 * (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html: "Environment variables: 4 KB").
 * The config is not among them (it ships in the asset, shared/config/load.ts), so no config can exceed it.
 */
export const LAMBDA_ENVIRONMENT_MAX_BYTES = 4096;

/**
 * The variables every function has (infra/pipeline-stack.ts, infra/digest-function.ts), with the longest
 * value each can take once deployed: bucket names are at most 63 characters; the table name CloudFormation
 * generates (`DigestStateful-Ledger…-…`) is given 128 as a generous bound.
 */
export const FUNCTION_VARIABLES: Readonly<Record<string, number>> = {
  BUCKET_NAME: 63,
  LEDGER_TABLE: 128,
  SECRETS_SOURCE: 'secretsmanager'.length,
  SECRET_NAME_PREFIX: 'discord-digest/'.length,
  POWERTOOLS_SERVICE_NAME: 'discord-digest'.length,
  POWERTOOLS_METRICS_NAMESPACE: 'DiscordDigest'.length,
  /**
   * AwaitReview only: its function URL, `https://<32-character id>.lambda-url.<region>.on.aws/`
   * (https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html), counted for every function to stay safe.
   */
  REVIEW_LINK_URL: 80,
};

/**
 * What FinishRun alone carries besides those: the state machine and the Scheduler role its automatic-resume
 * schedules start it with (infra/scheduled-targets.ts). Longest values: a state machine ARN in the longest
 * partition and region with its fixed name; a role ARN with a 64-character role name.
 */
export const RESUME_MACHINE_ENV = 'RESUME_MACHINE_ARN';
export const RESUME_ROLE_ENV = 'RESUME_ROLE_ARN';
export const FINISH_RUN_VARIABLES: Readonly<Record<string, number>> = {
  [RESUME_MACHINE_ENV]: 'arn:aws-us-gov:states:ap-southeast-4:123456789012:stateMachine:discord-digest'
    .length,
  [RESUME_ROLE_ENV]: 'arn:aws-us-gov:iam::123456789012:role/'.length + 64,
};

/**
 * Bytes a function's environment takes at most once deployed. Lambda measures the variables as one JSON
 * object ("…exceeded the 4KB limit. String measured: {"KEY":"value",…}", quoted in
 * github-aws-runners/terraform-aws-github-runner#3594).
 */
export function functionEnvironmentBytes(
  variables: Readonly<Record<string, number>> = FUNCTION_VARIABLES,
): number {
  return Buffer.byteLength(
    JSON.stringify(
      Object.fromEntries(Object.entries(variables).map(([key, length]) => [key, 'x'.repeat(length)])),
    ),
  );
}
