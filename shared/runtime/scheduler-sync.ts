import { SchedulerClient } from '@aws-sdk/client-scheduler';
import {
  createResumeScheduler,
  createSchedulerGateway,
  type SchedulerGateway,
} from '../adapters/eventbridge-scheduler';
import { LOCAL_HOLDER_ENV } from '../adapters/local-process';
import { RESUME_MACHINE_ENV, RESUME_ROLE_ENV, schedulerScheduleName } from '../config/aws-names';
import { ConfigError } from '../errors';
import type { ResumeScheduler } from '../ports';

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

/** One per container: FinishRun is invoked many times by one Lambda environment. */
let resumeScheduler: ResumeScheduler | undefined;

/**
 * FinishRun's ResumeScheduler: in AWS, where the stack gives FinishRun the state machine and the role its
 * one-time schedules start it with; locally (no such variables) none, since the daemon fires the plans
 * from the ledger. One of the two without the other is a deploy that went wrong: say which.
 */
export function resumeSchedulerFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  // The container's one Scheduler client, which FinishRun also disables schedules with.
  client: () => SchedulerClient = sharedSchedulerClient,
): ResumeScheduler | undefined {
  const stateMachineArn = env[RESUME_MACHINE_ENV];
  const roleArn = env[RESUME_ROLE_ENV];
  if (!stateMachineArn && !roleArn) return undefined;
  if (!stateMachineArn || !roleArn) {
    throw new ConfigError(
      `${stateMachineArn ? RESUME_ROLE_ENV : RESUME_MACHINE_ENV} is not set, ${stateMachineArn ? RESUME_MACHINE_ENV : RESUME_ROLE_ENV} is`,
    );
  }
  resumeScheduler ??= createResumeScheduler(client(), { stateMachineArn, roleArn });
  return resumeScheduler;
}
