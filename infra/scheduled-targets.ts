import { CfnOutput, Duration, Stack, Validations } from 'aws-cdk-lib';
import { type IRole, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { RESUME_MACHINE_ENV, RESUME_ROLE_ENV, RESUME_SCHEDULE_PREFIX } from '../shared/config/aws-names';
import { FUNCTION_NEEDS, PIPELINE_OUTPUTS } from '../shared/config/resources';
import { DigestFunction } from './digest-function';
import { type GrantTargets, grantFunctionNeeds } from './function-grants';
import { stateMachineArnByName } from './state-machine';

export interface ScheduledTargetsProps {
  /** What the functions may touch: publish-post gets FUNCTION_NEEDS.PublishPost of it. */
  grants: GrantTargets;
  /** The functions' shared environment (table, secret prefix). */
  environment: Record<string, string>;
  /** The validated config, bundled into the asset. */
  configFile: string;
  stateMachine: IStateMachine;
  /** The role the pipelines' schedules start the state machine as; resumes start it as the same role. */
  targetRole: IRole;
  /** FinishRun, which creates the one-time schedules of automatic resumes. */
  finishRun: DigestFunction;
}

/**
 * What the one-time schedules created at run time invoke, and who may create them:
 * - one-off posts (`posts schedule --aws`): the publish-post function, invoked by a Scheduler role that may
 *   do nothing else; the CLI finds both in the stack's outputs;
 * - automatic resumes (shared/pipeline/auto-resume.ts): the state machine, started by the pipelines' own
 *   schedule target role; FinishRun may create schedules named `digest-resume-*` and pass that role, nothing more.
 */
export class ScheduledTargets extends Construct {
  readonly publishPost: DigestFunction;
  readonly postScheduleRole: Role;

  constructor(scope: Construct, id: string, props: ScheduledTargetsProps) {
    super(scope, id);
    const stack = Stack.of(this);

    // Reads and writes the post and its publication journal; reads the publishing credentials. No bucket, no Scheduler.
    this.publishPost = new DigestFunction(this, 'PublishPostFunction', {
      dir: 'publish-post',
      environment: props.environment,
      configFile: props.configFile,
      timeout: Duration.minutes(5),
    });
    grantFunctionNeeds(this.publishPost, FUNCTION_NEEDS.PublishPost, props.grants);

    // Scheduler assumes this role to call the templated Lambda Invoke target:
    // docs.aws.amazon.com/scheduler/latest/UserGuide/managing-targets-templated.html (Lambda – Invoke)
    this.postScheduleRole = new Role(this, 'PostScheduleRole', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com'),
      description: 'EventBridge Scheduler publishing discord-digest one-off posts',
    });
    // The function itself, not grantInvoke's `<arn>:*` for versions and aliases: the schedules invoke $LATEST.
    this.postScheduleRole.addToPolicy(
      new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.publishPost.functionArn] }),
    );

    // A resume starts the machine exactly as a pipeline's schedule does (states:StartExecution on it alone).
    props.stateMachine.grantStartExecution(props.targetRole);
    const finish = props.finishRun;
    finish.addToRolePolicy(
      new PolicyStatement({
        actions: ['scheduler:CreateSchedule'],
        // Schedules of the default group whose names FinishRun gives its resumes (shared/config/aws-names.ts):
        // arn:aws:scheduler:region:account:schedule/group/name
        // (docs.aws.amazon.com/service-authorization/latest/reference/list_amazoneventbridgescheduler.html).
        resources: [
          stack.formatArn({
            service: 'scheduler',
            resource: 'schedule',
            resourceName: `default/${RESUME_SCHEDULE_PREFIX}*`,
          }),
        ],
      }),
    );
    Validations.of(finish.role ?? finish).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/default/${RESUME_SCHEDULE_PREFIX}*]`,
      reason:
        'resume schedules are named at run time after their run; the prefix is the narrowest ARN Scheduler allows',
    });
    props.targetRole.grantPassRole(finish.grantPrincipal);
    // Built from the fixed name: the machine's own ARN would make FinishRun depend on the machine that invokes it.
    finish.addEnvironment(RESUME_MACHINE_ENV, stateMachineArnByName(this));
    finish.addEnvironment(RESUME_ROLE_ENV, props.targetRole.roleArn);

    // At stack scope, so the output keys are exactly these names for `posts schedule --aws`.
    new CfnOutput(stack, PIPELINE_OUTPUTS.publishPostArn, {
      value: this.publishPost.functionArn,
      description: 'publish-post function, the target of one-off posts',
    });
    new CfnOutput(stack, PIPELINE_OUTPUTS.postScheduleRoleArn, {
      value: this.postScheduleRole.roleArn,
      description: 'role the one-off posts’ schedules invoke publish-post as',
    });
  }
}
