import { describe, expect, it } from 'vitest';
import { localDateTimeText, schedulerExpression } from '../../shared/domain/schedule/kinds';

describe('schedule kinds compile to EventBridge Scheduler expressions', () => {
  it.each([
    [{ dailyAt: '09:05' }, 'cron(5 9 * * ? *)'],
    [{ weekly: { days: ['FRI', 'MON', 'FRI'] as const, at: '18:00' } }, 'cron(0 18 ? * MON,FRI *)'],
    [{ monthly: { day: 1, at: '07:30' } }, 'cron(30 7 1 * ? *)'],
    [{ monthly: { day: 'last' as const, at: '23:00' } }, 'cron(0 23 L * ? *)'],
    [{ cron: '0 18 ? * MON-FRI *' }, 'cron(0 18 ? * MON-FRI *)'],
    [{ rate: { every: 1, unit: 'hours' as const } }, 'rate(1 hour)'],
    [{ rate: { every: 6, unit: 'hours' as const } }, 'rate(6 hours)'],
    [{ rate: { every: 15, unit: 'minutes' as const } }, 'rate(15 minutes)'],
    [{ once: '2026-11-27 18:00' }, 'at(2026-11-27T18:00:00)'],
  ])('%j → %s', (kind, expression) => {
    // Act / Assess
    expect(schedulerExpression(kind)).toBe(expression);
  });

  it('refuses a one-time date that is not a local date-time', () => {
    // Act / Assess
    expect(() => localDateTimeText('27.11.2026 18:00')).toThrow('not a local date-time');
    expect(localDateTimeText('2026-11-27T18:00')).toBe('2026-11-27T18:00:00');
  });
});
