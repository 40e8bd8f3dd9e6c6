/**
 * What a Gemini error body says about quotas. When the daily quotas reset is
 * shared/domain/pacific-day.ts, read by the adapter, the sandbox and the Map's batches.
 */

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
