import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { logger } from '../../shared/observability/logger';
import { recordRunMetrics } from '../../shared/observability/metrics';
import { parseEvent } from '../../shared/observability/step-handler';
import { finishRun } from '../../shared/pipeline/finish-run';
import { stepInputSchema } from '../../shared/pipeline/run-state';
import { noticeSender } from '../../shared/runtime/notifier';
import { resumeSchedulerFromEnv, schedulerDisabler } from '../../shared/runtime/scheduler-sync';
import { stepContext } from '../../shared/runtime/step-context';

export const handler = middy(async (event: unknown, lambda: Context) => {
  const input = parseEvent(stepInputSchema, event);
  logger.appendKeys({ pipelineId: input.run.pipelineId, runId: input.run.runId });
  const context = stepContext(input.run.pipelineId, lambda);
  const disableSchedule = schedulerDisabler();
  const resumeScheduler = resumeSchedulerFromEnv();
  const report = await finishRun(
    {
      ledger: context.ledger,
      schedules: context.schedules,
      maxConsecutiveFailures: context.pipeline.maxConsecutiveFailures,
      // Only in AWS, where the stack sets it: disable a schedule that paused itself.
      ...(disableSchedule ? { disableSchedule } : {}),
      // In AWS a one-time Scheduler schedule starts the resume; locally the daemon fires it from the ledger.
      autoResume: {
        backoffMinutes: context.pipeline.autoResumeMinutes,
        ...(resumeScheduler ? { scheduler: resumeScheduler } : {}),
      },
      // Told once per run and event; a failure to tell is logged by finishRun, never thrown.
      notify: noticeSender(context),
      now: context.now,
      log: context.log,
    },
    input,
  );
  recordRunMetrics(report);
  return report;
}).use(injectLambdaContext(logger, { resetKeys: true }));
