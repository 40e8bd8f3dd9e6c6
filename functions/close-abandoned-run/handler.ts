import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { createDynamoDocumentClient } from '../../shared/adapters/aws-clients';
import { createRunLedger } from '../../shared/adapters/dynamo-ledger';
import { runtimeEnvFromEnv } from '../../shared/config/env';
import { logger, logInfo } from '../../shared/observability/logger';
import { parseEvent } from '../../shared/observability/step-handler';
import { closeAbandonedRun, executionEndedEventSchema } from '../../shared/pipeline/close-abandoned-run';

/** Invoked by EventBridge when an execution fails, times out or is aborted. */
export const handler = middy(async (event: unknown) => {
  const parsed = parseEvent(executionEndedEventSchema, event);
  const ledger = createRunLedger({
    client: createDynamoDocumentClient(),
    tableName: runtimeEnvFromEnv().LEDGER_TABLE,
  });
  return closeAbandonedRun({ ledger, now: () => new Date(), log: logInfo }, parsed);
}).use(injectLambdaContext(logger, { resetKeys: true }));
