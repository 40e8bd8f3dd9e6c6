/**
 * Wall-clock time in an IANA time zone, from the platform's own tz database
 * (Intl), so a schedule's local times map to instants as EventBridge Scheduler
 * maps them: some local times do not exist (spring forward) and some exist
 * twice (fall back).
 */
export interface LocalDateTime {
  year: number;
  /** 1..12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
}

const MINUTE = 60_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall-clock time in `timeZone` at the instant `utcMs`. */
export function toLocal(timeZone: string, utcMs: number): LocalDateTime {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(utcMs)) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  return {
    year: parts.year ?? 0,
    month: parts.month ?? 0,
    day: parts.day ?? 0,
    hour: parts.hour ?? 0,
    minute: parts.minute ?? 0,
  };
}

/** The local time read as if it were UTC: a number that orders local times. */
export const localKey = (t: LocalDateTime) => Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute);

/** Offset of the zone from UTC at `utcMs`, in ms (Berlin in summer: +2 h). */
export function offsetAt(timeZone: string, utcMs: number): number {
  const floored = utcMs - (((utcMs % MINUTE) + MINUTE) % MINUTE);
  return localKey(toLocal(timeZone, floored)) - floored;
}

/**
 * Every instant at which the zone's clock shows `local`: none in a
 * spring-forward gap, two in a fall-back repeat, one otherwise. Offsets are
 * looked up a day either side, which covers every transition in the tz database.
 */
export function instantsOf(timeZone: string, local: LocalDateTime): number[] {
  const key = localKey(local);
  const offsets = new Set([offsetAt(timeZone, key - 86_400_000), offsetAt(timeZone, key + 86_400_000)]);
  for (const candidate of [...offsets]) offsets.add(offsetAt(timeZone, key - candidate));
  const instants = [...offsets]
    .map((offset) => key - offset)
    .filter((utc) => localKey(toLocal(timeZone, utc)) === key);
  return [...new Set(instants)].sort((a, b) => a - b);
}

/**
 * The first instant whose wall-clock time is at or after `local`: in a gap,
 * the moment the clocks jump (the first valid minute after it).
 */
export function firstInstantAtOrAfter(timeZone: string, local: LocalDateTime): number {
  const key = localKey(local);
  // Offsets stay within ±14 h, so the answer lies in this range; local time only moves forward across a gap.
  let low = Math.floor((key - 15 * 3_600_000) / MINUTE);
  let high = Math.ceil((key + 15 * 3_600_000) / MINUTE);
  while (low < high) {
    const mid = Math.floor((low + high) / 2);
    if (localKey(toLocal(timeZone, mid * MINUTE)) >= key) high = mid;
    else low = mid + 1;
  }
  return low * MINUTE;
}

/** `2026-03-29 02:30` */
export function formatLocal(t: LocalDateTime): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${t.year}-${two(t.month)}-${two(t.day)} ${two(t.hour)}:${two(t.minute)}`;
}

/** Days in a month (month 1..12). */
export const daysInMonth = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();

/** Day of week, 1 = Sunday … 7 = Saturday, as EventBridge cron numbers them. */
export const dayOfWeek = (year: number, month: number, day: number) =>
  new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 1;
