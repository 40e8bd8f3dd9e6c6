/** Run ids are S3-key and execution-name safe: letters, digits, dash, underscore. */
export const RUN_ID_PATTERN = /^[A-Za-z0-9_-]{1,80}$/;

const compact = (iso: string, withSeconds: boolean) =>
  iso
    .replace(/[-:]/g, '')
    .slice(0, withSeconds ? 15 : 13)
    .concat('Z');

/**
 * A scheduled run is named by its schedule and the time it fired for, so every
 * delivery of the same firing (Scheduler is at-least-once) maps to one run.
 */
export function scheduledRunId(scheduleName: string, scheduledTime: Date): string {
  return `${scheduleName}-${compact(scheduledTime.toISOString(), false)}`;
}

export function manualRunId(now: Date, random: () => number = Math.random): string {
  const suffix = Math.floor(random() * 0xffff)
    .toString(16)
    .padStart(4, '0');
  return `manual-${compact(now.toISOString(), true)}-${suffix}`;
}
