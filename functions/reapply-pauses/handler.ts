import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import middy from '@middy/core';
import { createDynamoDocumentClient } from '../../shared/adapters/aws-clients';
import { createScheduleStateStore } from '../../shared/adapters/dynamo-schedule-state';
import { createSchedulerGateway } from '../../shared/adapters/eventbridge-scheduler';
import { runtimeEnvFromEnv } from '../../shared/config/env';
import { loadRuntimeConfig } from '../../shared/config/load';
import { logger, logInfo } from '../../shared/observability/logger';
import { reapplySchedulePauses } from '../../shared/pipeline/reapply-pauses';

const scheduler = createSchedulerGateway(new SchedulerClient({}));

/** What CloudFormation sends a Lambda-backed custom resource (docs: crpg-ref-requesttypes-create.html). */
interface CustomResourceEvent {
  RequestType: 'Create' | 'Update' | 'Delete';
  ResponseURL: string;
  StackId: string;
  RequestId: string;
  LogicalResourceId: string;
  PhysicalResourceId?: string;
}

const PHYSICAL_ID = 'discord-digest-schedule-pauses';

/**
 * The custom resource behind SchedulePauses, answering CloudFormation itself
 * (no provider-framework function): on create and update, disable again the
 * schedules paused in the ledger. It always answers SUCCESS — a deploy must not
 * roll back because Scheduler hiccupped, and BeginRun skips paused runs anyway;
 * a failure is logged. Response format:
 * docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-responses.html
 */
export const handler = middy(async (event: CustomResourceEvent) => {
  let data: Record<string, string> = {};
  if (event.RequestType !== 'Delete') {
    try {
      const result = await reapplySchedulePauses({
        config: loadRuntimeConfig(),
        states: createScheduleStateStore({
          client: createDynamoDocumentClient(),
          tableName: runtimeEnvFromEnv().LEDGER_TABLE,
        }),
        scheduler,
        now: () => new Date(),
        log: logInfo,
      });
      data = { Disabled: result.disabled.join(',').slice(0, 2000) };
    } catch (error) {
      logger.error('pauses could not be re-applied; paused runs are still skipped by BeginRun', { error });
      data = { Error: (error as Error).message.slice(0, 500) };
    }
  }
  const response = await fetch(event.ResponseURL, {
    method: 'PUT',
    // The presigned URL is signed for an empty content type.
    headers: { 'content-type': '' },
    body: JSON.stringify({
      Status: 'SUCCESS',
      PhysicalResourceId: event.PhysicalResourceId ?? PHYSICAL_ID,
      StackId: event.StackId,
      RequestId: event.RequestId,
      LogicalResourceId: event.LogicalResourceId,
      Data: data,
    }),
  });
  if (!response.ok) throw new Error(`CloudFormation response refused: ${response.status}`);
}).use(injectLambdaContext(logger, { resetKeys: true }));
