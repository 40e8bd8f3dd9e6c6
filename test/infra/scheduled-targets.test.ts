import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/app';
import { loadConfigFile } from '../../shared/config/load';

let pipeline: Template;

beforeAll(() => {
  // Bundling skipped: these tests look at the template, not at the code.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  pipeline = Template.fromStack(buildApp(loadConfigFile('digest.config.json'), app).pipeline);
});

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

/** The statements of the default policy of the role of the function whose logical id starts with `prefix`. */
function functionStatements(prefix: string): Statement[] {
  const [, fn] =
    Object.entries(pipeline.findResources('AWS::Lambda::Function')).find(([id]) => id.startsWith(prefix)) ??
    [];
  const roleId = (fn as { Properties: { Role: { 'Fn::GetAtt': [string, string] } } }).Properties.Role[
    'Fn::GetAtt'
  ][0];
  return roleStatements(roleId);
}

function roleStatements(roleId: string): Statement[] {
  const policies = Object.values(pipeline.findResources('AWS::IAM::Policy')).filter((p) =>
    JSON.stringify((p as { Properties: { Roles: unknown } }).Properties.Roles).includes(roleId),
  );
  return policies.flatMap(
    (p) =>
      (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument
        .Statement,
  );
}

const actions = (statements: Statement[]) => statements.flatMap((s) => [s.Action].flat()).sort();
const logicalId = (type: string, prefix: string) =>
  Object.keys(pipeline.findResources(type)).find((id) => id.startsWith(prefix)) ?? '';

describe('one-off posts, deployed', () => {
  it('deploys the publish-post function, which may use the table and read the pipelines’ secrets and nothing else', () => {
    // Assess
    pipeline.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Environment: {
        Variables: Match.objectLike({ LEDGER_TABLE: Match.anyValue(), SECRETS_SOURCE: 'secretsmanager' }),
      },
      Role: {
        'Fn::GetAtt': [Match.stringLikeRegexp('^ScheduledTargetsPublishPostFunctionRole'), 'Arn'],
      },
    });
    const statements = functionStatements('ScheduledTargetsPublishPostFunction');
    // Besides: its own log group's writes, and X-Ray's trace writes with active tracing (every function has both).
    expect(
      actions(statements).filter((a) => !a.startsWith('dynamodb:') && !a.startsWith('secretsmanager:')),
    ).toEqual([
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
    expect(actions(statements)).toEqual(
      expect.arrayContaining(['dynamodb:UpdateItem', 'secretsmanager:GetSecretValue']),
    );
    // Only X-Ray's writes, which take no resource, hold `*`.
    expect(statements.filter((s) => s.Resource === '*').flatMap((s) => [s.Action].flat())).toEqual([
      'xray:PutTraceSegments',
      'xray:PutTelemetryRecords',
    ]);
  });

  it('gives the posts’ schedules a role that Scheduler assumes and that may only invoke publish-post', () => {
    // Assess
    const roleId = logicalId('AWS::IAM::Role', 'ScheduledTargetsPostScheduleRole');
    pipeline.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: Match.objectLike({
        Statement: [Match.objectLike({ Principal: { Service: 'scheduler.amazonaws.com' } })],
      }),
      Description: 'EventBridge Scheduler publishing discord-digest one-off posts',
    });
    const statements = roleStatements(roleId);
    expect(actions(statements)).toEqual(['lambda:InvokeFunction']);
    expect(JSON.stringify(statements[0]?.Resource)).toContain('ScheduledTargetsPublishPostFunction');
  });

  it('outputs the function and the role, which posts schedule --aws reads', () => {
    // Assess
    pipeline.hasOutput('PublishPostFunctionArn', {
      Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ScheduledTargetsPublishPostFunction'), 'Arn'] },
    });
    pipeline.hasOutput('PostScheduleRoleArn', {
      Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ScheduledTargetsPostScheduleRole'), 'Arn'] },
    });
  });
});

describe('automatic resumes, deployed', () => {
  it('lets FinishRun create only digest-resume-* schedules and pass only the schedules’ target role', () => {
    // Assess
    const statements = functionStatements('FinishRunFunction');
    const create = statements.find((s) => s.Action === 'scheduler:CreateSchedule');
    expect(create?.Resource).toEqual({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':scheduler:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          ':schedule/default/digest-resume-*',
        ],
      ],
    });
    const passRole = statements.filter((s) => actions([s]).includes('iam:PassRole'));
    expect(passRole).toEqual([
      expect.objectContaining({
        Resource: { 'Fn::GetAtt': [logicalId('AWS::IAM::Role', 'ScheduleTargetRole'), 'Arn'] },
      }),
    ]);
  });

  it('tells FinishRun the state machine (by its fixed name) and the role its resumes start it as', () => {
    // Assess
    pipeline.hasResourceProperties('AWS::Lambda::Function', {
      Role: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FinishRunFunctionRole'), 'Arn'] },
      Environment: {
        Variables: Match.objectLike({
          RESUME_MACHINE_ARN: {
            'Fn::Join': ['', Match.arrayWith([':states:', ':stateMachine:discord-digest'])],
          },
          RESUME_ROLE_ARN: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ScheduleTargetRole'), 'Arn'] },
        }),
      },
    });
    pipeline.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: 'discord-digest',
    });
  });

  it('lets the target role start executions of this one machine, and no other function gets the resume variables', () => {
    // Assess
    const statements = roleStatements(logicalId('AWS::IAM::Role', 'ScheduleTargetRole'));
    expect(statements.filter((s) => s.Action === 'states:StartExecution')).toEqual([
      expect.objectContaining({
        Resource: { Ref: logicalId('AWS::StepFunctions::StateMachine', 'StateMachine') },
      }),
    ]);
    const withResume = Object.entries(pipeline.findResources('AWS::Lambda::Function')).filter(([, fn]) =>
      JSON.stringify(fn).includes('RESUME_ROLE_ARN'),
    );
    expect(withResume.map(([id]) => id)).toEqual([expect.stringMatching(/^FinishRunFunction/)]);
  });
});
