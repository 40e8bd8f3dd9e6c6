/**
 * Gemini's daily quotas reset at midnight Pacific time: the adapter, the
 * sandbox and the analysis Map's batches all read this one clock.
 */

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const PACIFIC = 'America/Los_Angeles';

const pacificParts = new Intl.DateTimeFormat('en-US', {
  timeZone: PACIFIC,
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

/** Pacific wall-clock time minus UTC at `atMs` (−7 h or −8 h, as DST has it). */
function pacificOffsetMs(atMs: number): number {
  const parts = pacificParts.formatToParts(new Date(atMs));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const wall = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return wall - (atMs - (((atMs % 1000) + 1000) % 1000));
}

/** The last midnight in Pacific time at or before `nowMs`. */
export function pacificMidnightBefore(nowMs: number): number {
  const local = nowMs + pacificOffsetMs(nowMs);
  const localMidnight = local - (((local % DAY_MS) + DAY_MS) % DAY_MS);
  // The offset in force at midnight may differ from now's on a DST day: settle it at the guess.
  const guess = localMidnight - pacificOffsetMs(nowMs);
  return localMidnight - pacificOffsetMs(guess);
}

/**
 * When Gemini's requests-per-day quotas next reset: "Requests per day (RPD)
 * quotas reset at midnight Pacific time" (https://ai.google.dev/gemini-api/docs/rate-limits).
 */
export function nextPacificMidnight(nowMs: number): Date {
  const today = pacificMidnightBefore(nowMs);
  // 26 h later is always within the next Pacific day, whether it has 23, 24 or 25 hours.
  return new Date(pacificMidnightBefore(today + 26 * HOUR_MS));
}
