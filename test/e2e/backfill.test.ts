import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const cli = (args: string[], dataDir: string) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'infra/local/cli.ts', ...args], {
    encoding: 'utf8',
    env: { ...process.env, DIGEST_LOCAL_DIR: dataDir },
    timeout: 120_000,
  });

describe('backfill', () => {
  it('runs each slot under the run id the scheduler would have used, and a second backfill is a no-op', () => {
    // Prepare
    const dataDir = join(mkdtempSync(join(tmpdir(), 'digest-backfill-')), '.local');
    const args = ['backfill', 'demo', '--schedule', 'morning', '--from', '2026-11-01', '--to', '2026-11-02'];

    // Act
    const first = cli(args, dataDir);
    const again = cli(args, dataDir);
    const history = cli(['history'], dataDir);

    // Assess: Berlin's 09:00 is 08:00 UTC in November.
    expect(first.status).toBe(0);
    expect(first.stdout).toContain('run morning-20261101T0800Z   status SUCCEEDED');
    expect(first.stdout).toContain('run morning-20261102T0800Z   status SUCCEEDED');
    expect(again.status).toBe(0);
    expect(
      again.stdout.match(/^duplicate: run morning-2026110[12]T0800Z already exists \(succeeded\)/gm),
    ).toHaveLength(2);
    expect(history.stdout).toContain(
      '4 run(s); success rate 100% (2 of 2 that did work); not counted: 2 duplicate',
    );
  }, 300_000);

  it('refuses a schedule the pipeline does not have, in one line', () => {
    // Act
    const result = cli(
      ['backfill', 'demo', '--schedule', 'nope', '--from', '2026-11-01', '--to', '2026-11-02'],
      join(tmpdir(), 'digest-none'),
    );

    // Assess
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe(
      'error: pipeline demo has no schedule "nope" (its schedules: morning, evening)',
    );
  });
});
