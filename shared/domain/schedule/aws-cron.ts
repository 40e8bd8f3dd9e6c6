/**
 * EventBridge Scheduler cron expressions: `minutes hours day-of-month month day-of-week year`,
 * parsed into an AST a schedule evaluator can walk, and refused as the Scheduler refuses them.
 *
 * Grammar and rules from the AWS "Cron expressions reference"
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cron-expressions.html), which the
 * Scheduler's "Schedule types" page points to for cron-based schedules
 * (https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html#cron-based):
 *
 * | field        | values          | wildcards        |
 * | minutes      | 0-59            | , - * /          |
 * | hours        | 0-23            | , - * /          |
 * | day-of-month | 1-31            | , - * ? / L W    |
 * | month        | 1-12 or JAN-DEC | , - * /          |
 * | day-of-week  | 1-7 or SUN-SAT  | , - * ? L #      |
 * | year         | 1970-2199       | , - * /          |
 *
 * - one of day-of-month and day-of-week must be `?`, and only one: a value or `*` in one means `?` in the other;
 * - `#` allows a single expression in day-of-week (`3#1,6#3` is invalid);
 * - `L` is the last day of the month (day-of-month) or of the week (day-of-week, Saturday);
 *   `nL` in day-of-week is the last such weekday of the month; `W` the weekday nearest a day.
 * Anything the reference does not list (lower-case names, `L-2`, `/` in day-of-week, `H`, seconds) is refused:
 * accepting what AWS refuses would only fail later, at deploy time.
 */

export type CronFieldName = 'minutes' | 'hours' | 'dayOfMonth' | 'month' | 'dayOfWeek' | 'year';

/** One comma-separated part of a field. Numbers are the field's own (months 1-12, weekdays 1=SUN..7=SAT). */
export type CronItem =
  /** `*`: every value of the field. */
  | { kind: 'all' }
  /** `?`: no constraint from this field (day-of-month or day-of-week only). */
  | { kind: 'any' }
  | { kind: 'value'; value: number }
  /** `a-b`, inclusive. */
  | { kind: 'range'; from: number; to: number }
  /** `a/n`, `*\/n` or `a-b/n`: from `from` to `to` inclusive, every `step`. */
  | { kind: 'step'; from: number; to: number; step: number }
  /** `L`: last day of the month (day-of-month) or Saturday, the last day of the week (day-of-week). */
  | { kind: 'last' }
  /** `LW` (day-of-month): the last weekday (Mon-Fri) of the month. */
  | { kind: 'lastWeekday' }
  /** `nW` (day-of-month): the weekday nearest day n, within the month. */
  | { kind: 'nearestWeekday'; day: number }
  /** `nL` (day-of-week): the last weekday n of the month, e.g. `6L` the last Friday. */
  | { kind: 'lastOfWeekday'; weekday: number }
  /** `n#k` (day-of-week): the k-th weekday n of the month, e.g. `2#1` the first Monday. */
  | { kind: 'nthWeekday'; weekday: number; nth: number };

export type CronExpression = Record<CronFieldName, CronItem[]>;

export class CronSyntaxError extends Error {
  override name = 'CronSyntaxError';
}

interface FieldSpec {
  name: CronFieldName;
  label: string;
  min: number;
  max: number;
  names?: readonly string[];
  /** Wildcards the reference allows besides digits, `,` and `-`. */
  allows: {
    star: boolean;
    question: boolean;
    slash: boolean;
    last: boolean;
    weekday: boolean;
    hash: boolean;
  };
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] as const;
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] as const;
const plain = { star: true, question: false, slash: true, last: false, weekday: false, hash: false };

const FIELDS: readonly FieldSpec[] = [
  { name: 'minutes', label: 'minutes', min: 0, max: 59, allows: plain },
  { name: 'hours', label: 'hours', min: 0, max: 23, allows: plain },
  {
    name: 'dayOfMonth',
    label: 'day-of-month',
    min: 1,
    max: 31,
    allows: { star: true, question: true, slash: true, last: true, weekday: true, hash: false },
  },
  { name: 'month', label: 'month', min: 1, max: 12, names: MONTHS, allows: plain },
  {
    name: 'dayOfWeek',
    label: 'day-of-week',
    min: 1,
    max: 7,
    names: WEEKDAYS,
    allows: { star: true, question: true, slash: false, last: true, weekday: false, hash: true },
  },
  { name: 'year', label: 'year', min: 1970, max: 2199, allows: plain },
];

const rangeText = (spec: FieldSpec) =>
  `${spec.min}-${spec.max}${spec.names ? ` or ${spec.names[0]}-${spec.names[spec.names.length - 1]}` : ''}`;

/** A number or (month, day-of-week) a three-letter upper-case name. */
function parseValue(text: string, spec: FieldSpec): number {
  const fail = (why: string): never => {
    throw new CronSyntaxError(`${spec.label}: ${why}`);
  };
  if (/^\d+$/.test(text)) {
    const value = Number(text);
    if (value < spec.min || value > spec.max) fail(`${text} is out of range ${rangeText(spec)}`);
    return value;
  }
  if (spec.names) {
    const index = spec.names.indexOf(text);
    if (index >= 0) return index + 1;
    if (spec.names.includes(text.toUpperCase())) fail(`"${text}" must be written in capitals`);
  }
  return fail(`"${text}" is not a value (${rangeText(spec)})`);
}

function parseItem(text: string, spec: FieldSpec): CronItem {
  const fail = (why: string): never => {
    throw new CronSyntaxError(`${spec.label}: ${why}`);
  };
  const { allows } = spec;
  if (text === '') fail('empty value (two commas in a row?)');
  if (text === '*') return { kind: 'all' };
  if (text === '?')
    return allows.question ? { kind: 'any' } : fail('? is only allowed in day-of-month and day-of-week');
  if (text === 'L')
    return allows.last ? { kind: 'last' } : fail('L is only allowed in day-of-month and day-of-week');
  if (text.includes('/')) {
    if (!allows.slash) fail(`/ is not allowed in ${spec.label}`);
    const [base = '', stepText = '', ...extra] = text.split('/');
    if (extra.length > 0 || !/^\d+$/.test(stepText))
      fail(`"${text}" needs one whole-number increment after /`);
    const step = Number(stepText);
    if (step < 1 || step > spec.max) fail(`increment ${stepText} must be between 1 and ${spec.max}`);
    if (base === '*') return { kind: 'step', from: spec.min, to: spec.max, step };
    const range = parseItem(base, spec);
    if (range.kind === 'value') return { kind: 'step', from: range.value, to: spec.max, step };
    if (range.kind === 'range') return { kind: 'step', from: range.from, to: range.to, step };
    return fail(`"${text}": an increment must follow *, a value or a range`);
  }
  if (text.includes('#')) {
    if (!allows.hash) fail(`# is only allowed in day-of-week`);
    const [weekday = '', nth = '', ...extra] = text.split('#');
    if (extra.length > 0 || !/^[1-5]$/.test(nth))
      fail(`"${text}": # must be followed by 1-5 (which week of the month)`);
    return { kind: 'nthWeekday', weekday: parseValue(weekday, spec), nth: Number(nth) };
  }
  if (text === 'LW') {
    return allows.weekday ? { kind: 'lastWeekday' } : fail('LW is only allowed in day-of-month');
  }
  if (text.endsWith('W')) {
    if (!allows.weekday) fail('W is only allowed in day-of-month');
    return { kind: 'nearestWeekday', day: parseValue(text.slice(0, -1), spec) };
  }
  if (text.endsWith('L') && text.length > 1) {
    if (spec.name !== 'dayOfWeek')
      fail(`"${text}": nL (last weekday n of the month) is only allowed in day-of-week`);
    return { kind: 'lastOfWeekday', weekday: parseValue(text.slice(0, -1), spec) };
  }
  const dash = text.indexOf('-', 1);
  if (dash > 0) {
    const from = parseValue(text.slice(0, dash), spec);
    const to = parseValue(text.slice(dash + 1), spec);
    if (from > to) fail(`range "${text}" runs backwards`);
    return { kind: 'range', from, to };
  }
  return { kind: 'value', value: parseValue(text, spec) };
}

function parseField(text: string, spec: FieldSpec): CronItem[] {
  const items = text.split(',').map((part) => parseItem(part, spec));
  if (items.length > 1) {
    const lone = items.find((i) => i.kind === 'all' || i.kind === 'any');
    if (lone)
      throw new CronSyntaxError(
        `${spec.label}: ${lone.kind === 'all' ? '*' : '?'} cannot be combined with other values`,
      );
    // "If you use the '#' character, you can define only one expression in the day-of-week field."
    if (items.some((i) => i.kind === 'nthWeekday')) {
      throw new CronSyntaxError(
        `${spec.label}: with # only one expression is allowed (e.g. "3#1,6#3" is invalid)`,
      );
    }
  }
  return items;
}

/** Parse the six fields (without `cron( )`); throws CronSyntaxError naming the field at fault. */
export function parseAwsCron(text: string): CronExpression {
  const trimmed = text.trim();
  if (/^cron\(/i.test(trimmed)) {
    throw new CronSyntaxError('write the six fields only, without cron( )');
  }
  const parts = trimmed.split(/\s+/).filter((p) => p !== '');
  if (parts.length !== 6) {
    throw new CronSyntaxError(
      `six fields are required (minutes hours day-of-month month day-of-week year), found ${parts.length}`,
    );
  }
  const expression = {} as CronExpression;
  for (const [i, spec] of FIELDS.entries()) expression[spec.name] = parseField(parts[i] ?? '', spec);
  const domAny = expression.dayOfMonth.some((i) => i.kind === 'any');
  const dowAny = expression.dayOfWeek.some((i) => i.kind === 'any');
  // "You can't specify the Day-of-month and Day-of-week fields in the same cron expression. If you specify a
  // value or a * (asterisk) in one of the fields, you must use a ? (question mark) in the other."
  if (domAny && dowAny) throw new CronSyntaxError('only one of day-of-month and day-of-week may be ?');
  if (!domAny && !dowAny) {
    throw new CronSyntaxError(
      'one of day-of-month and day-of-week must be ? (e.g. "0 9 * * ? *" or "0 9 ? * MON-FRI *")',
    );
  }
  return expression;
}

/** The problem with a cron expression as one phrase, or undefined when the Scheduler would accept it. */
export function awsCronProblem(text: string): string | undefined {
  try {
    parseAwsCron(text);
    return undefined;
  } catch (error) {
    if (error instanceof CronSyntaxError) return error.message;
    throw error;
  }
}

/** The expression in its canonical spelling: fields separated by one space. */
export function normaliseAwsCron(text: string): string {
  parseAwsCron(text);
  return text.trim().split(/\s+/).join(' ');
}
