import { Duration } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ILogGroup } from 'aws-cdk-lib/aws-logs';
import {
  Choice,
  Condition,
  DefinitionBody,
  Fail,
  type IChainable,
  IntegrationPattern,
  JitterType,
  JsonPath,
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
import { STATE_MACHINE_NAME, TASK_STATES, type TaskStateName } from '../shared/config/resources';
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
 * In front of Publish: a run whose pipeline wants approval (`$.run.review`, set by BeginRun) and whose
 * analysis succeeded waits in AwaitReview, a `lambda:invoke.waitForTaskToken` task, until SendTaskSuccess
 * or SendTaskFailure (digest approve/reject, the signed link) or its TimeoutSecondsPath (the pipeline's
 * review.expiresHours) ends it; the outcome lands in `$.steps.review` and Publish reads it. No
 * HeartbeatSeconds: nobody sends heartbeats while a person decides, so only the timeout applies.
 * https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html#connect-wait-token
 */
function reviewGate(scope: Construct, fn: IFunction, publish: IChainable): Choice {
  const slot = '$.steps.review';
  const wait = new LambdaInvoke(scope, 'AwaitReview', {
    lambdaFunction: fn,
    integrationPattern: IntegrationPattern.WAIT_FOR_TASK_TOKEN,
    payload: TaskInput.fromObject({ 'run.$': '$.run', 'steps.$': '$.steps', taskToken: JsonPath.taskToken }),
    retryOnServiceExceptions: false,
    taskTimeout: Timeout.at('$.run.review.timeoutSeconds'),
    resultPath: slot,
  });
  // Lambda's own hiccups only: a timeout is the review expiring, never something to retry.
  wait.addRetry({
    errors: RETRYABLE_ERRORS.filter((e) => e.startsWith('Lambda.')),
    interval: Duration.seconds(5),
    backoffRate: 2,
    maxAttempts: 3,
    jitterStrategy: JitterType.FULL,
  });
  wait.addCatch(publish, { errors: ['States.ALL'], resultPath: slot });
  wait.next(publish);
  // Two Choices: `$.steps.analyze.status` is absent when Analyze's error was caught, and a comparison on
  // an absent path fails the execution.
  const analysed = new Choice(scope, 'DraftToReview')
    .when(Condition.stringEquals('$.steps.analyze.status', 'succeeded'), wait)
    .otherwise(publish);
  return new Choice(scope, 'ReviewRequired')
    .when(
      Condition.and(Condition.isPresent('$.run.review'), Condition.isPresent('$.steps.analyze.status')),
      analysed,
    )
    .otherwise(publish);
}

/**
 * BeginRun → ShouldRun → Collect → Upload → Analyze → (AwaitReview) → Publish → Deliver → Archive → FinishRun.
 * JSONPath, not JSONata: the local runner executes this same definition.
 * A failing step is caught into its slot of `$.steps` and the run goes on;
 * each later step decides from `steps` whether it has work, and FinishRun
 * turns the outcomes into the run's status.
 */
export function buildDigestStateMachine(
  scope: Construct,
  functions: Record<TaskStateName, IFunction>,
  logs: ILogGroup,
  /** The longest review wait of any pipeline (0: none asks for approval); the execution may last that much longer. */
  longestReview: Duration = Duration.seconds(0),
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
  const publish = steps[STEP_STATES.indexOf('Publish')];
  if (!publish) throw new Error('no Publish step');
  const beforePublish = reviewGate(scope, functions.AwaitReview, publish);
  steps.forEach((task, i) => {
    const state = STEP_STATES[i] ?? '';
    const slot = `$.steps.${state.toLowerCase()}`;
    const following = steps[i + 1];
    const next = following === publish ? beforePublish : (following ?? finish);
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
    stateMachineName: STATE_MACHINE_NAME,
    stateMachineType: StateMachineType.STANDARD,
    definitionBody: DefinitionBody.fromChainable(chain),
    timeout: EXECUTION_TIMEOUT.plus(longestReview),
    tracingEnabled: true,
    // Every state's entry and exit, without the data: what ran and when, never a message or a credential.
    logs: { destination: logs, level: LogLevel.ALL, includeExecutionData: false },
  });
}
