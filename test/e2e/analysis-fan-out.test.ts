/**
 * The analysis fan-out on the synthesized state machine, run locally with the
 * real handlers and clients against the sandboxes: the inline Map's items
 * keep at most the quota's requests in flight at Gemini, a failed batch is
 * redone alone, a resume after the execution died mid-Map asks Gemini only for the
 * batches with no stored result, and a run costs Discord ⌈N/100⌉ pages and
 * Gemini one request a batch plus the draft.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { LocalEnvironment } from '../../infra/local/environment';
import { type RunProgress, runDigestLocally } from '../../infra/local/runner';
import { createDynamoDocumentClient, createS3Client } from '../../shared/adapters/aws-clients';
import { createRunLedger } from '../../shared/adapters/dynamo-ledger';
import { createObjectStore } from '../../shared/adapters/s3-object-store';
import { batchesPerItem, requestsInFlight } from '../../shared/domain/analysis-fan-out';
import { closeAbandonedRun } from '../../shared/pipeline/close-abandoned-run';
import { batchInputKeyOf, batchResultKeyOf } from '../../shared/pipeline/plan-analysis';
import {
  assertNothingLostOrDoubled,
  config,
  pipeline,
  RUN_ID,
  runOnce,
  SCHEDULED,
  stateMachine,
  withEnvironment,
} from '../faults/harness';

// Enough for more batches than the Map runs at once (the seed spreads them over three days).
const MESSAGES = 3_000;

const storeOf = (env: LocalEnvironment) =>
  createObjectStore({ client: createS3Client(), bucket: env.aws.bucket });

/** Each batch's stored result (undefined: none), read from S3. */
async function batchResults(env: LocalEnvironment, batches: number): Promise<(string | undefined)[]> {
  const store = storeOf(env);
  return Promise.all(
    Array.from({ length: batches }, (_, i) => store.getText(batchResultKeyOf(pipeline.id, RUN_ID, 1, i + 1))),
  );
}

const batchesOf = (payload: unknown) => (payload as { batches?: number[] }).batches ?? [];

describe('the analysis fan-out on the state machine', () => {
  it('keeps at most the quota’s requests in flight at Gemini, an item’s batches sent at once, and costs ⌈N/100⌉ pages and one request a batch + 1', {
    timeout: 120_000,
  }, async () => {
    await withEnvironment(async (env) => {
      // Prepare: answers are held a while, so requests in flight overlap as they do in life.
      const gemini = env.sandboxes.gemini;
      const discord = env.sandboxes.discord;
      if (!gemini || !discord) throw new Error('no sandboxes');
      gemini.holdAnswers(300);
      const pagesBefore = discord.faults.calls.filter((c) => c.path.includes('/messages')).length;

      const items: number[][] = [];

      // Act
      const result = await runOnce(env, {
        interceptTask: async (state, payload, invoke) => {
          if (state === 'AnalyzeBatch') items.push(batchesOf(payload));
          return invoke(payload);
        },
      });

      // Assess
      const report = result.report;
      expect(report?.status).toBe('succeeded');
      const kept = report?.steps.collect?.counts.postsKept ?? 0;
      const seen = report?.steps.collect?.counts.messagesSeen ?? 0;
      const batches = Math.ceil(kept / pipeline.gemini.batchSize);
      const inFlight = requestsInFlight(pipeline.gemini);
      expect(batches).toBeGreaterThan(inFlight);
      expect(gemini.peakInFlight()).toBeGreaterThan(1);
      expect(gemini.peakInFlight()).toBeLessThanOrEqual(inFlight);
      // One invocation an item, each sending its batches at once.
      expect(items).toHaveLength(Math.ceil(batches / batchesPerItem(pipeline.gemini)));
      expect(items.flat()).toEqual(Array.from({ length: batches }, (_, i) => i + 1));
      expect(gemini.requests).toHaveLength(batches + 1);
      expect(report?.steps.analyze?.counts).toMatchObject({
        postsAnalysed: kept,
        geminiRequests: batches + 1,
      });
      // The page that proves the window's end is one of them unless N is a multiple of 100.
      const pages = discord.faults.calls.filter((c) => c.path.includes('/messages')).length - pagesBefore;
      expect(pages).toBe(Math.floor(seen / 100) + 1);
      expect(report?.steps.collect?.counts.discordRequests).toBe(pages);
      await assertNothingLostOrDoubled(env);
    }, MESSAGES);
  });

  it('a batch that fails is the only one redone: the others, sent with it, keep their stored results', {
    timeout: 120_000,
  }, async () => {
    await withEnvironment(async (env) => {
      // Prepare: Gemini fails every request for batch 2 in the first run (after the item's retries its
      // error is caught); the batches sent with it in its item are answered.
      const gemini = env.sandboxes.gemini;
      if (!gemini) throw new Error('no Gemini sandbox');
      const invocations: number[][] = [];
      let broken = true;
      const interceptTask = async (
        state: string,
        payload: unknown,
        invoke: (p: unknown) => Promise<unknown>,
      ) => {
        if (state === 'AnalyzeBatch') invocations.push(batchesOf(payload));
        const answer = await invoke(payload);
        if (state === 'PlanAnalysis' && broken) {
          // The run's own S3 client, made for this environment once the run started.
          const text = await storeOf(env).getText(batchInputKeyOf(pipeline.id, RUN_ID, 1, 2));
          const rows = JSON.parse(text ?? '[]');
          const id = (rows as { messageId: string }[])[0]?.messageId ?? 'none';
          gemini.faults.add({ kind: 'server-error', bodyIncludes: id, times: 1_000 });
        }
        return answer;
      };

      // Act
      const first = await runOnce(env, { interceptTask });
      const batches = first.report?.steps.analyze?.counts.batchesMissing === 1;
      const kept = first.report?.steps.collect?.counts.postsKept ?? 0;
      const count = Math.ceil(kept / pipeline.gemini.batchSize);
      const before = await batchResults(env, count);
      const requestsBefore = gemini.requests.length;
      const firstInvocations = [...invocations];
      broken = false;
      gemini.faults.clear();
      invocations.length = 0;
      const resumed = await runOnce(env, { resume: true, interceptTask });

      // Assess
      expect(batches).toBe(true);
      // Batch 2's item was run again by the Map's Retry; every other item once.
      const withTwo = firstInvocations.filter((item) => item.includes(2));
      expect(withTwo.length).toBeGreaterThan(1);
      expect(withTwo[0]?.length).toBeGreaterThan(1);
      expect(first.report?.status).toBe('partial');
      expect(first.report?.steps.analyze?.status).toBe('failed');
      expect(first.report?.steps.analyze?.error?.name).toBe('TransientError');
      expect(first.report?.steps.publish?.status).toBe('skipped');
      // Answered once each: a retried item asked again for batch 2 only.
      expect(requestsBefore).toBe(count - 1);
      expect(before[1]).toBeUndefined();
      expect(before.filter((r) => r !== undefined)).toHaveLength(count - 1);
      expect(resumed.report?.status).toBe('succeeded');
      // Gemini was asked again for batch 2 only, then for the draft.
      expect(gemini.requests.length - requestsBefore).toBe(2);
      const after = await batchResults(env, count);
      for (const [i, text] of before.entries()) if (text !== undefined) expect(after[i]).toBe(text);
      expect(resumed.report?.steps.analyze?.counts).toMatchObject({ geminiRequests: 2 });
      await assertNothingLostOrDoubled(env);
    }, MESSAGES);
  });

  it('a resume after the execution died mid-Map asks Gemini only for the batches without a result', {
    timeout: 120_000,
  }, async () => {
    await withEnvironment(async (env) => {
      // Prepare: the execution is stopped once an item's batches are stored, as StopExecution or a crash would.
      const gemini = env.sandboxes.gemini;
      if (!gemini) throw new Error('no Gemini sandbox');
      gemini.holdAnswers(200);
      const controller = new AbortController();
      const progress: RunProgress = {};
      let done = 0;
      const input = {
        pipelineId: pipeline.id,
        trigger: 'schedule' as const,
        scheduleName: 'morning',
        scheduledTime: SCHEDULED,
        resume: false,
      };

      // Act
      const crashed = await runDigestLocally({
        config,
        environment: env,
        definition: stateMachine(),
        executionName: randomUUID(),
        input,
        signal: controller.signal,
        progress,
        interceptTask: async (state, payload, invoke) => {
          // aws-local-stepfunctions still starts Map items queued behind MaxConcurrency after an abort;
          // a stopped execution in AWS starts none, so neither does this one.
          if (controller.signal.aborted) throw new Error('the execution was stopped');
          const answer = await invoke(payload);
          if (state === 'AnalyzeBatch') {
            done += 1;
            if (done === 1) controller.abort();
          }
          return answer;
        },
      });
      // What CloseAbandonedRun does when the execution ends ABORTED: the run is failed, the lock free.
      const ledger = createRunLedger({ client: createDynamoDocumentClient(), tableName: env.aws.table });
      await closeAbandonedRun({ ledger, now: () => new Date(), log: () => undefined }, {
        detail: {
          executionArn: progress.executionId ?? '',
          status: 'ABORTED',
          input: JSON.stringify(input),
        },
      } as Parameters<typeof closeAbandonedRun>[1]);
      // Batches already at Gemini when the execution stopped finish in the background, as a Lambda would.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const kept = (await ledger.getRun(pipeline.id, RUN_ID))?.steps.collect?.counts.postsKept ?? 0;
      const count = Math.ceil(kept / pipeline.gemini.batchSize);
      const stored = (await batchResults(env, count)).filter((r) => r !== undefined).length;
      const requestsBefore = gemini.requests.length;
      const resumed = await runOnce(env, { resume: true });

      // Assess
      expect(crashed.status).toBe('ABORTED');
      expect(stored).toBeGreaterThanOrEqual(2);
      expect(stored).toBeLessThan(count);
      expect(resumed.report?.status).toBe('succeeded');
      expect(gemini.requests.length - requestsBefore).toBe(count - stored + 1);
      expect(resumed.report?.steps.analyze?.counts.postsAnalysed).toBeLessThan(kept);
      await assertNothingLostOrDoubled(env);
    }, MESSAGES);
  });
});
