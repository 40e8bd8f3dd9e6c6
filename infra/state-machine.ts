import { Duration } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ILogGroup } from 'aws-cdk-lib/aws-logs';
import {
  Choice,
  Condition,
  DefinitionBody,
  Fail,
  JitterType,
  LogLevel,
  StateMachine,
  StateMachineType,
  Succeed,
  TaskInput,
  Timeout,
  Wait,
  WaitTime,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { TASK_STATES, type TaskStateName } from '../shared/config/resources';
import { TRANSIENT_ERROR_NAMES } from '../shared/errors';

/** Retried with backoff: our transient classes and Lambda's own service hiccups. Nothing else. */
export const RETRYABLE_ERRORS = [
  ...TRANSIENT_ERROR_NAMES,
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'States.Timeout',
];

/** The six steps, in order; each step's outcome (or caught error) lands in `$.steps.<step>`. */
export const STEP_STATES = ['Collect', 'Upload', 'Analyze', 'Publish', 'Deliver', 'Archive'] as const;

export const EXECUTION_TIMEOUT = Duration.hours(1);

function invoke(
  scope: Construct,
  state: TaskStateName,
  fn: IFunction,
  payload: Record<string, string>,
  resultPath?: string,
) {
  const task = new LambdaInvoke(scope, state, {
    lambdaFunction: fn,
    payload: TaskInput.fromObject(payload),
    payloadResponseOnly: true,
    retryOnServiceExceptions: false,
    // The function's own timeout: in AWS the Lambda ends first; locally it replaces the runner's 60 s default.
    taskTimeout: Timeout.duration(Duration.seconds(TASK_STATES[state].timeoutSeconds)),
    // No ResultPath means the result replaces the input; aws-local-stepfunctions mishandles an explicit "$".
    ...(resultPath ? { resultPath } : {}),
  });
  task.addRetry({
    errors: RETRYABLE_ERRORS,
    interval: Duration.seconds(5),
    backoffRate: 2,
    maxAttempts: 4,
    maxDelay: Duration.seconds(60),
    jitterStrategy: JitterType.FULL,
  });
  return task;
}

/**
 * BeginRun → ShouldRun → Collect → Upload → Analyze → Publish → Deliver → Archive → FinishRun.
 * JSONPath, not JSONata: the local runner executes this same definition.
 * A failing step is caught into its slot of `$.steps` and the run goes on;
 * each later step decides from `steps` whether it has work, and FinishRun
 * turns the outcomes into the run's status.
 */
export function buildDigestStateMachine(
  scope: Construct,
  functions: Record<TaskStateName, IFunction>,
  logs: ILogGroup,
): StateMachine {
  const stepPayload = { 'run.$': '$.run', 'steps.$': '$.steps' };
  // The caught error itself, not a fixed text: the CLI and the console say why the run could not open or close.
  const failed = new Fail(scope, 'RunFailed', { errorPath: '$.error.Error', causePath: '$.error.Cause' });
  const begin = invoke(scope, 'BeginRun', functions.BeginRun, {
    'input.$': '$',
    'executionName.$': '$$.Execution.Name',
    'executionId.$': '$$.Execution.Id',
  }).addCatch(failed, { errors: ['States.ALL'], resultPath: '$.error' });
  const finish = invoke(scope, 'FinishRun', functions.FinishRun, stepPayload, '$.report')
    .addCatch(failed, { errors: ['States.ALL'], resultPath: '$.error' })
    .next(new Succeed(scope, 'Done'));

  const steps = STEP_STATES.map((state) =>
    invoke(scope, state, functions[state], stepPayload, `$.steps.${state.toLowerCase()}`),
  );
  steps.forEach((task, i) => {
    const state = STEP_STATES[i] ?? '';
    const slot = `$.steps.${state.toLowerCase()}`;
    const next = steps[i + 1] ?? finish;
    task.addCatch(next, { errors: ['States.ALL'], resultPath: slot });
    // A rate limit longer than a Lambda should wait: wait here, for free, exactly as long as asked, then run the step again.
    const wait = new Wait(scope, `${state}WaitsForRateLimit`, {
      time: WaitTime.secondsPath(`${slot}.waitSeconds`),
    }).next(task);
    task.next(
      new Choice(scope, `${state}RateLimited`)
        .when(Condition.isPresent(`${slot}.waitSeconds`), wait)
        .otherwise(next),
    );
  });
  const first = steps[0];
  if (!first) throw new Error('no steps');

  const chain = begin.next(
    new Choice(scope, 'ShouldRun')
      .when(Condition.booleanEquals('$.run.proceed', true), first)
      .otherwise(new Succeed(scope, 'NotRun')),
  );
  return new StateMachine(scope, 'StateMachine', {
    stateMachineName: 'discord-digest',
    stateMachineType: StateMachineType.STANDARD,
    definitionBody: DefinitionBody.fromChainable(chain),
    timeout: EXECUTION_TIMEOUT,
    tracingEnabled: true,
    logs: { destination: logs, level: LogLevel.ERROR, includeExecutionData: false },
  });
}
