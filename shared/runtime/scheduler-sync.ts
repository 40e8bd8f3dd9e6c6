import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { createSchedulerGateway, type SchedulerGateway } from '../adapters/eventbridge-scheduler';
import { schedulerScheduleName } from '../config/aws-names';

/**
 * Set by the stack on FinishRun only: the pipeline's schedules are deployed in EventBridge Scheduler and
 * a schedule that paused itself is also disabled there. Absent locally, where the ledger's pause is all.
 */
export const SCHEDULER_SYNC_ENV = 'DIGEST_SCHEDULER_SYNC';

/** FinishRun's `disableSchedule` in AWS; undefined where no schedule is deployed. */
export function schedulerDisabler(
  env: NodeJS.ProcessEnv = process.env,
  gateway: () => SchedulerGateway = () => createSchedulerGateway(new SchedulerClient({})),
): ((pipelineId: string, scheduleName: string) => Promise<void>) | undefined {
  if (env[SCHEDULER_SYNC_ENV] !== 'enabled') return undefined;
  return (pipelineId, scheduleName) =>
    gateway().setState(schedulerScheduleName(pipelineId, scheduleName), 'DISABLED');
}
