import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../../infra/app';
import { definitionFromTemplate } from '../../infra/definition';
import { analysisMaxConcurrency } from '../../infra/state-machine';
import { SECRET_SERVICES, secretKeysOf } from '../../shared/config/env';
import { loadConfigFile, parseConfig } from '../../shared/config/load';
import { TASK_STATES } from '../../shared/config/resources';
import type { DigestConfig } from '../../shared/config/schema';
import { batchesPerItem, itemsOf, requestsInFlight } from '../../shared/domain/analysis-fan-out';
import { TRANSIENT_ERROR_NAMES } from '../../shared/errors';

const config = loadConfigFile('digest.config.json');
let pipeline: Template;
let stateful: Template;

beforeAll(() => {
  // Bundling skipped: these tests look at the template, not at the code.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stacks = buildApp(config, app);
  pipeline = Template.fromStack(stacks.pipeline);
  stateful = Template.fromStack(stacks.stateful);
});

type States = Record<string, Record<string, unknown>>;
/** A policy's statements but the X-Ray one every traced function has (X-Ray writes take no resource). */
const untraced = (policy: unknown) =>
  (
    policy as { Properties: { PolicyDocument: { Statement: { Action: unknown }[] } } }
  ).Properties.PolicyDocument.Statement.filter((s) => !JSON.stringify(s.Action).includes('xray:'));
const definition = () => definitionFromTemplate(pipeline.toJSON()) as { States: States; StartAt: string };
/** The definition for the sample config with every pipeline asking for approval within 6 hours. */
function approvingDefinition(): object {
  const approving = parseConfig(
    {
      pipelines: config.pipelines.map((p) => ({
        ...p,
        publisher: { ...p.publisher, review: 'approve' },
        review: { expiresHours: 6 },
      })),
    },
    'approve.json',
  );
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  return definitionFromTemplate(Template.fromStack(buildApp(approving, app).pipeline).toJSON());
}

describe('functions', () => {
  it('has one Node 22 ARM function per state (and the closer, the pause re-applier, publish-post, the review link and the watchdog), each told where the bucket, table and secrets are', () => {
    // Assess
    // Every task's function, the closer, the pause re-applier, publish-post, the review link and the watchdog.
    pipeline.resourceCountIs('AWS::Lambda::Function', Object.keys(TASK_STATES).length + 5);
    pipeline.allResourcesProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Environment: {
        Variables: Match.objectLike({
          BUCKET_NAME: Match.anyValue(),
          LEDGER_TABLE: Match.anyValue(),
          SECRETS_SOURCE: 'secretsmanager',
          SECRET_NAME_PREFIX: 'discord-digest/',
        }),
      },
      TracingConfig: { Mode: 'Active' },
    });
    // The config is in the asset, not the environment (test/infra/config-limits.test.ts, test/unit/runtime-config.test.ts).
    for (const fn of Object.values(pipeline.findResources('AWS::Lambda::Function'))) {
      expect(JSON.stringify(fn.Properties.Environment)).not.toContain('"pipelines"');
    }
  });
});

describe('function memory', () => {
  it('gives each step the memory measured for it, and the light functions 256 MB', () => {
    // Act
    const functions = Object.entries(pipeline.findResources('AWS::Lambda::Function'));
    const memoryOf = (id: string) =>
      functions.find(([logicalId]) => logicalId.startsWith(id))?.[1].Properties.MemorySize;

    // Assess
    for (const [state, { memoryMB }] of Object.entries(TASK_STATES))
      expect(memoryOf(`${state}Function`), state).toBe(memoryMB);
    expect(memoryOf('CloseAbandonedRunFunction')).toBe(256);
    expect(TASK_STATES.Archive.memoryMB).toBe(512);
    expect(TASK_STATES.FinishRun.memoryMB).toBe(256);
  });
});

describe('state machine', () => {
  it('is Standard, JSONPath, and runs the steps in order', () => {
    // Act
    const asl = definition();

    // Assess
    pipeline.hasResourceProperties('AWS::StepFunctions::StateMachine', { StateMachineType: 'STANDARD' });
    expect(JSON.stringify(asl)).not.toContain('JSONata');
    expect(asl.StartAt).toBe('BeginRun');
    const order = [
      'BeginRun',
      'ShouldRun',
      'Collect',
      'Upload',
      'PlanAnalysis',
      'AnalyzeBatches',
      'Analyze',
      'Publish',
      'Deliver',
      'Archive',
      'FinishRun',
    ];
    for (const [i, state] of order.slice(0, -1).entries()) {
      if (state === 'ShouldRun') continue;
      const after = asl.States[state]?.Next;
      // Collect goes through its check for work left, whose default is the next state.
      const next = after === 'CollectContinues' ? asl.States[after]?.Default : after;
      expect(next, state).toBe(order[i + 1]);
    }
    // The run's report is the execution's output: FinishRun ends it, with no state after it to pay for.
    expect(asl.States.FinishRun?.End).toBe(true);
    expect(asl.States.ShouldRun).toMatchObject({
      Type: 'Choice',
      Choices: [{ Variable: '$.run.proceed', BooleanEquals: true, Next: 'Collect' }],
      Default: 'NotRun',
    });
  });

  it('waits out a long rate limit: a Catch of the step’s WaitForRateLimit, a Wait until the time it names, the step again', () => {
    // Act
    const asl = definition();
    const inner = (asl.States.AnalyzeBatches?.ItemProcessor as { States: States } | undefined)?.States ?? {};

    // Assess
    const tasks: [string, string, States][] = [
      ...['Collect', 'Upload', 'Analyze', 'Publish', 'Deliver', 'Archive'].map(
        (s) => [s, s, asl.States] as [string, string, States],
      ),
      ['AnalyzeBatch', 'Batch', inner],
    ];
    for (const [task, name, states] of tasks) {
      const [first] = (states[task]?.Catch ?? []) as Record<string, unknown>[];
      // First, before the catch-all: catchers are tried in order.
      expect(first, task).toEqual({
        ErrorEquals: ['WaitForRateLimit'],
        ResultPath: '$.wait',
        Next: `${name}RateLimited`,
      });
      expect(states[`${name}RateLimited`]).toEqual({
        Type: 'Pass',
        Parameters: { 'cause.$': 'States.StringToJson($.wait.Cause)' },
        ResultPath: '$.wait',
        Next: `${name}WaitsForRateLimit`,
      });
      expect(states[`${name}WaitsForRateLimit`]).toEqual({
        Type: 'Wait',
        TimestampPath: '$.wait.cause.errorMessage',
        Next: task,
      });
      // Never retried blindly: Retry's backoff is not the wait the upstream asked for.
      const [retry] = (states[task]?.Retry ?? []) as { ErrorEquals: string[] }[];
      expect(retry?.ErrorEquals).not.toContain('WaitForRateLimit');
    }
    // A run that does not wait enters none of them: no Choice after a step looks for a wait.
    expect(Object.values(asl.States).filter((s) => s.Type === 'Choice')).toHaveLength(2);
  });

  it('runs Collect again at once when it ran out of its invocation’s time with messages left', () => {
    // Act
    const asl = definition();

    // Assess
    expect(asl.States.Collect?.Next).toBe('CollectContinues');
    expect(asl.States.CollectContinues).toEqual({
      Type: 'Choice',
      Choices: [
        {
          And: [
            { Variable: '$.steps.collect.continues', IsPresent: true },
            { Variable: '$.steps.collect.continues', BooleanEquals: true },
          ],
          Next: 'Collect',
        },
      ],
      Default: 'Upload',
    });
    expect(asl.States.Upload?.Next).toBe('PlanAnalysis');
  });

  it('gives each step as long as its function has, so a local run is timed as the deployed one', () => {
    // Act
    const asl = definition();

    // Assess
    const iterator = (asl.States.AnalyzeBatches?.ItemProcessor as { States: States } | undefined)?.States;
    for (const [state, { timeoutSeconds }] of Object.entries(TASK_STATES)) {
      // AwaitReview waits as long as the pipeline's review window (TimeoutSecondsPath), not as long as its function runs.
      if (state === 'AwaitReview') continue;
      const task = asl.States[state] ?? iterator?.[state];
      expect(task?.TimeoutSeconds, state).toBe(timeoutSeconds);
    }
    pipeline.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Timeout: TASK_STATES.Analyze.timeoutSeconds,
    });
  });

  it('retries only transient errors, with backoff and full jitter', () => {
    // Act
    const asl = definition();

    // Assess
    for (const state of [
      'BeginRun',
      'Collect',
      'Upload',
      'Analyze',
      'Publish',
      'Deliver',
      'Archive',
      'FinishRun',
    ]) {
      const [retry] = (asl.States[state]?.Retry ?? []) as Record<string, unknown>[];
      expect(retry?.ErrorEquals, state).toEqual(
        expect.arrayContaining([...TRANSIENT_ERROR_NAMES, 'Lambda.ServiceException']),
      );
      expect(retry?.ErrorEquals).not.toContain('States.ALL');
      expect(retry).toMatchObject({ BackoffRate: 2, JitterStrategy: 'FULL', MaxAttempts: 4 });
    }
  });

  it('fans the analysis out on an inline Map bounded by the Gemini quota, one batch’s failure kept to it', () => {
    // Act
    const asl = definition();

    // Assess
    const map = asl.States.AnalyzeBatches as Record<string, unknown>;
    expect(map).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.analysis.items',
      ItemSelector: { 'run.$': '$.run', 'batches.$': '$$.Map.Item.Value' },
      MaxConcurrency: analysisMaxConcurrency(config),
      ResultPath: '$.analysis.outcomes',
      Next: 'Analyze',
    });
    expect(JSON.stringify(map)).not.toContain('ItemReader');
    const inner = (map.ItemProcessor as { StartAt: string; States: States }).States;
    expect((map.ItemProcessor as { StartAt: string }).StartAt).toBe('AnalyzeBatch');
    // The item's answer is the iteration's: no ResultPath, no state after it.
    expect(inner.AnalyzeBatch).toMatchObject({ End: true });
    expect(inner.AnalyzeBatch?.ResultPath).toBeUndefined();
    expect((inner.AnalyzeBatch?.Catch as unknown[] | undefined)?.at(-1)).toEqual({
      ErrorEquals: ['States.ALL'],
      ResultPath: '$.outcome',
      Next: 'BatchFailed',
    });
    expect(inner.BatchFailed).toEqual({
      Type: 'Pass',
      Parameters: { 'batches.$': '$.batches', status: 'failed', 'error.$': '$.outcome.Error' },
      End: true,
    });
    expect((inner.AnalyzeBatch?.Retry as { ErrorEquals: string[] }[] | undefined)?.[0]?.ErrorEquals).toEqual(
      expect.arrayContaining([...TRANSIENT_ERROR_NAMES]),
    );
  });

  it('shares the tightest pipeline’s Gemini requests in flight between the Map’s items and the batches each sends', () => {
    // Prepare
    const base = config.pipelines[0];
    if (!base) throw new Error('no pipeline');
    const withRpm = (...rpms: number[]) => ({
      ...config,
      pipelines: rpms.map((rpm, i) => ({
        ...base,
        id: `p${i}`,
        gemini: { ...base.gemini, requestsPerMinute: rpm },
      })),
    });
    const pace = (requestsPerMinute: number) => ({ requestsPerMinute, batchSize: 100 });

    // Act / Assess: batches of 100 take ~25 s, so 10 RPM keep 4 in flight: one item of 4 batches.
    expect(requestsInFlight(pace(10))).toBe(4);
    expect(analysisMaxConcurrency(withRpm(10))).toBe(1);
    expect(batchesPerItem(pace(10))).toBe(4);
    // 1,000 RPM: the cap of 10 in flight, two items of 5; the strictest pipeline decides the Map's.
    expect(requestsInFlight(pace(1_000))).toBe(10);
    expect(analysisMaxConcurrency(withRpm(1_000))).toBe(2);
    expect(batchesPerItem(pace(1_000))).toBe(5);
    expect(analysisMaxConcurrency(withRpm(1_000, 10))).toBe(1);
    // 17 RPM: 7 in flight, two items of 3.
    expect(analysisMaxConcurrency(withRpm(17))).toBe(2);
    expect(batchesPerItem(pace(17))).toBe(3);
    expect(analysisMaxConcurrency(withRpm(1))).toBe(1);
    expect(batchesPerItem(pace(1))).toBe(1);
    // Within every pipeline's budget, whatever the Map's concurrency the strictest one set.
    for (const rpm of [1, 5, 10, 17, 24, 30, 100, 1_000])
      expect(analysisMaxConcurrency(withRpm(rpm)) * batchesPerItem(pace(rpm))).toBeLessThanOrEqual(
        requestsInFlight(pace(rpm)),
      );
    expect(itemsOf(7, 5)).toEqual([
      [1, 2, 3, 4, 5],
      [6, 7],
    ]);
    expect(itemsOf(0, 5)).toEqual([]);
  });

  it('catches a failed step into its slot and goes on; a failed open or close fails the run', () => {
    // Act
    const asl = definition();

    // Assess
    const next: Record<string, string> = {
      Collect: 'Upload',
      Upload: 'PlanAnalysis',
      Analyze: 'Publish',
      Publish: 'Deliver',
      Deliver: 'Archive',
      Archive: 'FinishRun',
    };
    // The fan-out's own failures are Analyze's: caught into its slot, and the run goes on to Publish (no
    // review gate: the sample config's pipelines do not ask for approval).
    for (const state of ['PlanAnalysis', 'AnalyzeBatches']) {
      expect(asl.States[state]?.Catch).toEqual([
        { ErrorEquals: ['States.ALL'], ResultPath: '$.steps.analyze', Next: 'Publish' },
      ]);
    }
    for (const [state, after] of Object.entries(next)) {
      expect((asl.States[state]?.Catch as unknown[] | undefined)?.at(-1)).toEqual({
        ErrorEquals: ['States.ALL'],
        ResultPath: `$.steps.${state.toLowerCase()}`,
        Next: after,
      });
      expect(asl.States[state]?.ResultPath).toBe(`$.steps.${state.toLowerCase()}`);
    }
    expect((asl.States.BeginRun?.Catch as { Next: string }[] | undefined)?.[0]?.Next).toBe('RunFailed');
    expect((asl.States.FinishRun?.Catch as { Next: string }[] | undefined)?.[0]?.Next).toBe('RunFailed');
    // The execution fails with the caught error itself, so the console and the CLI say why.
    expect(asl.States.RunFailed).toEqual({
      Type: 'Fail',
      ErrorPath: '$.error.Error',
      CausePath: '$.error.Cause',
    });
  });

  it('lets a draft wait for review before Publish only when the run asks for one and its analysis succeeded', () => {
    // Act
    const asl = approvingDefinition() as { States: States };

    // Assess
    expect(asl.States.ReviewRequired).toEqual({
      Type: 'Choice',
      Choices: [
        {
          And: [
            { Variable: '$.run.review', IsPresent: true },
            { Variable: '$.steps.analyze.status', IsPresent: true },
          ],
          Next: 'DraftToReview',
        },
      ],
      Default: 'Publish',
    });
    expect(asl.States.DraftToReview).toEqual({
      Type: 'Choice',
      Choices: [{ Variable: '$.steps.analyze.status', StringEquals: 'succeeded', Next: 'AwaitReview' }],
      Default: 'Publish',
    });
    const review = asl.States.AwaitReview ?? {};
    expect(review).toMatchObject({
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      TimeoutSecondsPath: '$.run.review.timeoutSeconds',
      ResultPath: '$.steps.review',
      Next: 'Publish',
      Parameters: {
        Payload: {
          'run.$': '$.run',
          'steps.$': '$.steps',
          'taskToken.$': '$$.Task.Token',
          'executionName.$': '$$.Execution.Name',
        },
      },
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.steps.review', Next: 'Publish' }],
    });
    // An expired review is never retried: only Lambda's own errors are.
    const [retry] = (review.Retry ?? []) as { ErrorEquals: string[] }[];
    expect(retry?.ErrorEquals.every((e) => e.startsWith('Lambda.'))).toBe(true);
    expect(review.HeartbeatSeconds).toBeUndefined();
  });

  it('has no review gate when no pipeline asks for approval: a run does not pay for its Choices', () => {
    // Act
    const asl = definition();

    // Assess
    expect(asl.States.ReviewRequired).toBeUndefined();
    expect(asl.States.AwaitReview).toBeUndefined();
    expect(asl.States.Analyze?.Next).toBe('Publish');
  });

  it('lets the execution last as long as the longest review window on top of its hour', () => {
    // Act
    const asl = approvingDefinition() as { TimeoutSeconds?: number };

    // Assess
    expect(asl.TimeoutSeconds).toBe(7 * 3600);
    expect((definition() as { TimeoutSeconds?: number }).TimeoutSeconds).toBe(3600);
  });

  it('serves signed review links from a function URL that may answer the waiting task and nothing else', () => {
    // Assess
    pipeline.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'NONE' });
    pipeline.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'],
            Resource: {
              'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp(':stateMachine:discord-digest$')])],
            },
          }),
        ]),
      },
    });
    pipeline.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ REVIEW_LINK_URL: Match.anyValue() }) },
    });
  });

  it('resolves to a definition with no CloudFormation tokens left, for the local runner', () => {
    // Act
    const text = JSON.stringify(definition());

    // Assess
    expect(text).not.toMatch(/Fn::|"Ref"/);
    expect(definition().States.Collect?.Resource).toMatch(/^arn:aws:lambda:/);
  });
});

describe('schedules', () => {
  it('has one schedule per configured schedule, in its time zone, with bounded retries and a dead-letter queue', () => {
    // Assess
    // The two configured schedules and the missed-run watchdog's.
    pipeline.resourceCountIs('AWS::Scheduler::Schedule', 3);
    pipeline.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'discord-digest-demo-morning',
      ScheduleExpression: 'cron(0 9 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: Match.objectLike({
        RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 2 },
        DeadLetterConfig: { Arn: Match.anyValue() },
        Input: Match.stringLikeRegexp('<aws.scheduler.scheduled-time>'),
      }),
    });
    pipeline.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 18 ? * MON-FRI *)',
      ScheduleExpressionTimezone: 'America/New_York',
    });
  });

  it('lets the scheduler role start executions of this machine and nothing else', () => {
    // Assess
    const policies = pipeline.findResources('AWS::IAM::Policy');
    const schedulerPolicies = Object.values(policies).filter((p) =>
      JSON.stringify(p).includes('states:StartExecution'),
    );
    expect(schedulerPolicies).toHaveLength(1);
    const statements = (
      schedulerPolicies[0] as {
        Properties: { PolicyDocument: { Statement: { Action: unknown; Resource: unknown }[] } };
      }
    ).Properties.PolicyDocument.Statement;
    const start = statements.find((s) => s.Action === 'states:StartExecution');
    expect(start?.Resource).toEqual({ Ref: expect.stringMatching(/^StateMachine/) });
  });
});

describe('schedule kinds', () => {
  let kinds: Template;
  let kindsConfig: DigestConfig;
  beforeAll(() => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    kindsConfig = parseConfig(
      {
        pipelines: [
          {
            id: 'kinds',
            discord: { channelId: '1200000000000000000', window: { mode: 'since_last' } },
            sheet: { spreadsheetId: 'sheet-0000000009' },
            schedules: [
              { name: 'daily', dailyAt: '07:05', timeZone: 'Europe/Berlin', flexibleWindowMinutes: 15 },
              {
                name: 'weekly',
                weekly: { days: ['FRI', 'MON'], at: '18:00' },
                timeZone: 'UTC',
                graceMinutes: 30,
              },
              { name: 'monthly', monthly: { day: 'last', at: '23:00' }, timeZone: 'Asia/Tokyo' },
              { name: 'cron', cron: '0  12 ? * SAT *', timeZone: 'UTC' },
              {
                name: 'rate',
                rate: { every: 6, unit: 'hours', start: '2026-12-01 06:00' },
                timeZone: 'Europe/Berlin',
              },
              { name: 'once', once: '2027-01-15 12:00', timeZone: 'America/New_York' },
              { name: 'off', dailyAt: '10:00', timeZone: 'UTC', enabled: false },
            ],
          },
        ],
      },
      'test',
    );
    kinds = Template.fromStack(buildApp(kindsConfig, app).pipeline);
  });

  const scheduleNamed = (name: string) => {
    const found = Object.values(kinds.findResources('AWS::Scheduler::Schedule')).find(
      (r) => (r as { Properties: { Name: string } }).Properties.Name === `discord-digest-kinds-${name}`,
    ) as { Properties: Record<string, unknown> & { Target: { Input: string } } } | undefined;
    if (!found) throw new Error(`no schedule ${name}`);
    return found.Properties;
  };

  it.each([
    ['daily', 'cron(5 7 * * ? *)', 'Europe/Berlin'],
    ['weekly', 'cron(0 18 ? * MON,FRI *)', 'UTC'],
    ['monthly', 'cron(0 23 L * ? *)', 'Asia/Tokyo'],
    ['cron', 'cron(0 12 ? * SAT *)', 'UTC'],
    ['rate', 'rate(6 hours)', 'Europe/Berlin'],
    ['once', 'at(2027-01-15T12:00:00)', 'America/New_York'],
  ])('deploys %s as %s in %s, carrying its name and the scheduled time', (name, expression, zone) => {
    // Act
    const schedule = scheduleNamed(name);

    // Assess
    expect(schedule.ScheduleExpression).toBe(expression);
    expect(schedule.ScheduleExpressionTimezone).toBe(zone);
    expect(schedule.Target.Input).toContain(`"scheduleName":"${name}"`);
    expect(schedule.Target.Input).toContain('<aws.scheduler.scheduled-time>');
  });

  it('gives a schedule its flexible window and its grace as the maximum event age', () => {
    // Assess
    expect(scheduleNamed('daily').FlexibleTimeWindow).toEqual({
      Mode: 'FLEXIBLE',
      MaximumWindowInMinutes: 15,
    });
    expect(scheduleNamed('weekly').FlexibleTimeWindow).toEqual({ Mode: 'OFF' });
    expect(scheduleNamed('weekly').Target).toMatchObject({ RetryPolicy: { MaximumEventAgeInSeconds: 1800 } });
    expect(scheduleNamed('daily').Target).toMatchObject({ RetryPolicy: { MaximumEventAgeInSeconds: 3600 } });
  });

  it('starts a rate at its local start (UTC in the template) and nothing else has a start date', () => {
    // Assess: 06:00 in Berlin in December is 05:00 UTC.
    expect(scheduleNamed('rate').StartDate).toBe('2026-12-01T05:00:00.000Z');
    for (const name of ['daily', 'weekly', 'monthly', 'cron', 'once'])
      expect(scheduleNamed(name).StartDate).toBeUndefined();
  });

  it('deploys a once schedule as a plain at() (CloudFormation has no ActionAfterCompletion), unchanged after its day', () => {
    // Prepare: synth again as if deploying after the schedule fired.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2027-06-01T00:00:00Z'));
    let later: Template;
    try {
      const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
      later = Template.fromStack(buildApp(kindsConfig, app).pipeline);
    } finally {
      vi.useRealTimers();
    }

    // Act
    const once = scheduleNamed('once');
    const onceLater = Object.values(later.findResources('AWS::Scheduler::Schedule')).find(
      (r) => (r as { Properties: { Name: string } }).Properties.Name === 'discord-digest-kinds-once',
    );

    // Assess: the same resource, so CloudFormation neither re-creates nor re-runs it.
    expect(once).not.toHaveProperty('ActionAfterCompletion');
    expect((onceLater as { Properties: unknown }).Properties).toEqual(once);
  });

  it('does not deploy a disabled schedule', () => {
    // Assess
    expect(() => scheduleNamed('off')).toThrow('no schedule off');
    // Six enabled schedules and the watchdog's.
    kinds.resourceCountIs('AWS::Scheduler::Schedule', 7);
  });

  it("lets FinishRun disable the pipeline's schedules and pass only their target role", () => {
    // Assess
    const finish = Object.entries(kinds.findResources('AWS::Lambda::Function')).find(([id]) =>
      id.startsWith('FinishRunFunction'),
    )?.[1] as { Properties: { Role: { 'Fn::GetAtt': [string, string] } } } | undefined;
    expect(finish).toBeDefined();
    const roleId = finish?.Properties.Role['Fn::GetAtt'][0] ?? '';
    expect(roleId).toMatch(/^FinishRunFunction/);
    const policy = Object.values(kinds.findResources('AWS::IAM::Policy')).find((p) =>
      JSON.stringify((p as { Properties: { Roles: unknown } }).Properties.Roles).includes(roleId),
    );
    const text = JSON.stringify(policy);
    expect(text).toContain('scheduler:GetSchedule');
    expect(text).toContain('scheduler:UpdateSchedule');
    expect(text).toContain('iam:PassRole');
    expect(text).toContain('ScheduleTargetRole');
    expect(JSON.stringify(untraced(policy))).not.toContain('"Resource":"*"');
  });
});

describe('pauses survive a deploy', () => {
  it("re-disables paused schedules after every deploy that changes them, passing only the schedules' own role", () => {
    // Assess: the custom resource comes after every schedule and changes exactly when they do.
    const resources = pipeline.findResources('Custom::SchedulePauses');
    const [resource] = Object.values(resources) as {
      DependsOn?: string[];
      Properties: Record<string, unknown>;
    }[];
    // The configured schedules (the watchdog's own is never paused by a pipeline's failures).
    const schedules = Object.keys(pipeline.findResources('AWS::Scheduler::Schedule')).filter(
      (id) => !id.startsWith('Watchdog'),
    );
    expect(schedules.length).toBeGreaterThan(0);
    expect(resource?.DependsOn).toEqual(expect.arrayContaining(schedules));
    expect(resource?.Properties.SchedulesHash).toMatch(/^[0-9a-f]{64}$/);
    // Its function may read and update those schedules, and pass the one role their targets use.
    const reapply = Object.values(pipeline.findResources('AWS::IAM::Policy')).find((p) =>
      JSON.stringify(p).includes('scheduler:UpdateSchedule'),
    );
    expect(JSON.stringify(reapply)).toContain('iam:PassRole');
    expect(JSON.stringify(reapply)).toContain('ScheduleTargetRole');
    expect(JSON.stringify(untraced(reapply))).not.toContain('"Resource":"*"');
    pipeline.hasResourceProperties('AWS::Scheduler::Schedule', {
      Target: { RoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ScheduleTargetRole'), 'Arn'] } },
    });
  });
});

describe('stateful resources', () => {
  it('keeps runs in a private, encrypted, TLS-only bucket and the ledger in a pk/sk table with TTL', () => {
    // Assess
    stateful.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      VersioningConfiguration: { Status: 'Enabled' },
    });
    stateful.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    stateful.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain' });
  });

  it('has one secret per pipeline and service, named for both', () => {
    // Assess
    stateful.resourceCountIs('AWS::SecretsManager::Secret', config.pipelines.length * SECRET_SERVICES.length);
    for (const service of SECRET_SERVICES) {
      stateful.hasResource('AWS::SecretsManager::Secret', {
        DeletionPolicy: 'Retain',
        Properties: {
          Name: `discord-digest/demo/${service}`,
          Description: Match.stringLikeRegexp(secretKeysOf(service).join(', ')),
          // Fixed options, never the key list: the stored value survives a change of keys.
          GenerateSecretString: { ExcludePunctuation: true },
        },
      });
    }
  });
});

describe('runs never left running', () => {
  it('sends failed, timed-out and aborted executions of this machine to the closer', () => {
    // Assess
    pipeline.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: {
          status: ['FAILED', 'TIMED_OUT', 'ABORTED'],
          stateMachineArn: [{ Ref: Match.stringLikeRegexp('^StateMachine') }],
        },
      },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^CloseAbandonedRunFunction'), 'Arn'] },
        }),
      ],
    });
  });
});

describe('observability', () => {
  it('has a dashboard and an alarm on failed executions', () => {
    // Assess
    pipeline.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'discord-digest' });
    pipeline.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ExecutionsFailed',
      Threshold: 1,
      AlarmActions: [Match.anyValue()],
    });
  });
});

describe('the CDK app entry point', () => {
  it('exits non-zero naming the field of an invalid config', () => {
    // Prepare
    const file = join(mkdtempSync(join(tmpdir(), 'digest-app-')), 'bad.json');
    writeFileSync(file, JSON.stringify({ pipelines: [{ id: 'Bad Id' }] }));

    // Act
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'infra/app.ts'], {
      encoding: 'utf8',
      env: { ...process.env, DIGEST_CONFIG_FILE: file },
    });

    // Assess
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('pipelines[0].id');
  });
});

describe('missed runs and email', () => {
  it('runs the watchdog every 15 minutes and on each dead letter of the schedules, with an alarm on the queue', () => {
    // Assess
    const template = pipeline.toJSON() as { Resources: Record<string, { Type: string; Properties: never }> };
    const watchdogId = Object.entries(template.Resources).find(
      ([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith('WatchdogFunction'),
    )?.[0];
    expect(watchdogId).toBeDefined();
    pipeline.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(15 minutes)',
      Target: Match.objectLike({ Arn: { 'Fn::GetAtt': [watchdogId, 'Arn'] } }),
    });
    pipeline.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: watchdogId },
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ScheduleDeadLetters'), 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    pipeline.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Threshold: 1,
    });
  });

  it('lets Deliver, FinishRun and the watchdog send email from the configured sender only', () => {
    // Assess
    pipeline.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'ses:SendEmail',
            Resource: Match.arrayWith([
              {
                'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp(':identity/digest@example.com$')])],
              },
            ]),
          }),
        ]),
      }),
    });
  });
});
