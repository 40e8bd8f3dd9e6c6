/**
 * What a Gemini error body says about quotas, and when Gemini's daily quotas
 * reset. Shared by the adapter and the sandbox so both read the same clock.
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

/** A google.rpc.Status as the Gemini API answers it: `{ error: { code, message, status, details } }`. */
export interface GoogleErrorBody {
  error?: {
    code?: number;
    message?: string;
    status?: string;
    details?: { '@type'?: string; [key: string]: unknown }[];
  };
}

export interface QuotaViolation {
  quotaId?: string;
  quotaMetric?: string;
  quotaDimensions?: Record<string, string>;
  quotaValue?: string;
}

const detailsOf = (body: GoogleErrorBody, type: string) =>
  (body.error?.details ?? []).filter((d) => d['@type'] === `type.googleapis.com/google.rpc.${type}`);

/** google.rpc.RetryInfo.retryDelay is a Duration in JSON: "22s" or "10.689924287s". */
export function retryDelayMs(body: GoogleErrorBody): number | undefined {
  const delay = detailsOf(body, 'RetryInfo')[0]?.retryDelay;
  const match = typeof delay === 'string' ? delay.match(/^(\d+(?:\.\d+)?)s$/) : null;
  return match ? Math.ceil(Number(match[1]) * 1000) : undefined;
}

/** google.rpc.QuotaFailure.violations: which quota was exceeded (e.g. GenerateRequestsPerDayPerProjectPerModel-FreeTier). */
export function quotaViolations(body: GoogleErrorBody): QuotaViolation[] {
  return detailsOf(body, 'QuotaFailure').flatMap((d) => (d.violations as QuotaViolation[] | undefined) ?? []);
}

/** google.rpc.ErrorInfo.reason, e.g. API_KEY_INVALID. */
export function errorReason(body: GoogleErrorBody): string | undefined {
  const reason = detailsOf(body, 'ErrorInfo')[0]?.reason;
  return typeof reason === 'string' ? reason : undefined;
}

/** A daily quota: its id says so ("...PerDay...", e.g. GenerateRequestsPerDayPerProjectPerModel-FreeTier). */
export const isDailyQuota = (violation: QuotaViolation) => /PerDay/.test(violation.quotaId ?? '');
