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
  const full = `${SCHEDULE_NAME_PREFIX}${pipelineId}-${scheduleName}`;
  if (full.length <= SCHEDULE_NAME_MAX) return full;
  const hash = createHash('sha256')
    .update(`${pipelineId}/${scheduleName}`)
    .digest('hex')
    .slice(0, HASH_LENGTH);
  return `${full.slice(0, SCHEDULE_NAME_MAX - HASH_LENGTH - 1)}-${hash}`;
}

/**
 * Lambda refuses a function whose environment variables take more than 4 KB in all
 * (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html: "Environment variables: 4 KB"),
 * and every function carries the whole config in `DIGEST_CONFIG`.
 */
export const LAMBDA_ENVIRONMENT_MAX_BYTES = 4096;

/**
 * The variables every function has besides the config (infra/pipeline-stack.ts, infra/digest-function.ts),
 * with the longest value each can take once deployed: bucket names are at most 63 characters; the table name
 * CloudFormation generates (`DigestStateful-Ledger…-…`) is given 128 as a generous bound.
 */
export const OTHER_FUNCTION_VARIABLES: Readonly<Record<string, number>> = {
  NODE_OPTIONS: '--enable-source-maps'.length,
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
 * Bytes the functions' environment takes with this config. Lambda measures the variables as one JSON object
 * ("…exceeded the 4KB limit. String measured: {"KEY":"value",…}", quoted in
 * github-aws-runners/terraform-aws-github-runner#3594), so the config's own quotes count twice once escaped.
 */
export function functionEnvironmentBytes(configJson: string): number {
  const variables = Object.fromEntries(
    Object.entries(OTHER_FUNCTION_VARIABLES).map(([key, length]) => [key, 'x'.repeat(length)]),
  );
  return Buffer.byteLength(JSON.stringify({ ...variables, DIGEST_CONFIG: configJson }));
}
