import { ArnFormat, CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { FunctionUrlAuthType } from 'aws-cdk-lib/aws-lambda';
import type { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { REVIEW_LINK_URL_ENV } from '../shared/runtime/review';
import { DigestFunction } from './digest-function';

export interface ReviewProps {
  /** The AwaitReview function: it gets the link address, and may resume its own task. */
  awaitReview: DigestFunction;
  table: Table;
  secrets: Secret[];
  environment: Record<string, string>;
  /** The state machine's name: its ARN is built from it, as referencing the machine would be a cycle. */
  stateMachineName: string;
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
      timeout: Duration.seconds(30),
    });
    props.table.grantReadWriteData(this.linkFunction);
    for (const secret of props.secrets) secret.grantRead(this.linkFunction);
    const url = this.linkFunction.addFunctionUrl({ authType: FunctionUrlAuthType.NONE });
    props.awaitReview.addEnvironment(REVIEW_LINK_URL_ENV, url.url);
    const machineArn = Stack.of(this).formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: props.stateMachineName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
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
