import { randomUUID } from 'node:crypto';
import { CONFIG_ENV } from '../../shared/config/load';
import { TASK_STATES, type TaskStateName } from '../../shared/config/resources';
import type { DigestConfig } from '../../shared/config/schema';
import type { StartRunInput } from '../../shared/pipeline/begin-run';
import type { RunReport } from '../../shared/pipeline/finish-run';
import { synthesizeDefinition } from '../definition';
import type { LocalEnvironment } from './environment';
import { executeLocally, lambdaContext } from './local-execution';
import { awaitReviewLocally } from './review-wait';

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

/** The real Lambda handlers, loaded in process and keyed by the state that invokes them. */
let handlersCache: Promise<Record<string, (payload: unknown) => Promise<unknown>>> | undefined;
const cachedHandlers = () => {
  handlersCache ??= loadHandlers();
  return handlersCache;
};

async function loadHandlers(): Promise<Record<string, (payload: unknown) => Promise<unknown>>> {
  const entries = await Promise.all(
    (Object.keys(TASK_STATES) as TaskStateName[]).map(async (state) => {
      const module = (await import(`../../functions/${TASK_STATES[state].dir}/handler.ts`)) as {
        handler: Handler;
      };
      const invoke = (payload: unknown) =>
        module.handler(
          payload,
          // Each function's timeout in the cloud is also its local budget (getRemainingTimeInMillis).
          lambdaContext(`discord-digest-${TASK_STATES[state].dir}`, TASK_STATES[state].timeoutSeconds * 1000),
        );
      return [state, invoke] as const;
    }),
  );
  return Object.fromEntries(entries);
}

function intercept(
  handlers: Record<string, (payload: unknown) => Promise<unknown>>,
  wrapper: LocalRunOptions['interceptTask'],
): Record<string, (payload: unknown) => Promise<unknown>> {
  if (!wrapper) return handlers;
  return Object.fromEntries(
    Object.entries(handlers).map(([state, invoke]) => [
      state,
      (payload: unknown) => wrapper(state, payload, invoke),
    ]),
  );
}

/** What the execution is doing, for a caller that must close the run when interrupted. */
export interface RunProgress {
  /** The execution BeginRun saw (its ARN, as the run record stores it). */
  executionId?: string;
  /** The run BeginRun opened, once it answered; `proceed` false: duplicate or skipped. */
  run?: { pipelineId: string; runId: string; proceed: boolean };
  /** The task invoked now, and a promise that settles when its handler does. */
  current?: { state: string; startedAt: number; endedAt?: number; settled: Promise<void> };
  /** The last task whose handler threw (retried or caught by the state machine). */
  lastFailure?: { state: string; name: string; message: string };
}

/** Follow each task's invocation into `progress`. */
function track(
  handlers: Record<string, (payload: unknown) => Promise<unknown>>,
  progress: RunProgress | undefined,
): Record<string, (payload: unknown) => Promise<unknown>> {
  if (!progress) return handlers;
  return Object.fromEntries(
    Object.entries(handlers).map(([state, invoke]) => [
      state,
      (payload: unknown) => {
        const pending = invoke(payload);
        const current: NonNullable<RunProgress['current']> = {
          state,
          startedAt: Date.now(),
          settled: pending.then(noop, noop).then(() => {
            current.endedAt = Date.now();
          }),
        };
        progress.current = current;
        pending.catch((error: unknown) => {
          const { name, message } = error instanceof Error ? error : new Error(String(error));
          progress.lastFailure = { state, name, message };
        });
        if (state === 'BeginRun') {
          const event = payload as { executionId?: unknown };
          if (typeof event.executionId === 'string') progress.executionId = event.executionId;
          void pending.then((output) => {
            const run = (output as { run?: RunProgress['run'] } | undefined)?.run;
            if (run) progress.run = { pipelineId: run.pipelineId, runId: run.runId, proceed: run.proceed };
          }, noop);
        }
        return pending;
      },
    ]),
  );
}

const noop = () => undefined;

/** The review task waits for its decision as the deployed waitForTaskToken task does (review-wait.ts). */
function withLocalReview(
  handlers: Record<string, (payload: unknown) => Promise<unknown>>,
  signal: AbortSignal | undefined,
): Record<string, (payload: unknown) => Promise<unknown>> {
  const review = handlers.AwaitReview;
  return review ? { ...handlers, AwaitReview: awaitReviewLocally(review, signal) } : handlers;
}

export interface LocalRunOptions {
  config: DigestConfig;
  environment: LocalEnvironment;
  input: StartRunInput;
  executionName?: string;
  /** The ASL to run; synthesized from the CDK app when absent. */
  definition?: object;
  /** Shorten Retry waits (tests); the definition's own intervals when absent. */
  retryIntervalOverrides?: Record<string, number | number[]>;
  /** Shorten Wait states (tests: a rate-limit wait of minutes in milliseconds). */
  waitTimeOverrides?: Record<string, number>;
  /** Wrap a task's invocation (fault tests: fail after the handler's side effects). */
  interceptTask?: (
    state: string,
    payload: unknown,
    invoke: (payload: unknown) => Promise<unknown>,
  ) => Promise<unknown>;
  /** Aborting it stops the execution (ABORTED), as StopExecution does. */
  signal?: AbortSignal;
  /** Filled in as the execution goes (see RunProgress). */
  progress?: RunProgress;
}

export interface LocalRunResult {
  status: string;
  error?: string;
  cause?: string;
  durationMs: number;
  report?: RunReport;
  output?: unknown;
  /** States entered plus retries: what Step Functions Standard bills as state transitions. */
  stateTransitions: number;
}

/** Point the in-process handlers at the local environment, the way CDK sets a Lambda's variables. */
export function applyEnvironment(config: DigestConfig, environment: LocalEnvironment): void {
  Object.assign(process.env, environment.env, { [CONFIG_ENV]: JSON.stringify(config) });
}

/** Run the synthesized state machine once, locally, with every task bound to its real handler. */
export async function runDigestLocally(options: LocalRunOptions): Promise<LocalRunResult> {
  applyEnvironment(options.config, options.environment);
  const definition = options.definition ?? synthesizeDefinition(options.config).definition;
  const result = await executeLocally({
    definition,
    input: options.input,
    executionName: options.executionName ?? randomUUID(),
    handlers: track(
      intercept(withLocalReview(await cachedHandlers(), options.signal), options.interceptTask),
      options.progress,
    ),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.retryIntervalOverrides ? { retryIntervalOverrides: options.retryIntervalOverrides } : {}),
    ...(options.waitTimeOverrides ? { waitTimeOverrides: options.waitTimeOverrides } : {}),
  });
  const output = result.output as { report?: RunReport } | undefined;
  return {
    status: result.status,
    ...(result.error ? { error: result.error } : {}),
    ...(result.cause ? { cause: result.cause } : {}),
    durationMs: result.durationMs,
    ...(output?.report ? { report: output.report } : {}),
    output: result.output,
    stateTransitions: result.events.filter((e) => e.type === 'StateEntered' || e.type === 'StateRetried')
      .length,
  };
}
