import { describe, expect, it } from 'vitest';
import { nextFireTimes } from '../../shared/domain/schedule/evaluator';
import { fireRuleOf } from '../../shared/domain/schedule/expression';
import { schedulerExpression } from '../../shared/domain/schedule/kinds';

const FROM = Date.parse('2026-11-24T12:00:00Z');
const next = (expression: string, count: number, startMs?: number) =>
  nextFireTimes(fireRuleOf(expression, 'Europe/Berlin', startMs), FROM, count).map((t) => t.at.toISOString());

describe('schedule kinds, through their expression, through the evaluator', () => {
  it('weekly on Monday and Friday at 18:00 Berlin time', () => {
    // Act
    const times = next(schedulerExpression({ weekly: { days: ['MON', 'FRI'], at: '18:00' } }), 3);

    // Assess
    expect(times).toEqual([
      '2026-11-27T17:00:00.000Z',
      '2026-11-30T17:00:00.000Z',
      '2026-12-04T17:00:00.000Z',
    ]);
  });

  it('monthly on the last day at 23:00', () => {
    expect(next(schedulerExpression({ monthly: { day: 'last', at: '23:00' } }), 2)).toEqual([
      '2026-11-30T22:00:00.000Z',
      '2026-12-31T22:00:00.000Z',
    ]);
  });

  it('every 6 hours from a start', () => {
    expect(
      next(schedulerExpression({ rate: { every: 6, unit: 'hours' } }), 2, Date.parse('2026-11-24T00:00:00Z')),
    ).toEqual(['2026-11-24T18:00:00.000Z', '2026-11-25T00:00:00.000Z']);
  });

  it('once, at a local time', () => {
    expect(next(schedulerExpression({ once: '2026-11-27 18:00' }), 5)).toEqual(['2026-11-27T17:00:00.000Z']);
  });

  it('refuses what is not a Scheduler expression', () => {
    expect(() => fireRuleOf('every day', 'UTC')).toThrow('not an EventBridge Scheduler expression');
  });
});
