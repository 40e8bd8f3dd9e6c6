import { describe, expect, it } from 'vitest';
import { retryTransient } from '../../shared/adapters/retry';
import { AuthError, RateLimitedError, TransientError, UnknownOutcomeError } from '../../shared/errors';

function flaky(errors: Error[]) {
  let calls = 0;
  return {
    calls: () => calls,
    op: async () => {
      calls += 1;
      const error = errors.shift();
      if (error) throw error;
      return 'ok';
    },
  };
}

const waits: number[] = [];
const options = {
  maxAttempts: 4,
  baseDelayMs: 100,
  maxWaitMs: 5_000,
  sleep: async (ms: number) => void waits.push(ms),
  random: () => 0.5,
};

describe('retryTransient', () => {
  it('retries transient errors with growing backoff, then succeeds', async () => {
    // Prepare
    waits.length = 0;
    const f = flaky([new TransientError('500'), new TransientError('500')]);

    // Act
    const result = await retryTransient(f.op, options);

    // Assess
    expect(result).toBe('ok');
    expect(waits).toEqual([50, 100]);
  });

  it("waits the upstream's own delay, but rethrows one longer than the budget", async () => {
    // Prepare
    waits.length = 0;
    const short = flaky([new RateLimitedError('429', 1_500)]);
    const long = flaky([new RateLimitedError('429', 60_000)]);

    // Act
    await retryTransient(short.op, options);
    const failure = retryTransient(long.op, options);

    // Assess
    expect(waits).toEqual([1_500]);
    await expect(failure).rejects.toBeInstanceOf(RateLimitedError);
    expect(long.calls()).toBe(1);
  });

  it('never repeats a write whose outcome is unknown, nor a permanent failure', async () => {
    // Prepare
    const unknown = flaky([new UnknownOutcomeError('socket hang up')]);
    const denied = flaky([new AuthError('401')]);

    // Act + Assess
    await expect(retryTransient(unknown.op, options)).rejects.toBeInstanceOf(UnknownOutcomeError);
    await expect(retryTransient(denied.op, options)).rejects.toBeInstanceOf(AuthError);
    expect(unknown.calls() + denied.calls()).toBe(2);
  });

  it('gives up after maxAttempts', async () => {
    // Prepare
    const f = flaky(Array.from({ length: 9 }, () => new TransientError('500')));

    // Act + Assess
    await expect(retryTransient(f.op, options)).rejects.toBeInstanceOf(TransientError);
    expect(f.calls()).toBe(4);
  });
});
