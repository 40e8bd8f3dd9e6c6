import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/app';
import { loadConfigFile, parseConfig } from '../../shared/config/load';
import { RAW_MESSAGES_TAG, TASK_STATES } from '../../shared/config/resources';
import type { DigestConfig } from '../../shared/config/schema';

// Two pipelines that need different things: `demo` (daily window, X) and `tf` (since_last window, Typefully).
const demo = loadConfigFile('digest.config.json');
const config: DigestConfig = parseConfig(
  {
    pipelines: [
      demo.pipelines[0],
      {
        ...demo.pipelines[0],
        id: 'tf',
        discord: { channelId: '1187654321098765433', window: { mode: 'since_last', initialHours: 24 } },
        sheet: { ...demo.pipelines[0]?.sheet, spreadsheetId: 'sandbox-spreadsheet-0002' },
        publisher: { kind: 'typefully', typefullySocialSetId: 'social-set-1' },
      },
    ],
    retention: { runFilesDays: 120, rawMessagesDays: 7 },
    alerts: { email: 'ops@example.com' },
  },
  'least-privilege test',
);

let app: App;
let pipeline: Template;
let stateful: Template;
beforeAll(() => {
  app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stacks = buildApp(config, app);
  // Template.fromStack runs cdk-nag's AwsSolutions checks and throws on any finding not acknowledged.
  pipeline = Template.fromStack(stacks.pipeline);
  stateful = Template.fromStack(stacks.stateful);
});

interface Statement {
  Action: string | string[];
  Resource: unknown;
}
/** The statements of the policy attached to a function's own role (`<name>Role…`). */
function statementsOf(template: Template, functionName: string): Statement[] {
  const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
    JSON.stringify(p.Properties.Roles).includes(`"${functionName}Role`),
  );
  expect(policies, functionName).toHaveLength(1);
  return policies.flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}
const actionsOf = (statements: Statement[]) => statements.flatMap((s) => [s.Action].flat());
const withAction = (statements: Statement[], action: string) =>
  statements.filter((s) => [s.Action].flat().includes(action));
/** The secrets a function may read, by logical id of the secret in the stateful stack (`Secret<pipeline><service>`). */
function secretsReadBy(functionName: string): string[] {
  const text = JSON.stringify(
    withAction(statementsOf(pipeline, functionName), 'secretsmanager:GetSecretValue'),
  );
  return [...text.matchAll(/ExportsOutputRefSecret([a-z]+?)(discord|google|gemini|x|typefully)[0-9A-F]{8}/g)]
    .map(([, p, s]) => `${p}/${s}`)
    .sort();
}

describe('the cdk-nag gate', () => {
  it('passes with every remaining finding acknowledged, with a reason, under fewer than ten distinct reasons', () => {
    // Prepare
    const reasons = new Map<string, string[]>();
    const visit = (node: IConstruct) => {
      for (const entry of node.node.metadata) {
        if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const [id, value] of Object.entries(entry.data as Record<string, unknown>)) {
          // CDK acknowledges some CloudFormation-Validate rules of its own; these are ours.
          if (!id.replace(/^annotation::/i, '').startsWith('AwsSolutions-')) continue;
          const reason = JSON.stringify(value);
          reasons.set(reason, [...(reasons.get(reason) ?? []), id.replace(/^annotation::/i, '')]);
        }
      }
      for (const child of node.node.children) visit(child);
    };

    // Act
    visit(app);

    // Assess: the templates above synthesized under the checks; each acknowledgement names its rule.
    if (process.env.DIGEST_VERBOSE) console.log(reasons);
    expect(reasons.size).toBeGreaterThan(0);
    expect(reasons.size).toBeLessThan(10);
    for (const [reason, ids] of reasons) {
      expect(reason.length, ids.join(', ')).toBeGreaterThan(20);
      for (const id of ids) expect(id).toMatch(/^AwsSolutions-[A-Z]+\d+/);
    }
  });

  it('fails the synth on a new wildcard grant', () => {
    // Prepare
    const other = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stacks = buildApp(config, other);
    stacks.pipeline.functions.Collect.addToRolePolicy(
      new PolicyStatement({ actions: ['s3:*'], resources: ['arn:aws:s3:::some-bucket/*'] }),
    );

    // Act
    const synth = () => Template.fromStack(stacks.pipeline);

    // Assess
    expect(synth).toThrow(/AwsSolutions-IAM5\[Action::s3:\*\]/);
  });
});

describe('each function may do what it needs and nothing else', () => {
  it('BeginRun touches only the table; FinishRun the table and, to notify, only the destinations secret and SES', () => {
    for (const name of ['BeginRunFunction', 'FinishRunFunction']) {
      // Act
      const statements = statementsOf(pipeline, name);
      const actions = actionsOf(statements);

      // Assess
      expect(actions).toEqual(
        expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']),
      );
      expect(
        actions.filter((a) => a.startsWith('s3:')),
        name,
      ).toEqual([]);
      const secrets = statements.filter((s) => actionsOf([s]).some((a) => a.startsWith('secretsmanager:')));
      if (name === 'BeginRunFunction') expect(secrets, name).toEqual([]);
      // The sample config notifies a Discord webhook (its URL a named secret) and by email.
      else {
        expect(JSON.stringify(secrets.map((s) => s.Resource))).toMatch(
          /^\[[^\]]*Secretdemodestinations[^\]]*\]$/,
        );
        expect(actions).toContain('ses:SendEmail');
      }
    }
  });

  it("Collect writes only under runs/, deletes nothing, and reads the Discord credential (and Google's only for a since_last window)", () => {
    // Act
    const statements = statementsOf(pipeline, 'CollectFunction');

    // Assess
    pipeline.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^CollectFunctionRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['s3:PutObject', 's3:PutObjectTagging'],
            Resource: {
              'Fn::Join': ['', [{ 'Fn::ImportValue': 'discord-digest-run-files-arn' }, '/runs/*']],
            },
          }),
        ]),
      },
    });
    expect(withAction(statements, 's3:PutObject')).toHaveLength(1);
    expect(actionsOf(statements)).not.toContain('s3:DeleteObject');
    expect(secretsReadBy('CollectFunction')).toEqual(['demo/discord', 'tf/discord', 'tf/google']);
  });

  it('only Archive deletes objects, and only under runs/', () => {
    // Prepare
    const policies = Object.values(pipeline.findResources('AWS::IAM::Policy'));

    // Act
    const deleting = policies.filter((p) => JSON.stringify(p).includes('s3:DeleteObject'));

    // Assess
    expect(deleting).toHaveLength(1);
    expect(JSON.stringify(deleting[0]?.Properties.Roles)).toContain('ArchiveFunctionRole');
    pipeline.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^ArchiveFunctionRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 's3:DeleteObject',
            Resource: {
              'Fn::Join': ['', [{ 'Fn::ImportValue': 'discord-digest-run-files-arn' }, '/runs/*']],
            },
          }),
        ]),
      },
    });
  });

  it('only Publish reads publishing credentials, and only its pipelines’ own platform', () => {
    // Act
    const readers = ['BeginRun', 'Collect', 'Upload', 'Analyze', 'Publish', 'Archive', 'FinishRun'].map(
      (s) => [s, secretsReadBy(`${s}Function`)],
    );

    // Assess
    expect(Object.fromEntries(readers)).toEqual({
      BeginRun: [],
      Collect: ['demo/discord', 'tf/discord', 'tf/google'],
      Upload: ['demo/google', 'tf/google'],
      Analyze: ['demo/gemini', 'demo/google', 'tf/gemini', 'tf/google'],
      // Publish sends Sheets nothing: Archive marks the Drafts row in its move.
      Publish: ['demo/x', 'tf/typefully'],
      Archive: ['demo/google', 'tf/google'],
      FinishRun: [],
    });
  });

  it('grants no table-wide or bucket-wide wildcard; `*` only for X-Ray, which takes no resource', () => {
    for (const [id, policy] of Object.entries(pipeline.findResources('AWS::IAM::Policy'))) {
      if (id.startsWith('StateMachineRole')) continue; // LambdaInvoke and log delivery: acknowledged in pipeline-stack.ts
      for (const statement of policy.Properties.PolicyDocument.Statement as Statement[]) {
        const actions = [statement.Action].flat();
        expect(
          actions.filter((a) => a.includes('*')),
          id,
        ).toEqual([]);
        if (JSON.stringify(statement.Resource) === '"*"') {
          expect(
            actions.every((a) => a.startsWith('xray:')),
            `${id} ${actions.join(',')}`,
          ).toBe(true);
        }
      }
    }
  });
});

describe('retention and protection', () => {
  it('expires run files and, sooner, the raw messages (tagged by Collect), and protects the ledger from deletion', () => {
    // Assess
    stateful.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ Id: 'run-files', ExpirationInDays: 120, Status: 'Enabled' }),
          Match.objectLike({
            Id: 'raw-messages',
            ExpirationInDays: 7,
            NoncurrentVersionExpiration: { NoncurrentDays: 1 },
            TagFilters: [{ Key: RAW_MESSAGES_TAG.key, Value: RAW_MESSAGES_TAG.value }],
          }),
        ]),
      },
      LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'run-files/' }),
    });
    stateful.hasResourceProperties('AWS::DynamoDB::Table', { DeletionProtectionEnabled: true });
  });
});

describe('nothing the closer misses is lost', () => {
  it('gives the closer and the rule that invokes it a dead-letter queue', () => {
    // Assess
    pipeline.hasResourceProperties('AWS::Lambda::Function', {
      DeadLetterConfig: {
        TargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^CloserDeadLetters'), 'Arn'] },
      },
    });
    pipeline.hasResourceProperties('AWS::Events::Rule', {
      Targets: [
        Match.objectLike({
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^CloserDeadLetters'), 'Arn'] } },
          RetryPolicy: { MaximumRetryAttempts: 4 },
        }),
      ],
    });
  });
});

describe('alerts', () => {
  it('subscribes alerts.email to the alarm topic', () => {
    // Assess
    pipeline.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: { Ref: Match.stringLikeRegexp('^ObservabilityAlerts') },
    });
  });

  it('has no subscription without alerts.email', () => {
    // Act
    const bare = Template.fromStack(
      buildApp(demo, new App({ context: { 'aws:cdk:bundling-stacks': [] } })).pipeline,
    );

    // Assess
    bare.resourceCountIs('AWS::SNS::Subscription', 0);
  });
});

describe('object prefixes', () => {
  it('lets each step read only the prefixes it reads: Collect and Publish runs/ only, a replayed CSV from processed/', () => {
    // Prepare
    const readPrefixes = (name: string) =>
      withAction(statementsOf(pipeline, name), 's3:GetObject')
        .flatMap((s) => [s.Resource].flat())
        .map((r) => (JSON.stringify(r).match(/"\/([a-z]+\/)\*"/) ?? [])[1])
        .sort();

    // Act
    const reads = Object.fromEntries(
      ['Collect', 'Upload', 'Analyze', 'Publish', 'Archive'].map((s) => [s, readPrefixes(`${s}Function`)]),
    );

    // Assess
    expect(reads).toEqual({
      Collect: ['runs/'],
      Upload: ['processed/', 'runs/'],
      Analyze: ['processed/', 'runs/'],
      Publish: ['runs/'],
      Archive: ['processed/', 'runs/'],
    });
  });
});

describe("the state machine's role", () => {
  it('invokes only the step functions, and holds `*` only for log delivery and X-Ray, which take no resource', () => {
    // Prepare
    const [policy, ...others] = Object.entries(pipeline.findResources('AWS::IAM::Policy'))
      .filter(([id]) => id.startsWith('StateMachineRole'))
      .map(([, p]) => p);
    expect(others).toHaveLength(0);

    // Act
    const statements = policy?.Properties.PolicyDocument.Statement as Statement[];

    // Assess: exactly the Step Functions logging actions (docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html)
    // and the X-Ray ones; every other statement invokes one step's function (and its versions).
    const wildcard = statements.filter((s) => JSON.stringify(s.Resource) === '"*"');
    expect(
      actionsOf(wildcard).every(
        (a) =>
          /^logs:[A-Za-z]*(LogDelivery|LogDeliveries|ResourcePolic|LogGroups)/.test(a) ||
          a.startsWith('xray:'),
      ),
    ).toBe(true);
    const invokes = statements.filter((s) => JSON.stringify(s.Resource) !== '"*"');
    expect(actionsOf(invokes).every((a) => a === 'lambda:InvokeFunction')).toBe(true);
    // Every task's function but AwaitReview's: the sample config's pipelines ask for no review, so the
    // machine has no review gate and may not invoke that function.
    expect(invokes).toHaveLength(Object.keys(TASK_STATES).length - 1);
    expect(JSON.stringify(invokes)).not.toContain('AwaitReviewFunction');
  });
});
