import { fireRuleOfSchedule } from '../../../shared/config/coverage';
import type { DigestConfig } from '../../../shared/config/schema';
import type { DaemonSchedule } from './daemon-loop';

const DEFAULT_GRACE_MINUTES = 60;

/**
 * Every enabled schedule of every pipeline, as the daemon fires them: the same
 * evaluator as the preview and AWS (`fireRuleOfSchedule`), grace 60 minutes
 * and DST `shift` unless the schedule says otherwise.
 */
export function daemonSchedules(config: DigestConfig, startMs: number): DaemonSchedule[] {
  return config.pipelines.flatMap((pipeline) =>
    pipeline.schedules
      .filter((schedule) => schedule.enabled)
      .map((schedule) => {
        // Read defensively: these fields are not in every config version.
        const grace =
          'graceMinutes' in schedule && typeof schedule.graceMinutes === 'number'
            ? schedule.graceMinutes
            : DEFAULT_GRACE_MINUTES;
        const dst = 'dst' in schedule && schedule.dst === 'skip' ? 'skip' : 'shift';
        return {
          key: `${pipeline.id}/${schedule.name}`,
          pipelineId: pipeline.id,
          scheduleName: schedule.name,
          rule: fireRuleOfSchedule(schedule, startMs),
          dst,
          graceMs: grace * 60_000,
        } satisfies DaemonSchedule;
      }),
  );
}
