import type { WindowConfig } from '../config/schema';
import { msToSnowflake, snowflakeToMs } from './snowflake';

export interface CollectionWindow {
  /** Collect messages with a larger id than this. */
  afterId: string;
  /** Collect no message with an id larger than this (the run's reference time). */
  untilId: string;
  from: string;
  until: string;
}

const HOUR = 3_600_000;

/**
 * The span of messages one run collects. It ends at the run's reference time
 * (the scheduled time for scheduled runs), so a re-run of the same run id sees
 * the same messages however late it happens.
 */
export function collectionWindow(
  window: WindowConfig,
  referenceTime: Date,
  newestKnownId: string | undefined,
): CollectionWindow {
  const until = referenceTime.getTime();
  let afterId: string;
  switch (window.mode) {
    case 'daily':
      afterId = msToSnowflake(until - window.days * 24 * HOUR);
      break;
    case 'hours':
      afterId = msToSnowflake(until - window.hours * HOUR);
      break;
    case 'since_last':
      afterId = newestKnownId ?? msToSnowflake(until - window.initialHours * HOUR);
      break;
  }
  // The largest snowflake of the reference millisecond: ms bits plus all-ones low bits.
  const untilId = (BigInt(msToSnowflake(until + 1)) - 1n).toString();
  return {
    afterId,
    untilId,
    from: new Date(snowflakeToMs(afterId)).toISOString(),
    until: referenceTime.toISOString(),
  };
}
