import type { SchedulerGateway } from '../adapters/eventbridge-scheduler';
import { schedulerScheduleName } from '../config/aws-names';
import type { DigestConfig } from '../config/schema';
import type { ScheduleStateStore } from '../ports';

export interface ReapplyPausesDeps {
  config: DigestConfig;
  states: ScheduleStateStore;
  scheduler: SchedulerGateway;
  now: () => Date;
  log: (message: string, data: Record<string, unknown>) => void;
}

/**
 * A deploy that changes a schedule writes it back as the template says
 * (enabled); the ledger is where a pause lives. After every such deploy this
 * disables again each schedule the ledger says is paused, so a pause survives
 * `cdk deploy` and the console shows it. (BeginRun checks the ledger too, so a
 * delivery that slips through in between is still recorded `skipped: paused`.)
 */
export async function reapplySchedulePauses(deps: ReapplyPausesDeps): Promise<{ disabled: string[] }> {
  const disabled: string[] = [];
  const now = deps.now().getTime();
  for (const pipeline of deps.config.pipelines) {
    for (const schedule of pipeline.schedules) {
      if (!schedule.enabled) continue;
      const state = await deps.states.get(pipeline.id, schedule.name);
      const paused = state.state === 'paused' && (!state.pausedUntil || Date.parse(state.pausedUntil) > now);
      if (!paused) continue;
      const name = schedulerScheduleName(pipeline.id, schedule.name);
      await deps.scheduler.setState(name, 'DISABLED');
      disabled.push(name);
      deps.log('pause re-applied after deploy', {
        schedule: name,
        reason: state.reason,
        by: state.changedBy,
      });
    }
  }
  return { disabled };
}
