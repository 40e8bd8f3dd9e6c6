import { describe, expect, it } from 'vitest';
import { RateLimitedError } from '../../shared/errors';
import { MAX_STATE_MACHINE_WAIT_S, runOrWait } from '../../shared/observability/step-handler';

const limited = (seconds: number) => async () => {
  throw new RateLimitedError('discord answered 429: rate limited', seconds * 1000);
};

describe('a step stopped by a rate limit', () => {
  it('asks the state machine to wait when the limit resets within the run', async () => {
    // Prepare
    const now = new Date('2026-11-24T09:00:00Z');

    // Act
    const record = await runOrWait(limited(300), '2026-11-24T08:59:00Z', now);

    // Assess
    expect(record).toMatchObject({ status: 'partial', waitSeconds: 300 });
    expect(record.notes?.reason).toContain('waiting 300 s');
  });

  it('ends failed, naming the reset, when the wait is longer than one Wait state may be', async () => {
    // Act
    const record = await runOrWait(
      limited(MAX_STATE_MACHINE_WAIT_S + 1),
      '2026-11-24T09:00:00Z',
      new Date('2026-11-24T09:00:00Z'),
    );

    // Assess
    expect(record.status).toBe('failed');
    expect(record.waitSeconds).toBeUndefined();
    expect(record.error).toMatchObject({ name: 'RateLimitedError' });
    expect(record.error?.message).toMatch(/resets at \d{4}-/);
    // The quota's own reset time, for an automatic resume.
    const expected = Date.now() + (MAX_STATE_MACHINE_WAIT_S + 1) * 1000;
    expect(Math.abs(Date.parse(record.retryAt ?? '') - expected)).toBeLessThan(5000);
  });

  it('ends failed when the run has already spent its waiting budget', async () => {
    // Act: a five-minute wait, 28 minutes into the run.
    const record = await runOrWait(limited(300), '2026-11-24T08:32:00Z', new Date('2026-11-24T09:00:00Z'));

    // Assess
    expect(record.status).toBe('failed');
  });

  it("leaves a short limit that outlasted the in-process attempts to the state machine's bounded Retry", async () => {
    // Act
    const run = runOrWait(limited(2), '2026-11-24T09:00:00Z', new Date('2026-11-24T09:00:00Z'));

    // Assess
    await expect(run).rejects.toThrow(RateLimitedError);
  });

  it('lets every other error through to the state machine', async () => {
    // Act
    const run = runOrWait(
      async () => {
        throw new Error('boom');
      },
      '2026-11-24T09:00:00Z',
      new Date(),
    );

    // Assess
    await expect(run).rejects.toThrow('boom');
  });
});
