import { SendTaskFailureCommand, SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { TaskCallback } from '../ports';
import { toDigestError } from './aws-clients';

/**
 * Resume a `.waitForTaskToken` task: SendTaskSuccess's output becomes the task's result, SendTaskFailure's
 * error is what Catch matches (error up to 256 characters, cause up to 32,768):
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskSuccess.html
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskFailure.html
 */
export function createTaskCallback(client: SFNClient): TaskCallback {
  const send = async (operation: string, request: () => Promise<unknown>) => {
    try {
      await request();
    } catch (error) {
      // TaskTimedOut (expired or already closed) and InvalidToken are permanent; throttling is transient.
      throw toDigestError('stepfunctions', operation, error);
    }
  };
  return {
    succeed: (taskToken, output) =>
      send('SendTaskSuccess', () =>
        client.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) })),
      ),
    fail: (taskToken, error, cause) =>
      send('SendTaskFailure', () =>
        client.send(
          new SendTaskFailureCommand({
            taskToken,
            error: error.slice(0, 256),
            cause: cause.slice(0, 32_768),
          }),
        ),
      ),
  };
}
