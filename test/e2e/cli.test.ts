import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const cli = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'infra/local/cli.ts', ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 60_000,
  });

describe('the local CLI', () => {
  it('validates the sample config', () => {
    // Act
    const result = cli(['validate']);

    // Assess
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('pipeline(s) valid');
  });

  it('refuses an invalid config naming the field, exits non-zero and starts nothing', () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'digest-cli-'));
    const file = join(dir, 'bad.json');
    writeFileSync(
      file,
      JSON.stringify({
        pipelines: [
          {
            id: 'demo',
            discord: { channelId: 'not-a-snowflake' },
            sheet: { spreadsheetId: 'sheet-0000000001' },
            schedules: [{ name: 'm', dailyAt: '09:00', timeZone: 'Europe/Berlin' }],
          },
        ],
      }),
    );

    // Act
    const result = cli(['run', '--config', file], { DIGEST_LOCAL_DIR: join(dir, 'data') });

    // Assess
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('pipelines[0].discord.channelId');
    expect(result.stdout).not.toContain('running pipeline');
  });

  it('says which file is not JSON', () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'digest-cli-'));
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{ "pipelines": [ ');

    // Act
    const result = cli(['validate', '--config', file]);

    // Assess
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`config file ${file} is not valid JSON`);
  });
});
