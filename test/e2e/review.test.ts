import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { synthesizeDefinition } from '../../infra/definition';
import { type LocalEnvironment, startLocalEnvironment } from '../../infra/local/environment';
import { runDigestLocally } from '../../infra/local/runner';
import { createDynamoDocumentClient } from '../../shared/adapters/aws-clients';
import { createRunLedger } from '../../shared/adapters/dynamo-ledger';
import { createReviewStore } from '../../shared/adapters/dynamo-review-store';
import { loadConfigFile } from '../../shared/config/load';
import { configSchema } from '../../shared/config/schema';
import { decideReview } from '../../shared/pipeline/review';
import type { ReviewStore, RunLedger } from '../../shared/ports';

/**
 * Review before publishing, on the synthesized state machine run locally: AwaitReview waits for the
 * decision `digest approve|reject` records, or for its own timeout, as the deployed waitForTaskToken task does.
 */
const sample = loadConfigFile('digest.config.json');
const config = configSchema.parse({
  pipelines: sample.pipelines.map((p) => ({
    ...p,
    publisher: { ...p.publisher, review: 'approve' },
    review: { expiresHours: 1 },
  })),
});
const pipelineId = config.pipelines[0]?.id ?? '';
const now = new Date('2026-11-24T08:00:00.000Z');
let environment: LocalEnvironment;
let definition: object;
let reviews: ReviewStore;
let ledger: RunLedger;

beforeAll(() => {
  process.env.DIGEST_REVIEW_POLL_MS = '25';
  definition = synthesizeDefinition(config).definition;
});
// Each case starts from the same channel and an empty sheet, as a first run of the day does.
beforeEach(async () => {
  environment = await startLocalEnvironment({ config, secretsEnv: {}, now });
  const client = createDynamoDocumentClient(environment.env);
  reviews = createReviewStore({ client, tableName: environment.aws.table });
  ledger = createRunLedger({ client, tableName: environment.aws.table });
});
afterEach(async () => {
  await environment?.close();
});

const tweets = () => environment.sandboxes.x?.tweets().length ?? 0;

/** Start a run and wait until its draft waits for review. */
async function runUntilReview(runId: string, options: Partial<Parameters<typeof runDigestLocally>[0]> = {}) {
  const execution = runDigestLocally({
    config,
    environment,
    definition,
    // The seeded channel's day ends at `now`: a scheduled run for that time collects it.
    input: {
      pipelineId,
      trigger: 'schedule',
      scheduleName: 'morning',
      scheduledTime: now.toISOString(),
      runId,
    },
    executionName: `review-${runId}`,
    ...options,
  });
  for (let i = 0; i < 1200; i += 1) {
    const review = await reviews.get(pipelineId, runId);
    if (review?.status === 'pending') return { execution, review };
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`run ${runId} never asked for a review`);
}

describe('review before publishing, locally', () => {
  it('waits for approval, then publishes the draft once', async () => {
    // Prepare
    const before = tweets();
    const { execution, review } = await runUntilReview('review-approve');
    expect(review.taskToken).toBe('local-task-token-review-review-approve');
    expect(tweets()).toBe(before);
    expect((await ledger.getRun(pipelineId, 'review-approve'))?.steps.review?.status).toBe('partial');
    // The lock is held over the wait, still naming this process (a kill -9 meanwhile is seen at once).
    const lock = await ledger.getLock(pipelineId);
    expect(lock?.leaseUntil).toBeGreaterThan(Date.now() + 3600_000);
    expect(lock?.process?.pid).toBe(process.pid);

    // Act
    const message = await decideReview(
      { reviews, ledger, now: () => new Date() },
      { pipelineId, runId: 'review-approve', decision: 'approve', by: 'alice' },
    );
    const result = await execution;

    // Assess
    expect(message).toContain('approved by alice');
    expect(result.report?.status).toBe('succeeded');
    expect(result.report?.steps.review).toMatchObject({ status: 'succeeded', notes: { decidedBy: 'alice' } });
    expect(result.report?.steps.publish?.status).toBe('succeeded');
    expect(tweets()).toBeGreaterThan(before);
    expect((await ledger.getRun(pipelineId, 'review-approve'))?.steps.review?.status).toBe('succeeded');
    // The request reached the notify destination that listens for it (ops-channel), once; on-call's `on` leaves it out.
    const requests = (environment.sandboxes.discordWebhook?.messages() ?? []).filter((m) =>
      m.content.includes('draft waiting for review (review-approve)'),
    );
    expect(requests).toHaveLength(1);
    expect(requests[0]?.content).toContain('npm run digest -- approve review-approve');
    const mails = environment.sandboxes.ses?.sent() ?? [];
    expect(mails.filter((m) => m.subject.includes('draft waiting for review'))).toEqual([]);
  });

  it('posts nothing after a rejection, ends partial and records who and why', async () => {
    // Prepare
    const before = tweets();
    const { execution } = await runUntilReview('review-reject');

    // Act
    await decideReview(
      { reviews, ledger, now: () => new Date() },
      { pipelineId, runId: 'review-reject', decision: 'reject', by: 'bob', reason: 'off topic' },
    );
    const result = await execution;

    // Assess
    expect(result.report?.status).toBe('partial');
    expect(result.report?.reason).toContain('review: ReviewRejected rejected by bob: off topic');
    expect(result.report?.steps.publish?.notes?.reason).toContain('not approved: rejected by bob');
    expect(result.report?.steps.archive?.notes?.reason).toContain('not approved: rows stay');
    expect(tweets()).toBe(before);
    const stored = await ledger.getRun(pipelineId, 'review-reject');
    expect(stored?.status).toBe('partial');
    expect(stored?.steps.review?.error?.name).toBe('ReviewRejected');
    await expect(
      decideReview(
        { reviews, ledger, now: () => new Date() },
        { pipelineId, runId: 'review-reject', decision: 'approve', by: 'carol' },
      ),
    ).rejects.toThrow('already rejected by bob');
  });

  it('ends partial with nothing posted when no one decides before the review expires', async () => {
    // Prepare: the state's TimeoutSecondsPath comes from BeginRun's output; two seconds stand in for the hour.
    const before = tweets();
    const shorten = async (state: string, payload: unknown, invoke: (p: unknown) => Promise<unknown>) => {
      const output = (await invoke(payload)) as { run: { review?: { timeoutSeconds: number } } };
      if (state === 'BeginRun' && output.run.review) output.run.review.timeoutSeconds = 2;
      return output;
    };

    // Act
    const { execution } = await runUntilReview('review-expire', { interceptTask: shorten });
    const result = await execution;

    // Assess
    expect(result.report?.status).toBe('partial');
    expect(result.report?.steps.review?.error?.name).toBe('ReviewExpired');
    expect(result.report?.steps.publish?.status).toBe('skipped');
    expect(tweets()).toBe(before);
    await expect(
      decideReview(
        { reviews, ledger, now: () => new Date() },
        { pipelineId, runId: 'review-expire', decision: 'approve', by: 'late' },
      ),
    ).rejects.toThrow('expired');
  });
});
