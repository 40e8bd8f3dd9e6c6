import { Duration, Validations } from 'aws-cdk-lib';
import { Queue, QueueEncryption, type QueueProps } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/**
 * A queue that catches what a service could not deliver: Scheduler's and EventBridge's failed target
 * invocations, Lambda's failed async events. Kept 14 days, SQS's longest, for someone to look at.
 */
export function deadLetterQueue(
  scope: Construct,
  id: string,
  options: Pick<QueueProps, 'visibilityTimeout'> = {},
): Queue {
  const queue = new Queue(scope, id, {
    enforceSSL: true,
    encryption: QueueEncryption.SQS_MANAGED,
    retentionPeriod: Duration.days(14),
    ...options,
  });
  // SQS3 asks for a redrive queue behind every queue; this one is the end of the line itself, named as a
  // dead-letter target by Scheduler, EventBridge or Lambda, which SQS's redrive policy cannot express.
  Validations.of(queue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason:
      'a dead-letter target of Scheduler, EventBridge or Lambda async invocation, not an SQS redrive source',
  });
  return queue;
}
