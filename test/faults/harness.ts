import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { synthesizeDefinition } from '../../infra/definition';
import { type LocalEnvironment, startLocalEnvironment } from '../../infra/local/environment';
import { type LocalRunOptions, type LocalRunResult, runDigestLocally } from '../../infra/local/runner';
import { createS3Client } from '../../shared/adapters/aws-clients';
import { createObjectStore } from '../../shared/adapters/s3-object-store';
import { loadConfigFile } from '../../shared/config/load';
import { TASK_STATES } from '../../shared/config/resources';
import { csvToPosts } from '../../shared/domain/csv';
import { readRunCsv } from '../../shared/pipeline/collect';

export const config = loadConfigFile('digest.config.json');
const first = config.pipelines[0];
if (!first) throw new Error('the sample config has no pipeline');
export const pipeline = first;
export const SCHEDULED = '2026-11-24T08:00:00.000Z';
export const RUN_ID = 'morning-20261124T0800Z';

let definition: object | undefined;
export const stateMachine = () => {
  definition ??= synthesizeDefinition(config).definition;
  return definition;
};

/** The suite's figures, printed at the end: the issue asks for them. */
export const tally = {
  faultsInjected: 0,
  runs: 0,
  duplicatePosts: 0,
  duplicateRows: 0,
  rowsLost: 0,
  scenarios: 0,
};

export async function withEnvironment(
  fn: (env: LocalEnvironment) => Promise<void>,
  seedCount = 40,
): Promise<void> {
  const env = await startLocalEnvironment({
    config,
    secretsEnv: {},
    now: new Date(SCHEDULED),
    seedCount,
    awsFaultProxies: true,
    apiTimeoutMs: 800,
    apiRetryBaseMs: 20,
  });
  try {
    await fn(env);
  } finally {
    await env.close();
  }
}

/** No waiting between the state machine's retries: the faults, not the clock, are under test. */
const NO_WAIT = Object.fromEntries(Object.keys(TASK_STATES).map((s) => [s, 0]));

export async function runOnce(
  env: LocalEnvironment,
  extra: Partial<Pick<LocalRunOptions, 'interceptTask'>> & { resume?: boolean; runId?: string } = {},
): Promise<LocalRunResult> {
  tally.runs += 1;
  return runDigestLocally({
    config,
    environment: env,
    definition: stateMachine(),
    executionName: randomUUID(),
    retryIntervalOverrides: NO_WAIT,
    input: {
      pipelineId: pipeline.id,
      trigger: 'schedule',
      scheduleName: 'morning',
      scheduledTime: SCHEDULED,
      resume: extra.resume ?? false,
      ...(extra.runId ? { runId: extra.runId } : {}),
    },
    ...(extra.interceptTask ? { interceptTask: extra.interceptTask } : {}),
  });
}

/** Run; while the run is not succeeded, resume it (what an operator or the next schedule does). */
export async function runToCompletion(env: LocalEnvironment, maxRuns = 3): Promise<LocalRunResult[]> {
  const results = [await runOnce(env)];
  while (results.at(-1)?.report?.status !== 'succeeded' && results.length < maxRuns) {
    results.push(await runOnce(env, { resume: true }));
  }
  return results;
}

function tabIds(env: LocalEnvironment, title: string): string[] {
  const rows = env.sandboxes.sheets?.tab(pipeline.sheet.spreadsheetId, title) ?? [];
  const [head = [], ...data] = rows;
  const index = head.indexOf('message_id');
  return data.map((r) => r[index] ?? '').filter(Boolean);
}

/**
 * The invariants every fault must leave intact: every kept message is in the
 * main or Archive tab exactly once, no row twice, no post twice, and the
 * published thread is the run's draft, each part replying to the one before.
 */
export async function assertNothingLostOrDoubled(env: LocalEnvironment, runId = RUN_ID): Promise<void> {
  const store = createObjectStore({ client: createS3Client(), bucket: env.aws.bucket });
  const csv = await readRunCsv(store, pipeline.id, runId);
  expect(csv, 'the run CSV is kept').toBeDefined();
  const kept = csvToPosts(csv?.text ?? '').map((p) => p.messageId);
  const inSheet = [...tabIds(env, pipeline.sheet.mainTab), ...tabIds(env, pipeline.sheet.archiveTab)];
  const duplicates = inSheet.length - new Set(inSheet).size;
  const lost = kept.filter((id) => inSheet.filter((x) => x === id).length !== 1).length;
  const tweets = env.sandboxes.x?.tweets() ?? [];
  const duplicatePosts = tweets.length - new Set(tweets.map((t) => t.text)).size;
  tally.duplicateRows += duplicates;
  tally.rowsLost += lost;
  tally.duplicatePosts += duplicatePosts;
  expect(kept.length).toBeGreaterThan(0);
  expect(duplicates, 'duplicate sheet rows').toBe(0);
  expect(lost, 'kept messages not in the sheet exactly once').toBe(0);
  expect(duplicatePosts, 'duplicate posts').toBe(0);
  for (const [i, tweet] of tweets.entries()) {
    expect(tweet.inReplyTo).toBe(i === 0 ? undefined : tweets[i - 1]?.id);
  }
}
