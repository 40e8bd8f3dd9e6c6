import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
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
  Map as MapState,
  Pass,
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
import type { DigestConfig } from '../shared/config/schema';
import { itemsAtOnce } from '../shared/domain/analysis-fan-out';
import { TRANSIENT_ERROR_NAMES, WAIT_FOR_RATE_LIMIT } from '../shared/errors';

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

/**
 * The machine's ARN from its fixed name, for what the machine itself invokes (FinishRun, AwaitReview):
 * referencing the machine from them would be a dependency cycle.
 */
export function stateMachineArnByName(scope: Construct): string {
  return Stack.of(scope).formatArn({
    service: 'states',
    resource: 'stateMachine',
    resourceName: STATE_MACHINE_NAME,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/**
 * The Map's MaxConcurrency: items (each an AnalyzeBatch invocation sending a
 * few batches at once) in flight, as many as the tightest pipeline's Gemini
 * requests in flight allow (shared/domain/analysis-fan-out.ts). One definition
 * serves every pipeline, so the strictest quota decides; each pipeline's items
 * hold its own share of batches, within its own budget.
 */
export function analysisMaxConcurrency(config: DigestConfig): number {
  return Math.min(...config.pipelines.map(({ gemini }) => itemsAtOnce(gemini)));
}

/**
 * A rate limit longer than a Lambda should wait: the task throws
 * WaitForRateLimitError, whose message is the time to run it again; this Catch
 * reads it from the Lambda error document in Cause (into `$.wait`, outside the
 * steps, which every step parses), waits until then, for free, and runs the
 * task again. Only a run that waits pays these states' transitions.
 * Cause is the runtime's error document as JSON text ({"errorMessage", "errorType", "trace"}):
 * https://docs.aws.amazon.com/step-functions/latest/dg/tutorial-handling-error-conditions.html
 */
function waitsOutRateLimits(scope: Construct, task: LambdaInvoke, name: string): void {
  const wait = new Wait(scope, `${name}WaitsForRateLimit`, {
    time: WaitTime.timestampPath('$.wait.cause.errorMessage'),
  }).next(task);
  const read = new Pass(scope, `${name}RateLimited`, {
    parameters: { 'cause.$': 'States.StringToJson($.wait.Cause)' },
    resultPath: '$.wait',
  }).next(wait);
  task.addCatch(read, { errors: [WAIT_FOR_RATE_LIMIT], resultPath: '$.wait' });
}

function invoke(
  scope: Construct,
  state: TaskStateName,
  fn: IFunction,
  payload: Record<string, string>,
  resultPath?: string,
): LambdaInvoke {
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
    // The execution's name tells a retry of this task (same name, new token) from a resumed run's new request.
    payload: TaskInput.fromObject({
      'run.$': '$.run',
      'steps.$': '$.steps',
      taskToken: JsonPath.taskToken,
      'executionName.$': '$$.Execution.Name',
    }),
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
 * The analysis fan-out, entered in Analyze's place: PlanAnalysis stores the
 * run's batches in S3 and answers their numbers in items; an inline Map runs
 * AnalyzeBatch for each item, which sends its batches at once (Retry, a Wait
 * for long rate limits, and a Catch that keeps a failure to its item); Analyze
 * writes the results back and the draft. An inline Map, not a Distributed one: the local runner
 * (aws-local-stepfunctions) runs inline Maps only, and batch numbers are
 * small enough for the state (1,000 batches: some 60 KiB of outcomes).
 * Source: https://docs.aws.amazon.com/step-functions/latest/dg/state-map-inline.html
 */
function analysisFanOut(
  scope: Construct,
  functions: Record<TaskStateName, IFunction>,
  analyze: LambdaInvoke,
  maxConcurrency: number,
  after: IChainable,
) {
  // An item's answer is its batches' outcomes: no ResultPath, so it is the iteration's output.
  const batch = invoke(scope, 'AnalyzeBatch', functions.AnalyzeBatch, {
    'run.$': '$.run',
    'round.$': '$.round',
    'batches.$': '$.batches',
  });
  waitsOutRateLimits(scope, batch, 'Batch');
  // One item's failure is its own: the others go on, and Analyze reports its batches for a resume to redo.
  batch.addCatch(
    new Pass(scope, 'BatchFailed', {
      parameters: { 'batches.$': '$.batches', status: 'failed', 'error.$': '$.outcome.Error' },
    }),
    { errors: ['States.ALL'], resultPath: '$.outcome' },
  );
  const map = new MapState(scope, 'AnalyzeBatches', {
    itemsPath: '$.analysis.items',
    itemSelector: { 'run.$': '$.run', 'round.$': '$.analysis.round', 'batches.$': '$$.Map.Item.Value' },
    maxConcurrency,
    resultPath: '$.analysis.outcomes',
  });
  map.itemProcessor(batch);
  map.addCatch(after, { errors: ['States.ALL'], resultPath: '$.steps.analyze' });
  const plan = invoke(
    scope,
    'PlanAnalysis',
    functions.PlanAnalysis,
    { 'run.$': '$.run', 'steps.$': '$.steps' },
    '$.analysis',
  );
  plan.addCatch(after, { errors: ['States.ALL'], resultPath: '$.steps.analyze' });
  plan.next(map);
  map.next(analyze);
  return plan;
}

/**
 * BeginRun → ShouldRun → Collect → Upload → [PlanAnalysis → AnalyzeBatches (Map) →] Analyze →
 * (AwaitReview) → Publish → Deliver → Archive → FinishRun.
 * JSONPath, not JSONata: the local runner executes this same definition.
 * A failing step is caught into its slot of `$.steps` and the run goes on;
 * each later step decides from `steps` whether it has work, and FinishRun
 * turns the outcomes into the run's status. Every state entered is a paid
 * transition: a run that neither waits nor asks for review enters one state
 * per step, plus ShouldRun, Collect's check for work left and the Map's.
 */
export function buildDigestStateMachine(
  scope: Construct,
  functions: Record<TaskStateName, IFunction>,
  logs: ILogGroup,
  /** The Map's MaxConcurrency, from the pipelines' Gemini quota (analysisMaxConcurrency). */
  analysisConcurrency: number,
  /**
   * The longest review wait of any pipeline, which the execution may last longer by; absent when no
   * pipeline asks for approval, and then the machine has no review gate to pass through.
   */
  longestReview?: Duration,
): StateMachine {
  const stepPayload = { 'run.$': '$.run', 'steps.$': '$.steps' };
  // The caught error itself, not a fixed text: the CLI and the console say why the run could not open or close.
  const failed = new Fail(scope, 'RunFailed', { errorPath: '$.error.Error', causePath: '$.error.Cause' });
  const begin = invoke(scope, 'BeginRun', functions.BeginRun, {
    'input.$': '$',
    'executionName.$': '$$.Execution.Name',
    'executionId.$': '$$.Execution.Id',
  }).addCatch(failed, { errors: ['States.ALL'], resultPath: '$.error' });
  // The last state: the execution's output is the run's report.
  const finish = invoke(scope, 'FinishRun', functions.FinishRun, stepPayload, '$.report').addCatch(failed, {
    errors: ['States.ALL'],
    resultPath: '$.error',
  });

  const steps = STEP_STATES.map((state) =>
    invoke(
      scope,
      state,
      functions[state],
      // Analyze also reads each item's outcome from the Map.
      state === 'Analyze'
        ? { ...stepPayload, 'round.$': '$.analysis.round', 'items.$': '$.analysis.outcomes' }
        : stepPayload,
      `$.steps.${state.toLowerCase()}`,
    ),
  );
  const publishAt = STEP_STATES.indexOf('Publish');
  const publish = steps[publishAt];
  const analyzeAt = STEP_STATES.indexOf('Analyze');
  const analyzeTask = steps[analyzeAt];
  if (!publish || !analyzeTask) throw new Error('no Analyze or Publish step');
  const beforePublish = longestReview ? reviewGate(scope, functions.AwaitReview, publish) : publish;
  // The state each step is entered by: Analyze's is its fan-out, Publish's the review gate.
  const entries: IChainable[] = [...steps];
  entries[publishAt] = beforePublish;
  entries[analyzeAt] = analysisFanOut(scope, functions, analyzeTask, analysisConcurrency, beforePublish);
  steps.forEach((task, i) => {
    const state = STEP_STATES[i] ?? '';
    const slot = `$.steps.${state.toLowerCase()}`;
    const next = entries[i + 1] ?? finish;
    // Before the catch-all: catchers are tried in order.
    waitsOutRateLimits(scope, task, state);
    task.addCatch(next, { errors: ['States.ALL'], resultPath: slot });
    // A step out of its invocation's time with work left (Collect over many pages) runs again at once.
    if (state === 'Collect')
      task.next(
        new Choice(scope, 'CollectContinues')
          .when(
            Condition.and(
              Condition.isPresent(`${slot}.continues`),
              Condition.booleanEquals(`${slot}.continues`, true),
            ),
            task,
          )
          .otherwise(next),
      );
    else task.next(next);
  });
  const first = entries[0];
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
    timeout: longestReview ? EXECUTION_TIMEOUT.plus(longestReview) : EXECUTION_TIMEOUT,
    tracingEnabled: true,
    // Every state's entry and exit, without the data: what ran and when, never a message or a credential.
    logs: { destination: logs, level: LogLevel.ALL, includeExecutionData: false },
  });
}
