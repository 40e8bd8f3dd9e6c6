import { describe, expect, it } from 'vitest';
import { calendarRule } from '../../shared/domain/schedule/evaluator';
import { missedSlots } from '../../shared/domain/schedule/missed';

const morning = {
  scheduleName: 'morning',
  rule: { kind: 'calendar' as const, timeZone: 'Europe/Berlin', rule: calendarRule([9], [0], () => true) },
  dst: 'shift' as const,
  graceMs: 60 * 60_000,
};

describe('missed runs', () => {
  it('are the slots past their grace with no run of their id in the ledger', () => {
    // Prepare: the 24th ran; the 25th did not; the 26th is still within its grace.
    const ran = new Set(['morning-20261124T0800Z']);

    // Act
    const missed = missedSlots(
      morning,
      (id) => ran.has(id),
      Date.parse('2026-11-23T12:00:00Z'),
      Date.parse('2026-11-26T08:30:00Z'),
    );

    // Assess
    expect(missed).toEqual([
      {
        scheduleName: 'morning',
        runId: 'morning-20261125T0800Z',
        at: '2026-11-25T08:00:00.000Z',
        local: '2026-11-25 09:00',
      },
    ]);
  });
});
