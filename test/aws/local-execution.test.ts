import { describe, expect, it } from 'vitest';
import { executeLocally, lambdaContext, type TaskHandler } from '../../infra/local/local-execution';
import { PermanentError, RateLimitedError, TransientError } from '../../shared/errors';

const LAMBDA = 'arn:aws:states:::lambda:invoke';
const FUNCTION = (name: string) => `arn:aws:lambda:us-east-1:123456789012:function:${name}`;

/** Task → Choice → Task, the second with Retry on TransientError and Catch States.ALL into `$.error`. */
const definition = {
  StartAt: 'Fetch',
  States: {
    Fetch: {
      Type: 'Task',
      Resource: LAMBDA,
      Parameters: { FunctionName: FUNCTION('fetch'), 'Payload.$': '$' },
      ResultSelector: { 'kind.$': '$.Payload.kind' },
      ResultPath: '$.fetched',
      Next: 'Route',
    },
    Route: {
      Type: 'Choice',
      Choices: [{ Variable: '$.fetched.kind', StringEquals: 'work', Next: 'Work' }],
      Default: 'Nothing',
    },
    Work: {
      Type: 'Task',
      Resource: LAMBDA,
      Parameters: { FunctionName: FUNCTION('work'), 'Payload.$': '$', 'executionId.$': '$$.Execution.Id' },
      ResultSelector: { 'done.$': '$.Payload.done' },
      ResultPath: '$.work',
      Retry: [
        {
          ErrorEquals: ['TransientError', 'RateLimitedError'],
          IntervalSeconds: 30,
          MaxAttempts: 2,
          BackoffRate: 2,
        },
      ],
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Recorded' }],
      Next: 'Done',
    },
    Recorded: { Type: 'Pass', End: true },
    Nothing: { Type: 'Succeed' },
    Done: { Type: 'Succeed' },
  },
};

/** A handler that answers like a lambda:invoke response, counting its calls. */
function handler(answer: (call: number, payload: unknown) => unknown) {
  const calls: unknown[] = [];
  const invoke: TaskHandler = async (payload) => {
    calls.push(payload);
    return { Payload: answer(calls.length, payload), StatusCode: 200 };
  };
  return { invoke, calls };
}

const fetchWork = handler(() => ({ kind: 'work' }));

const run = (work: TaskHandler, fetch: TaskHandler = fetchWork.invoke) =>
  executeLocally({
    definition,
    input: { pipelineId: 'crypto' },
    executionName: 'exec-1',
    handlers: { Fetch: fetch, Work: work },
    retryIntervalOverrides: { Work: 0 },
  });

describe('executeLocally', () => {
  it('runs Task → Choice → Task and hands the task the input after Parameters', async () => {
    // Prepare
    const work = handler(() => ({ done: true }));

    // Act
    const result = await run(work.invoke);

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toEqual({ pipelineId: 'crypto', fetched: { kind: 'work' }, work: { done: true } });
    expect(work.calls[0]).toEqual({
      FunctionName: FUNCTION('work'),
      Payload: { pipelineId: 'crypto', fetched: { kind: 'work' } },
      executionId: 'arn:aws:states:us-east-1:123456789012:execution:discord-digest:exec-1',
    });
    const entered = result.events.filter((e) => e.type === 'StateEntered').map((e) => e.state);
    expect(entered).toEqual(['Fetch', 'Route', 'Work', 'Done']);
  });

  it('the Choice routes elsewhere when the first task says so', async () => {
    // Prepare
    const work = handler(() => ({ done: true }));
    const fetchNothing = handler(() => ({ kind: 'nothing' }));

    // Act
    const result = await run(work.invoke, fetchNothing.invoke);

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(work.calls).toHaveLength(0);
  });

  it('retries a TransientError (by its name) and then succeeds', async () => {
    // Prepare
    const work = handler((call) => {
      if (call === 1) throw new TransientError('sheets answered 503');
      if (call === 2) throw new RateLimitedError('sheets answered 429', 1000);
      return { done: true };
    });

    // Act
    const result = await run(work.invoke);

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(work.calls).toHaveLength(3);
    const retried = result.events.filter((e) => e.type === 'StateRetried');
    expect(retried.map((e) => [e.state, e.attempt])).toEqual([
      ['Work', 1],
      ['Work', 2],
    ]);
    const failed = result.events.filter((e) => e.type === 'StateFailed').map((e) => e.error);
    expect(failed).toEqual(['TransientError', 'RateLimitedError']);
  });

  it('does not retry other errors: Catch routes them, with the Lambda error document as Cause', async () => {
    // Prepare
    const work = handler(() => {
      throw new PermanentError('sheets answered 400: bad range');
    });

    // Act
    const result = await run(work.invoke);

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(work.calls).toHaveLength(1);
    const output = result.output as { error: { Error: string; Cause: string }; work?: unknown };
    expect(output.error.Error).toBe('PermanentError');
    expect(JSON.parse(output.error.Cause)).toMatchObject({
      errorType: 'PermanentError',
      errorMessage: 'sheets answered 400: bad range',
    });
    expect(output.work).toBeUndefined();
    const caught = result.events.find((e) => e.type === 'StateCaught');
    expect(caught).toMatchObject({ state: 'Work', errorEquals: ['States.ALL'], next: 'Recorded' });
  });

  it('a TransientError that outlasts MaxAttempts is caught after 1 + 2 calls', async () => {
    // Prepare
    const work = handler(() => {
      throw new TransientError('still down');
    });

    // Act
    const result = await run(work.invoke);

    // Assess
    expect(work.calls).toHaveLength(3);
    expect((result.output as { error: { Error: string } }).error.Error).toBe('TransientError');
  });

  it('an uncaught error fails the execution with its name', async () => {
    // Prepare
    const fetch = handler(() => {
      const error = new Error('the function died');
      error.name = 'Lambda.ServiceException';
      throw error;
    });

    // Act
    const result = await run(handler(() => ({ done: true })).invoke, fetch.invoke);

    // Assess
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('Lambda.ServiceException');
    expect(JSON.parse(result.cause ?? '{}').errorMessage).toBe('the function died');
    expect(result.events.at(-1)).toMatchObject({ type: 'ExecutionFailed', error: 'Lambda.ServiceException' });
  });

  it('an output above 256 KiB fails with States.DataLimitExceeded, which States.ALL does not catch', async () => {
    // Prepare
    const work = handler(() => ({ done: 'x'.repeat(300 * 1024) }));

    // Act
    const result = await run(work.invoke);

    // Assess
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('States.DataLimitExceeded');
    expect(work.calls).toHaveLength(1);
  });

  it('reports each event as it happens', async () => {
    // Prepare
    const seen: string[] = [];

    // Act
    await executeLocally({
      definition,
      input: {},
      executionName: 'exec-2',
      handlers: { Fetch: handler(() => ({ kind: 'nothing' })).invoke },
      onStateEvent: (e) => seen.push(`${e.type}${e.state ? `:${e.state}` : ''}`),
    });

    // Assess
    expect(seen).toEqual([
      'ExecutionStarted',
      'StateEntered:Fetch',
      'StateExited:Fetch',
      'StateEntered:Route',
      'StateExited:Route',
      'StateEntered:Nothing',
      'StateExited:Nothing',
      'ExecutionSucceeded',
    ]);
  });

  it('an abort signal stops the execution', async () => {
    // Prepare
    const controller = new AbortController();
    const slow: TaskHandler = async () => {
      controller.abort();
      return { Payload: { kind: 'work' } };
    };

    // Act
    const result = await executeLocally({
      definition,
      input: {},
      executionName: 'exec-3',
      handlers: { Fetch: slow, Work: handler(() => ({ done: true })).invoke },
      signal: controller.signal,
    });

    // Assess
    expect(result.status).toBe('ABORTED');
  });

  it('refuses a JSONata definition, which it would silently mis-run', async () => {
    // Act
    const running = executeLocally({
      definition: { ...definition, QueryLanguage: 'JSONata' },
      input: {},
      executionName: 'exec-4',
      handlers: {},
    });

    // Assess
    await expect(running).rejects.toThrow(/JSONata/);
  });
});

describe('lambdaContext', () => {
  it('looks like a Lambda context and its remaining time counts down', async () => {
    // Act
    const context = lambdaContext('discord-digest-collect', 1000);
    const first = context.getRemainingTimeInMillis();
    await new Promise((resolve) => setTimeout(resolve, 30));
    const later = context.getRemainingTimeInMillis();

    // Assess
    expect(context.functionName).toBe('discord-digest-collect');
    expect(context.invokedFunctionArn).toMatch(
      /^arn:aws:lambda:us-east-1:\d{12}:function:discord-digest-collect$/,
    );
    expect(context.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(first).toBeLessThanOrEqual(1000);
    expect(first).toBeGreaterThan(900);
    expect(later).toBeLessThanOrEqual(first - 25);
  });

  it('never reports negative time', () => {
    // Act
    const context = lambdaContext('f', 0);

    // Assess
    expect(context.getRemainingTimeInMillis()).toBe(0);
  });
});

describe('a waiting task', () => {
  /** AwaitReview's shape: the token from the context, the timeout from the state input. */
  const waiting = {
    StartAt: 'Wait',
    States: {
      Wait: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
        Parameters: {
          FunctionName: FUNCTION('review'),
          Payload: { 'run.$': '$.run', 'taskToken.$': '$$.Task.Token' },
        },
        TimeoutSecondsPath: '$.run.review.timeoutSeconds',
        ResultPath: '$.review',
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.review', Next: 'Done' }],
        Next: 'Done',
      },
      Done: { Type: 'Succeed' },
    },
  };

  it('gets a task token, and times out after the state input says, as Step Functions reads TimeoutSecondsPath', async () => {
    // Prepare
    const seen: unknown[] = [];
    const never: TaskHandler = (payload) => {
      seen.push(payload);
      return new Promise(() => undefined);
    };

    // Act
    const result = await executeLocally({
      definition: waiting,
      input: { run: { review: { timeoutSeconds: 1 } } },
      executionName: 'wait-1',
      handlers: { Wait: never },
    });

    // Assess
    expect(seen[0]).toMatchObject({ Payload: { taskToken: 'local-task-token-wait-1' } });
    expect(result.status).toBe('SUCCEEDED');
    expect((result.output as { review: { Error: string } }).review.Error).toBe('States.Timeout');
    expect(result.durationMs).toBeGreaterThanOrEqual(1000);
  });
});
