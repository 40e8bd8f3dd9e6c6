import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createDynamoDocumentClient } from '../../shared/adapters/aws-clients';
import { createRunLedger } from '../../shared/adapters/dynamo-ledger';
import { createScheduleStateStore } from '../../shared/adapters/dynamo-schedule-state';
import { createWatchdogProgress } from '../../shared/adapters/dynamo-watchdog-progress';
import { runtimeEnvFromEnv } from '../../shared/config/env';
import { loadRuntimeConfig } from '../../shared/config/load';
import { logger, logInfo } from '../../shared/observability/logger';
import { recordMissedRuns } from '../../shared/observability/metrics';
import { type MissedRun, recordDeadLetter, watchForMissedRuns } from '../../shared/pipeline/watchdog';
import { notifierFor } from '../../shared/runtime/notifier';

// Built once per container: the config, the table and its client never change within it.
const config = loadRuntimeConfig();
const tableName = runtimeEnvFromEnv().LEDGER_TABLE;
const client = createDynamoDocumentClient();
const ledger = createRunLedger({ client, tableName });
const progress = createWatchdogProgress({ client, tableName });
const schedules = createScheduleStateStore({ client, tableName });

const isSqsEvent = (event: unknown): event is SQSEvent =>
  Array.isArray((event as { Records?: unknown } | null)?.Records);

function countByPipeline(missed: readonly MissedRun[]): void {
  const counts = new Map<string, number>();
  for (const m of missed) counts.set(m.pipelineId, (counts.get(m.pipelineId) ?? 0) + 1);
  for (const [pipelineId, count] of counts) recordMissedRuns(pipelineId, count);
}

/**
 * Two triggers, one concern (missed runs): a rate schedule runs the check of
 * every schedule's slots against the ledger; the schedules' dead-letter queue
 * (an SQS event source) turns each dead letter into a missed run. A dead letter
 * that fails stays in the queue (partial batch response) for the next try.
 */
export const handler = middy(
  async (event: unknown, lambda: Context): Promise<SQSBatchResponse | { missed: number }> => {
    const deps = {
      config,
      ledger,
      schedules,
      progress,
      notify: notifierFor(lambda),
      now: () => new Date(),
      log: logInfo,
    };
    if (!isSqsEvent(event)) {
      const missed = await watchForMissedRuns(deps);
      countByPipeline(missed);
      return { missed: missed.length };
    }
    const failures: SQSBatchResponse['batchItemFailures'] = [];
    const missed: MissedRun[] = [];
    for (const record of event.Records) {
      // Attribute names not confirmed in the documentation found: absent ones only leave the cause out.
      const attribute = (name: string) => record.messageAttributes?.[name]?.stringValue;
      const cause =
        [attribute('ERROR_CODE'), attribute('ERROR_MESSAGE')].filter(Boolean).join(': ') || undefined;
      try {
        const recorded = await recordDeadLetter(deps, record.body, cause);
        if (recorded) missed.push(recorded);
      } catch (error) {
        logger.error('dead letter not recorded', { messageId: record.messageId, error });
        failures.push({ itemIdentifier: record.messageId });
      }
    }
    countByPipeline(missed);
    return { batchItemFailures: failures };
  },
).use(injectLambdaContext(logger, { resetKeys: true }));
