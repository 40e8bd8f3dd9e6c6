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

/** A manual run is named by when it started and a tag (the execution's name, or a random one). */
export function manualRunId(now: Date, tag: string): string {
  const safe = tag.replace(/[^A-Za-z0-9]/g, '').slice(0, 12) || 'run';
  return `manual-${compact(now.toISOString(), true)}-${safe}`;
}
