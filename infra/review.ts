import { CfnOutput, Duration } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { FunctionUrlAuthType } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { FUNCTION_NEEDS } from '../shared/config/resources';
import { REVIEW_LINK_URL_ENV } from '../shared/runtime/review';
import { DigestFunction } from './digest-function';
import { type GrantTargets, grantFunctionNeeds } from './function-grants';
import { stateMachineArnByName } from './state-machine';

export interface ReviewProps {
  /** The AwaitReview function: it gets the link address, and may resume its own task. */
  awaitReview: DigestFunction;
  grants: GrantTargets;
  environment: Record<string, string>;
  configFile: string;
}

/**
 * Review before publishing: the signed-link function behind a function URL (auth NONE, the link's HMAC
 * is the check: https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html), and the right to answer
 * the waiting task (states:SendTaskSuccess/Failure on the machine, as CDK's grantTaskResponse grants).
 */
export class Review extends Construct {
  readonly linkFunction: DigestFunction;

  constructor(scope: Construct, id: string, props: ReviewProps) {
    super(scope, id);
    this.linkFunction = new DigestFunction(this, 'ReviewLinkFunction', {
      dir: 'review-link',
      environment: props.environment,
      configFile: props.configFile,
      timeout: Duration.seconds(30),
    });
    grantFunctionNeeds(this.linkFunction, FUNCTION_NEEDS.ReviewLink, props.grants);
    const url = this.linkFunction.addFunctionUrl({ authType: FunctionUrlAuthType.NONE });
    props.awaitReview.addEnvironment(REVIEW_LINK_URL_ENV, url.url);
    const machineArn = stateMachineArnByName(this);
    const answer = new PolicyStatement({
      actions: ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'],
      resources: [machineArn],
    });
    this.linkFunction.addToRolePolicy(answer);
    props.awaitReview.addToRolePolicy(answer);
    new CfnOutput(this, 'ReviewLinkUrl', {
      value: url.url,
      description: 'signed approve/reject links open here',
    });
  }
}
