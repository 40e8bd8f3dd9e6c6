import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { attachLedger, cli, dataDirectory, waitFor } from './cli-process';

/**
 * A local run stopped from outside, as real processes: Ctrl-C and SIGTERM
 * close it like StopExecution + CloseAbandonedRun do in AWS; after kill -9
 * the next command sees the lock's process is gone and closes the run at once.
 * SIGSTOP freezes a run mid-way, so "its holder is alive" is certain while
 * the operator commands are refused.
 */
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
const fresh = () => {
  const dir = dataDirectory();
  dirs.push(dir);
  return dir;
};
// Realistic sandbox latency: the run is still under way when the test acts.
const SLOW = { DIGEST_SANDBOX_LATENCY: 'realistic' };

describe('interrupted local runs', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)(
    '%s closes the run failed as interrupted, releases the lock, prints one line and exits %i',
    async (signal, exitCode) => {
      // Prepare
      const dir = fresh();
      const access = await attachLedger(dir);
      const run = cli(['run', '--run-id', `int-${signal}`], dir, SLOW);
      await waitFor(
        'collect to be recorded',
        async () => (await access.ledger.getRun('demo', `int-${signal}`))?.steps.collect,
      );
      run.child.kill('SIGSTOP');
      const refusedClose = await cli(['runs', 'close', `int-${signal}`], dir).done;
      const refusedRelease = await cli(['locks', 'release', 'demo'], dir).done;

      // Act
      run.child.kill(signal);
      run.child.kill('SIGCONT');
      const result = await run.done;

      // Assess
      for (const refused of [refusedClose, refusedRelease]) {
        expect(refused.code).toBe(1);
        expect(refused.stderr.trim().split('\n')).toHaveLength(1);
        expect(refused.stderr).toContain(
          `error: refused: run int-${signal} holds the lock of demo and process ${run.child.pid}`,
        );
      }
      expect(result.code).toBe(exitCode);
      expect(result.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(
          new RegExp(
            `^interrupted \\(${signal}\\): run int-${signal} closed as failed (during|after) \\w+, lock released$`,
          ),
        ),
      ]);
      const record = await access.ledger.getRun('demo', `int-${signal}`);
      expect(record?.status).toBe('failed');
      expect(record?.reason).toMatch(new RegExp(`^interrupted: ${signal} (during|after) `));
      expect(record?.steps.collect?.status).toBe('succeeded');
      expect(await access.ledger.getLock('demo')).toBeUndefined();
      await access.close();
    },
    240_000,
  );

  it('after kill -9 the next run closes the dead holder’s run at once, and --resume finishes it with no stale reason', async () => {
    // Prepare
    const dir = fresh();
    const access = await attachLedger(dir);
    const killed = cli(['run', '--run-id', 'kill-1'], dir, SLOW);
    const lock = await waitFor('kill-1 to hold the lock', async () => {
      const held = await access.ledger.getLock('demo');
      return held?.holder === 'kill-1' ? held : undefined;
    });
    killed.child.kill('SIGKILL');
    await killed.done;

    // Act
    const next = await cli(['run', '--run-id', 'next-1'], dir).done;
    const abandoned = await access.ledger.getRun('demo', 'kill-1');
    const resumed = await cli(['run', '--run-id', 'kill-1', '--resume'], dir).done;

    // Assess
    expect(lock.process?.pid).toBe(killed.child.pid);
    expect(next.code).toBe(0);
    expect(next.stdout).toContain('run next-1   status SUCCEEDED');
    expect(abandoned?.status).toBe('failed');
    expect(abandoned?.reason).toBe(`abandoned, holder process ${killed.child.pid} is gone`);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain('run kill-1   status SUCCEEDED');
    expect(resumed.stdout).not.toContain('no report');
    const final = await access.ledger.getRun('demo', 'kill-1');
    expect(final?.status).toBe('succeeded');
    expect(final?.reason).toBeUndefined();
    await access.close();
  }, 300_000);
});
