import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { localHolderDeps } from '../../shared/adapters/local-process';
import { logger } from '../../shared/observability/logger';
import { recordNotRunMetric } from '../../shared/observability/metrics';
import { parseEvent } from '../../shared/observability/step-handler';
import { beginRun, beginRunEventSchema } from '../../shared/pipeline/begin-run';
import { stepContext } from '../../shared/runtime/step-context';

/** A run may hold its pipeline's lock this long: the state machine's own timeout plus slack. */
const LOCK_LEASE_MS = 75 * 60_000;

export const handler = middy(async (event: unknown, lambda: Context) => {
  const parsed = parseEvent(beginRunEventSchema, event);
  const context = stepContext(parsed.input.pipelineId, lambda);
  return beginRun(
    {
      config: context.config,
      ledger: context.ledger,
      schedules: context.schedules,
      now: context.now,
      lockLeaseMs: LOCK_LEASE_MS,
      log: context.log,
      notRun: recordNotRunMetric,
      // Only when run by the local CLI: the lock then names this process.
      ...localHolderDeps(),
    },
    parsed,
  );
}).use(injectLambdaContext(logger, { resetKeys: true }));
