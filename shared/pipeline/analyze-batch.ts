import type { PipelineConfig } from '../config/schema';
import { PermanentError, RateLimitedError, TransientError, WaitForRateLimitError } from '../errors';
import type { Analyzer, ObjectStore } from '../ports';
import { stateMachineWaitSeconds, withResetTime } from '../runtime/rate-limit-wait';
import { MAX_IN_PROCESS_WAIT_MS } from '../runtime/step-context';
import {
  type BatchInput,
  type BatchOutcome,
  type BatchResult,
  batchInputKeyOf,
  batchResultKeyOf,
  type ItemInput,
  loadBatchResult,
  type PlannedRow,
  PROCESSED,
  quotaStopKeyOf,
} from './plan-analysis';

export interface AnalyzeBatchDeps {
  pipeline: PipelineConfig;
  analyzer: Analyzer;
  store: ObjectStore;
  log: (message: string, data: Record<string, unknown>) => void;
  now?: () => number;
}

/**
 * Analyse one batch of the run's plan with one Gemini request and store the
 * result as `analysis/NNNNN.json`, written once: a stored result means the
 * batch is done, so a retried or resumed Map asks Gemini only for the batches
 * that have none. A rate limit the state machine can wait out answers
 * `waitSeconds` (the iterator's Wait state runs the batch again); a quota that
 * resets later than the run may wait answers `waiting` with the reset, and
 * the batch is left for a resume. Other errors are thrown for the iterator's
 * Retry and Catch, which keep them to this batch.
 */
export async function analyzeRunBatch(deps: AnalyzeBatchDeps, input: BatchInput): Promise<BatchOutcome> {
  const { run, round, batch } = input;
  const now = deps.now ?? Date.now;
  const started = now();
  const stored = await loadBatchResult(deps.store, run.pipelineId, run.runId, round, batch);
  if (stored) return { batch, status: 'reused', posts: stored.rows.length, requests: 0 };

  // A batch of this execution found a quota spent: until its reset the others ask nothing (each would be a 429).
  // Per execution, not per run: a resume (a paid tier since, or the reset come) asks again.
  const executionStop = quotaStopKeyOf(run.pipelineId, run.runId, round, `execution-${run.startedAt}`);
  const known = await deps.store.getText(executionStop);
  const knownReset = known ? (JSON.parse(known) as { resetAt: string }).resetAt : undefined;
  if (knownReset && Date.parse(knownReset) > started)
    return { batch, status: 'waiting', resetAt: knownReset };

  const inputKey = batchInputKeyOf(run.pipelineId, run.runId, round, batch);
  const text = await deps.store.getText(inputKey);
  if (text === undefined)
    throw new PermanentError(`analysis batch ${inputKey} is missing from the run's plan`);
  const rows = JSON.parse(text) as PlannedRow[];
  const { gemini } = deps.pipeline;
  let answers: Awaited<ReturnType<Analyzer['analyzePosts']>>;
  try {
    answers = await deps.analyzer.analyzePosts(
      rows.map(({ messageId, content, postLink, author }) => ({ messageId, content, postLink, author })),
      {
        model: gemini.model,
        topic: gemini.topic,
        language: gemini.language,
        temperature: gemini.temperature,
      },
    );
  } catch (error) {
    // A short limit that outlasted the adapter's own waits is the iterator's Retry's.
    if (!(error instanceof RateLimitedError) || error.retryAfterMs <= MAX_IN_PROCESS_WAIT_MS) throw error;
    const waitSeconds = stateMachineWaitSeconds(error, run.startedAt, started);
    const resetAt = error.resetAt.toISOString();
    deps.log('batch rate limited', { batch, waitSeconds, resetAt, reason: withResetTime(error) });
    if (waitSeconds !== undefined) return { batch, status: 'waiting', waitSeconds };
    // The reason is stored once per reset, not carried by each of a thousand outcomes (the state's 256 KiB).
    const stop = JSON.stringify({ resetAt, reason: withResetTime(error) });
    await deps.store.putIfAbsent(
      quotaStopKeyOf(run.pipelineId, run.runId, round, resetAt),
      stop,
      'application/json',
    );
    await deps.store.putIfAbsent(executionStop, stop, 'application/json');
    return { batch, status: 'waiting', resetAt };
  }

  const byId = new Map(answers.map((a) => [a.messageId, a]));
  const result: BatchResult = {
    batch,
    analysedAt: new Date(now()).toISOString(),
    rows: rows.flatMap((row) => {
      const answer = byId.get(row.messageId);
      // A post the model left out stays unanalysed in the sheet: the next run picks it up.
      if (!answer) return [];
      return [
        {
          rowNumber: row.rowNumber,
          messageId: row.messageId,
          postLink: row.postLink,
          cells: {
            ai_processed: PROCESSED,
            is_new_project: String(answer.isNewProject),
            project_handle: answer.projectHandle,
            project_link: answer.projectLink,
            summary: answer.summary,
          },
        },
      ];
    }),
  };
  const key = batchResultKeyOf(run.pipelineId, run.runId, round, batch);
  if (!(await deps.store.putIfAbsent(key, JSON.stringify(result), 'application/json'))) {
    // A concurrent attempt of this batch stored its answer first: that one is the batch's.
    deps.log('batch result stored by a concurrent attempt; keeping that one', { batch });
  }
  return { batch, status: 'done', posts: result.rows.length, requests: 1 };
}

/**
 * One Map item: its batches sent to Gemini at once, so the invocation waits (and
 * is billed) once for all of them. Every batch settles before the item answers:
 * a result stored is kept whatever its neighbours do. Then a batch stopped by a
 * rate limit the state machine can wait out makes the item throw
 * WaitForRateLimitError (the iterator waits and runs the item again, whose stored
 * batches are reused); a batch's error goes to the iterator's Retry, a transient
 * one first, so a retry asks again for the failed batches only.
 */
export async function analyzeRunItem(deps: AnalyzeBatchDeps, input: ItemInput): Promise<BatchOutcome[]> {
  const { run, round, batches } = input;
  const now = deps.now ?? Date.now;
  const settled = await Promise.allSettled(
    batches.map((batch) => analyzeRunBatch(deps, { run, round, batch })),
  );
  const errors = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : []));
  const error = errors.find((e) => e instanceof TransientError) ?? errors[0];
  if (error !== undefined) throw error;
  const outcomes = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const waits = outcomes.flatMap((o) => (o.waitSeconds === undefined ? [] : [o.waitSeconds]));
  if (waits.length > 0) {
    const resumeAt = new Date(now() + Math.max(...waits) * 1000);
    deps.log('item waits for a rate limit', { batches, resumeAt: resumeAt.toISOString() });
    throw new WaitForRateLimitError(resumeAt);
  }
  return outcomes;
}
