import { describe, expect, it } from 'vitest';
import { planAutoResume } from '../../shared/domain/auto-resume';
import type { StepRecord } from '../../shared/ports';

const NOW = new Date('2026-11-24T09:00:00.000Z');
const ok: StepRecord = { status: 'succeeded', endedAt: NOW.toISOString(), counts: {} };
const failed = (name: string, extra: Partial<StepRecord> = {}): StepRecord => ({
  status: 'failed',
  endedAt: NOW.toISOString(),
  counts: {},
  error: { name, message: 'x' },
  ...extra,
});

describe('automatic resume', () => {
  it('resumes at the quota reset when the run stopped on one', () => {
    // Act
    const plan = planAutoResume(
      'partial',
      {
        collect: ok,
        upload: ok,
        analyze: failed('RateLimitedError', { retryAt: '2026-11-25T08:00:00.000Z' }),
      },
      0,
      NOW,
    );

    // Assess
    expect(plan).toEqual({
      at: '2026-11-25T08:00:00.000Z',
      attempt: 1,
      reason: 'analyze stopped on a quota that resets at 2026-11-25T08:00:00.000Z',
    });
  });

  it('backs off 5, 10, 20 minutes after transient failures, then leaves the run to the operator', () => {
    // Prepare
    const steps = { collect: failed('TransientError') };

    // Act
    const plans = [0, 1, 2, 3].map((n) => planAutoResume('failed', steps, n, NOW));

    // Assess
    expect(plans.map((p) => p?.at)).toEqual([
      '2026-11-24T09:05:00.000Z',
      '2026-11-24T09:10:00.000Z',
      '2026-11-24T09:20:00.000Z',
      undefined,
    ]);
  });

  it('never resumes past a cause a retry cannot fix, nor a run that succeeded', () => {
    // Assess
    expect(planAutoResume('failed', { collect: failed('AuthError') }, 0, NOW)).toBeUndefined();
    expect(
      planAutoResume(
        'partial',
        { collect: failed('TransientError'), publish: failed('ConfigError') },
        0,
        NOW,
      ),
    ).toBeUndefined();
    expect(planAutoResume('succeeded', { collect: ok }, 0, NOW)).toBeUndefined();
    expect(
      planAutoResume(
        'partial',
        { publish: { ...ok, status: 'partial', notes: { reason: 'outcome unknown' } } },
        0,
        NOW,
      ),
    ).toBeUndefined();
  });
});
