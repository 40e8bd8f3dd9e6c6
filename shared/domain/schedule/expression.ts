/**
 * A deployed schedule's expression string — `cron(…)`, `rate(…)` or `at(…)`
 * with its time zone — as a rule the evaluator can walk. Parsing the same
 * string AWS receives keeps the preview, the daemon and the watchdog in step
 * with the Scheduler.
 */
import { cronRule } from './cron-rule';
import type { FireRule } from './evaluator';

const UNIT_MS = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;

export function fireRuleOf(expression: string, timeZone: string, startMs?: number): FireRule {
  const cron = expression.match(/^cron\((.+)\)$/);
  if (cron?.[1]) return { kind: 'calendar', timeZone, rule: cronRule(cron[1]) };
  const rate = expression.match(/^rate\((\d+) (minute|hour|day)s?\)$/);
  if (rate?.[1] && rate[2]) {
    // A rate schedule without a start date begins when it is created; the caller says when that was.
    if (startMs === undefined) throw new RangeError(`${expression} needs a start to evaluate`);
    return { kind: 'rate', everyMs: Number(rate[1]) * UNIT_MS[rate[2] as keyof typeof UNIT_MS], startMs };
  }
  const at = expression.match(/^at\((\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):00\)$/);
  if (at) {
    const [year, month, day, hour, minute] = at.slice(1).map(Number) as [
      number,
      number,
      number,
      number,
      number,
    ];
    return { kind: 'once', timeZone, local: { year, month, day, hour, minute } };
  }
  throw new RangeError(`not an EventBridge Scheduler expression: ${expression}`);
}
