/**
 * Quotas the real services enforce, for the sandboxes: a number of requests per
 * window (a minute, a day, 24 hours) per key (user, model, route). Windows are
 * fixed and aligned to the clock, or rolling, as each service documents; the
 * clock is injectable so a test can reach a daily reset without waiting a day.
 */
export type Clock = () => number;

export interface QuotaOptions {
  /** Requests allowed per window. */
  limit: number;
  windowMs: number;
  /**
   * Where a fixed window starts: the default aligns to the epoch (per-minute
   * quotas); Gemini's daily quota resets at midnight Pacific, so it passes its own.
   */
  windowStart?: (nowMs: number) => number;
  now?: Clock;
}

export interface QuotaVerdict {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Epoch ms when the window (and so the quota) resets. */
  resetAt: number;
}

export class Quota {
  private readonly used = new Map<string, { start: number; count: number }>();
  constructor(private readonly options: QuotaOptions) {}

  private startOf(nowMs: number): number {
    return this.options.windowStart
      ? this.options.windowStart(nowMs)
      : nowMs - (nowMs % this.options.windowMs);
  }

  /** Count one request for `key` (when allowed) and say whether it was within the quota. */
  take(key = 'default'): QuotaVerdict {
    const nowMs = (this.options.now ?? Date.now)();
    const start = this.startOf(nowMs);
    let entry = this.used.get(key);
    if (!entry || entry.start !== start) {
      entry = { start, count: 0 };
      this.used.set(key, entry);
    }
    const resetAt = start + this.options.windowMs;
    if (entry.count >= this.options.limit) {
      return { allowed: false, limit: this.options.limit, remaining: 0, resetAt };
    }
    entry.count += 1;
    return { allowed: true, limit: this.options.limit, remaining: this.options.limit - entry.count, resetAt };
  }

  /** Use up the rest of the window for `key` (tests: "the daily cap is already reached"). */
  exhaust(key = 'default'): void {
    while (this.take(key).allowed) {
      // counted
    }
  }
}
