import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import {
  ExecutionAbortedError,
  ExecutionError,
  ExecutionTimeoutError,
  StateMachine,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions';

type JSONValue = Parameters<StateMachine['run']>[0];
type EventLog = ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT = '123456789012';

/** Step Functions refuses a state's input or output above 256 KiB. */
const PAYLOAD_LIMIT_BYTES = 256 * 1024;

export type TaskHandler = (payload: unknown) => Promise<unknown>;

export interface LocalExecutionOptions {
  /** An Amazon States Language definition (JSONPath). */
  definition: object;
  input: unknown;
  executionName: string;
  /** For the context object's ARNs. */
  stateMachineName?: string;
  /** What each Task state runs instead of its Resource, by state name. */
  handlers: Record<string, TaskHandler>;
  /** Milliseconds to wait before a retry, per state (one figure, or one per retrier; -1 keeps the definition's). */
  retryIntervalOverrides?: Record<string, number | number[]>;
  /** Milliseconds a Wait state waits, per state. */
  waitTimeOverrides?: Record<string, number>;
  /** Aborting it stops the execution (status ABORTED). */
  signal?: AbortSignal;
  /** Called as each event happens, e.g. to print progress. */
  onStateEvent?: (event: LocalStateEvent) => void;
}

/** One line of the execution's history, trimmed for a report. */
export interface LocalStateEvent {
  type:
    | 'ExecutionStarted'
    | 'ExecutionSucceeded'
    | 'ExecutionFailed'
    | 'ExecutionAborted'
    | 'ExecutionTimeout'
    | 'StateEntered'
    | 'StateExited'
    | 'StateFailed'
    | 'StateRetried'
    | 'StateCaught'
    | 'Other';
  /** Epoch ms. */
  at: number;
  state?: string;
  stateType?: string;
  /** The Step Functions error name (StateFailed, ExecutionFailed). */
  error?: string;
  cause?: string;
  /** StateRetried: which retry this is (1 = the first retry). */
  attempt?: number;
  /** StateRetried, StateCaught: the matching retrier's or catcher's ErrorEquals. */
  errorEquals?: string[];
  /** StateCaught: where the catcher sends the execution. */
  next?: string;
}

export interface LocalExecutionResult {
  status: 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';
  output?: unknown;
  /** The Step Functions error name and cause of a failed execution. */
  error?: string;
  cause?: string;
  durationMs: number;
  events: LocalStateEvent[];
}

/**
 * The library matches Retry/Catch on `error.name` and puts `error.message` in
 * the caught Cause; `isRetryable`/`isCatchable` false make an error behave like
 * the States.* errors that neither Retry nor `States.ALL` can match.
 */
class StatesError extends Error {
  constructor(
    name: string,
    message: string,
    private readonly matchable = true,
  ) {
    super(message);
    this.name = name;
  }
  get isRetryable() {
    return this.matchable;
  }
  get isCatchable() {
    return this.matchable;
  }
}

const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value) ?? 'null', 'utf8');

/**
 * Make a local handler behave like a Lambda invoked by Step Functions:
 * the payload crosses as JSON both ways, and an error arrives as its name
 * (the Error for Retry/Catch) with the Lambda error document as the Cause.
 */
function asLambda(state: string, handler: TaskHandler) {
  return async (input: JSONValue): Promise<JSONValue> => {
    let result: unknown;
    try {
      result = await handler(structuredClone(input));
    } catch (thrown) {
      const error = thrown instanceof Error ? thrown : new Error(String(thrown));
      const cause = JSON.stringify({
        errorType: error.name,
        errorMessage: error.message,
        trace: (error.stack ?? '').split('\n'),
      });
      throw new StatesError(error.name, cause);
    }
    const output = JSON.parse(JSON.stringify(result ?? null)) as JSONValue;
    if (jsonBytes(output) > PAYLOAD_LIMIT_BYTES) {
      throw new StatesError(
        'States.DataLimitExceeded',
        `the output of ${state} is ${jsonBytes(output)} bytes, above the 256 KiB limit`,
        false,
      );
    }
    return output;
  };
}

/** The local runner speaks JSONPath only: a JSONata definition would be accepted and silently mis-run. */
function assertJsonPath(definition: object): void {
  const text = JSON.stringify(definition);
  if (/"QueryLanguage"\s*:\s*"JSONata"/.test(text)) {
    throw new Error('the state machine uses JSONata, which the local runner cannot execute; use JSONPath');
  }
}

function toStateEvent(event: EventLog): LocalStateEvent {
  const at = event.timestamp;
  switch (event.type) {
    case 'ExecutionStarted':
    case 'ExecutionSucceeded':
    case 'ExecutionAborted':
    case 'ExecutionTimeout':
      return { type: event.type, at };
    case 'ExecutionFailed':
      return { type: event.type, at, error: event.Error, cause: String(event.Cause) };
    case 'StateEntered':
    case 'StateExited':
      return { type: event.type, at, state: event.state.name, stateType: event.state.type };
    case 'StateFailed':
      return {
        type: event.type,
        at,
        state: event.state.name,
        stateType: event.state.type,
        error: event.Error,
        cause: String(event.Cause),
      };
    case 'StateRetried':
      return {
        type: event.type,
        at,
        state: event.state.name,
        stateType: event.state.type,
        attempt: event.retry.attempt,
        errorEquals: event.retry.retrier.ErrorEquals,
      };
    case 'StateCaught':
      return {
        type: event.type,
        at,
        state: event.state.name,
        stateType: event.state.type,
        errorEquals: event.catch.catcher.ErrorEquals,
        next: event.catch.catcher.Next,
      };
    default:
      // Map iterations and Parallel branches: kept as a marker, the states inside report themselves.
      return { type: 'Other', at };
  }
}

/**
 * Step Functions reads a Task's TimeoutSecondsPath from the state input; aws-local-stepfunctions 3.0.0
 * reads it from the input after Parameters (TaskStateAction.getTimeoutMs gets the processed input). So a
 * path into the state input is re-aimed at the Parameters field that carries that part of it
 * (`$.run.review.timeoutSeconds` → `$.Payload.run.review.timeoutSeconds` when Payload has `run.$: $.run`):
 * the same value, the same timeout. https://states-language.net/spec.html#task-state
 */
function parametersPathFor(parameters: unknown, path: string, at = '$'): string | undefined {
  if (typeof parameters !== 'object' || parameters === null) return undefined;
  for (const [key, value] of Object.entries(parameters)) {
    if (key.endsWith('.$') && typeof value === 'string' && (path === value || path.startsWith(`${value}.`))) {
      return `${at}.${key.slice(0, -2)}${path.slice(value.length)}`;
    }
    const nested = parametersPathFor(value, path, `${at}.${key}`);
    if (nested) return nested;
  }
  return undefined;
}

function withTimeoutPathsOnParameters(definition: object): object {
  const copy = structuredClone(definition) as { States?: Record<string, Record<string, unknown>> };
  for (const state of Object.values(copy.States ?? {})) {
    const path = state.TimeoutSecondsPath;
    if (state.Type !== 'Task' || typeof path !== 'string' || !state.Parameters) continue;
    const aimed = parametersPathFor(state.Parameters, path);
    if (aimed) state.TimeoutSecondsPath = aimed;
  }
  return copy;
}

/** Validating a definition costs ~100 ms; executions of one machine are independent, so reuse it. */
const machines = new WeakMap<object, StateMachine>();

function machineFor(definition: object): StateMachine {
  let machine = machines.get(definition);
  if (!machine) {
    assertJsonPath(definition);
    machine = new StateMachine(withTimeoutPathsOnParameters(definition) as StateMachineDefinition, {
      // Placeholder ARNs stand in for CDK's tokens; the paths are still checked.
      validationOptions: { checkArn: false, checkPaths: true },
    });
    machines.set(definition, machine);
  }
  return machine;
}

/** The stand-in for `$$.Task.Token` in a local execution. */
export const localTaskToken = (executionName: string) => `local-task-token-${executionName}`;

/**
 * Run a state machine definition in process with aws-local-stepfunctions,
 * each Task bound to a local handler by state name, and return its outcome
 * with the history of what ran, what was retried and what was caught.
 */
export async function executeLocally(options: LocalExecutionOptions): Promise<LocalExecutionResult> {
  const machine = machineFor(options.definition);
  const machineName = options.stateMachineName ?? 'discord-digest';
  const handlers = Object.fromEntries(
    Object.entries(options.handlers).map(([state, handler]) => [state, asLambda(state, handler)]),
  );
  const started = Date.now();
  const execution = machine.run(options.input as JSONValue, {
    overrides: {
      taskResourceLocalHandlers: handlers,
      ...(options.retryIntervalOverrides ? { retryIntervalOverrides: options.retryIntervalOverrides } : {}),
      ...(options.waitTimeOverrides ? { waitTimeOverrides: options.waitTimeOverrides } : {}),
    },
    context: {
      Execution: {
        Id: `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:execution:${machineName}:${options.executionName}`,
        Name: options.executionName,
        RoleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/${machineName}-local`,
      },
      StateMachine: {
        Id: `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${machineName}`,
        Name: machineName,
      },
      // aws-local-stepfunctions has no task tokens: one per execution stands in for `$$.Task.Token`, which
      // the definition's one waiting task (AwaitReview) passes on; the runner waits for its decision.
      Task: { Token: localTaskToken(options.executionName) },
    },
  });
  const abort = () => execution.abort();
  if (options.signal?.aborted) abort();
  options.signal?.addEventListener('abort', abort, { once: true });

  const events: LocalStateEvent[] = [];
  const collecting = (async () => {
    for await (const log of execution.eventLogs) {
      const event = toStateEvent(log);
      events.push(event);
      options.onStateEvent?.(event);
    }
  })();

  let outcome: Omit<LocalExecutionResult, 'durationMs' | 'events'>;
  try {
    outcome = { status: 'SUCCEEDED', output: await execution.result };
  } catch (error) {
    if (error instanceof ExecutionAbortedError) outcome = { status: 'ABORTED' };
    else if (error instanceof ExecutionTimeoutError) {
      outcome = { status: 'TIMED_OUT', error: 'States.Timeout', cause: 'the execution timed out' };
    } else if (error instanceof ExecutionError && error.cause instanceof Error) {
      // The error that ended the execution: a Task's error name, a Fail state's Error, or States.*.
      outcome = { status: 'FAILED', error: error.cause.name, cause: error.cause.message };
    } else throw error;
  } finally {
    options.signal?.removeEventListener('abort', abort);
  }
  await collecting;
  return { ...outcome, durationMs: Date.now() - started, events };
}

/**
 * A Lambda context for calling a real handler in process: the remaining time
 * counts down from `timeoutMs`, as it does in the function.
 */
export function lambdaContext(functionName: string, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  const requestId = randomUUID();
  const today = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `${today}/[$LATEST]${requestId.replaceAll('-', '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
