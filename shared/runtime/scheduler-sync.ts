import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { createSchedulerGateway, type SchedulerGateway } from '../adapters/eventbridge-scheduler';
import { LOCAL_HOLDER_ENV } from '../adapters/local-process';
import { schedulerScheduleName } from '../config/aws-names';

/**
 * FinishRun's `disableSchedule`: in AWS, a schedule that paused itself is also disabled in EventBridge
 * Scheduler. The local runner marks its functions (`DIGEST_LOCK_HOLDER=process`, infra/local/environment.ts):
 * there no schedule is deployed and the ledger's pause is all there is. (A marker of its own would take
 * environment bytes every function shares with the config: shared/config/aws-names.ts.)
 */
let schedulerClient: SchedulerClient | undefined;
/** One Scheduler client per container, made on first use: most runs never disable a schedule. */
export const sharedSchedulerClient = (): SchedulerClient => {
  schedulerClient ??= new SchedulerClient({});
  return schedulerClient;
};

export function schedulerDisabler(
  env: NodeJS.ProcessEnv = process.env,
  gateway: () => SchedulerGateway = () => createSchedulerGateway(sharedSchedulerClient()),
): ((pipelineId: string, scheduleName: string) => Promise<void>) | undefined {
  if (env[LOCAL_HOLDER_ENV] === 'process') return undefined;
  return (pipelineId, scheduleName) =>
    gateway().setState(schedulerScheduleName(pipelineId, scheduleName), 'DISABLED');
}
