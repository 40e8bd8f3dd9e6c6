import { schedulerScheduleName } from '../../../shared/config/aws-names';
import { scheduleCoverage } from '../../../shared/config/coverage';
import { scheduleKindOf } from '../../../shared/config/schedule-kind';
import { schedulerExpression } from '../../../shared/domain/schedule/kinds';
import type { LocalCommand } from './command';
import { dstWarnings, pastOnceWarnings } from './schedules';

/**
 * The config was loaded and checked before any command runs (every rule a deploy would enforce:
 * cron grammar, time zones, names, tabs, size); this prints what would be deployed.
 */
export const validateCommand: LocalCommand = {
  name: 'validate',
  synopsis: 'validate            check the config file and exit',
  options: {},
  async run({ config, configFile, values, pipelineId }) {
    // --pipeline names one that must exist, even here.
    if (typeof values.pipeline === 'string') pipelineId();
    console.log(
      `${configFile}: ${config.pipelines.length} pipeline(s) valid: ${config.pipelines.map((p) => p.id).join(', ')}`,
    );
    for (const pipeline of config.pipelines) {
      for (const schedule of pipeline.schedules) {
        const when = schedulerExpression(scheduleKindOf(schedule));
        const state = schedule.enabled ? '' : ' (disabled)';
        console.log(
          `  ${schedulerScheduleName(pipeline.id, schedule.name)}: ${when} ${schedule.timeZone}${state}`,
        );
      }
    }
    for (const warning of scheduleCoverage(config).warnings) console.log(`warning: ${warning}`);
    for (const warning of dstWarnings(config, Date.now())) console.log(warning);
    for (const warning of pastOnceWarnings(config, Date.now())) console.log(warning);
    return 0;
  },
};
