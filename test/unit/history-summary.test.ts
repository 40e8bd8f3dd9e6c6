import { describe, expect, it } from 'vitest';
import { historySummary } from '../../infra/local/report';
import type { RunRecord } from '../../shared/ports';

const runs = (...statuses: RunRecord['status'][]) => statuses.map((status) => ({ status }));

describe('the history summary', () => {
  it('counts only runs that did work in the success rate and shows the others apart', () => {
    // Act
    const line = historySummary(
      runs('succeeded', 'succeeded', 'succeeded', 'partial', 'duplicate', 'duplicate', 'skipped', 'running'),
    );

    // Assess
    expect(line).toBe(
      '8 run(s); success rate 75% (3 of 4 that did work); not counted: 1 skipped, 2 duplicate, 1 running',
    );
  });

  it('has no rate when no run did work', () => {
    // Act
    const line = historySummary(runs('skipped', 'duplicate'));

    // Assess
    expect(line).toBe(
      '2 run(s); success rate n/a (0 of 0 that did work); not counted: 1 skipped, 1 duplicate',
    );
  });

  it('counts failed runs against the rate', () => {
    // Act
    const line = historySummary(runs('succeeded', 'failed'));

    // Assess
    expect(line).toBe('2 run(s); success rate 50% (1 of 2 that did work)');
  });
});
