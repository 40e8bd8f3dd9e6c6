import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const cli = (args: string[], env: Record<string, string> = {}, cwd?: string) =>
  spawnSync(
    process.execPath,
    ['--import', import.meta.resolve('tsx'), `${process.cwd()}/infra/local/cli.ts`, ...args],
    {
      encoding: 'utf8',
      env: { ...process.env, ...env },
      timeout: 60_000,
      ...(cwd ? { cwd } : {}),
    },
  );

/** A folder to run the CLI in: the sample config, and whatever `.env` the test writes. */
function workspace(dotEnv?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'digest-cli-'));
  writeFileSync(join(dir, 'digest.config.json'), JSON.stringify(SAMPLE));
  if (dotEnv !== undefined) writeFileSync(join(dir, '.env'), dotEnv);
  return dir;
}

const SAMPLE = {
  pipelines: [
    {
      id: 'demo',
      discord: { channelId: '1187654321098765432' },
      sheet: { spreadsheetId: 'sandbox-spreadsheet-0001' },
      schedules: [{ name: 'morning', dailyAt: '09:00', timeZone: 'Europe/Berlin' }],
    },
  ],
};

/** One line on stderr, no stack trace, a non-zero exit, and nothing started. */
function expectOneLineError(result: ReturnType<typeof cli>, expected: string) {
  expect(result.status).not.toBe(0);
  expect(result.stderr.trim().split('\n')).toEqual([expect.stringContaining(expected)]);
  expect(result.stderr).toMatch(/^error: /);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  expect(result.stdout).not.toContain('running pipeline');
}

describe('the local CLI', () => {
  it('runs the sample pipeline with its report alone on stdout: no function log lines unless --verbose', () => {
    // Prepare: as a user runs it, without the test runner's own silencing of the functions' logs.
    const {
      POWERTOOLS_LOG_LEVEL: _silenced,
      POWERTOOLS_METRICS_DISABLED: _noMetrics,
      ...userEnv
    } = process.env;
    // Act: the project's own config, which delivers and notifies, in a data directory of its own.
    const result = spawnSync(
      process.execPath,
      ['--import', import.meta.resolve('tsx'), `${process.cwd()}/infra/local/cli.ts`, 'run'],
      {
        encoding: 'utf8',
        env: { ...userEnv, DIGEST_LOCAL_DIR: mkdtempSync(join(tmpdir(), 'digest-cli-run-')) },
        timeout: 60_000,
      },
    );

    // Assess
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('status SUCCEEDED');
    expect(result.stdout.split('\n').filter((line) => line.startsWith('{'))).toEqual([]);
  }, 120_000);

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

  // Each mistake is tested in process (test/unit/command-line.test.ts); these show the whole CLI prints it.
  it.each([
    [['bogus'], 'unknown command "bogus"'],
    [['history', '--limit', 'abc'], '--limit must be a whole number from 1 to 10000, not "abc"'],
    [['replay'], '"replay" needs <runId>'],
    [
      ['deliver', 'retry'],
      '"deliver retry" needs <runId>: npm run digest -- deliver retry <runId> <destination>',
    ],
    [['publish', 'confirm', 'r1'], '"publish confirm" needs <postId>'],
    [['run', '--resume'], '--resume continues a run: name it with --run-id <id>'],
    [['validate', '--pipeline', 'nope'], 'unknown pipeline "nope" (configured: demo)'],
  ])('refuses the command line %j in one line', (args, expected) => {
    // Prepare
    const dir = workspace();

    // Act
    const result = cli(args, { DIGEST_LOCAL_DIR: join(dir, 'data') }, dir);

    // Assess
    expectOneLineError(result, expected);
  });

  it('refuses a DIGEST_LOCAL_DIR that is a file', () => {
    // Prepare
    const dir = workspace();
    writeFileSync(join(dir, 'data'), 'not a folder');

    // Act
    const result = cli(['run'], { DIGEST_LOCAL_DIR: join(dir, 'data') }, dir);

    // Assess
    expectOneLineError(result, `DIGEST_LOCAL_DIR ${join(dir, 'data')} is not a folder`);
  });

  it('refuses a config path that is a folder', () => {
    // Prepare
    const dir = workspace();
    mkdirSync(join(dir, 'conf'));

    // Act
    const result = cli(['validate', '--config', join(dir, 'conf')], {}, dir);

    // Assess
    expectOneLineError(result, `cannot read config file ${join(dir, 'conf')}: it is a folder`);
  });

  it('refuses a malformed .env naming the line, never its content', () => {
    // Prepare
    const dir = workspace('# secrets\nDISCORD_BOT_TOKEN=abc\nthis-is-secret-and-broken\n');

    // Act
    const result = cli(['validate'], {}, dir);

    // Assess
    expectOneLineError(result, '.env line 3 is not KEY=value');
    expect(result.stderr).not.toContain('this-is-secret');
  });

  it('refuses a malformed Google key from .env before anything starts, quoting none of it', () => {
    // Prepare
    const dir = workspace(
      `GOOGLE_SERVICE_ACCOUNT_JSON='{"type":"service_account","private_key":"-----BEGIN PRIVATE KEY-----\\nQzV9secret\\n-----END PRIVATE KEY-----\\n"}'\n`,
    );

    // Act
    const result = cli(['run'], { DIGEST_LOCAL_DIR: join(dir, 'data') }, dir);

    // Assess
    expectOneLineError(
      result,
      'GOOGLE_SERVICE_ACCOUNT_JSON is not a service account key: it has no client_email',
    );
    expect(result.stderr).not.toContain('QzV9secret');
  });

  it('refuses to replay or resume a run the ledger never recorded', () => {
    // Prepare
    const dir = workspace();
    mkdirSync(join(dir, 'data', 'dynamodb'), { recursive: true });

    // Act
    const replay = cli(['replay', 'no-such-run'], { DIGEST_LOCAL_DIR: join(dir, 'data') }, dir);
    const resume = cli(
      ['run', '--run-id', 'no-such-run', '--resume'],
      { DIGEST_LOCAL_DIR: join(dir, 'data') },
      dir,
    );

    // Assess
    expectOneLineError(replay, 'run "no-such-run" of pipeline demo does not exist');
    expectOneLineError(resume, 'run "no-such-run" of pipeline demo does not exist');
  });

  it('refuses a cron and a time zone EventBridge Scheduler would refuse, one line each', () => {
    // Prepare
    const dir = workspace();
    const file = join(dir, 'aws.json');
    writeFileSync(
      file,
      JSON.stringify({
        pipelines: [
          {
            ...SAMPLE.pipelines[0],
            schedules: [{ name: 'evening', cron: '0 18 * * MON-FRI *', timeZone: '+01:00' }],
          },
        ],
      }),
    );

    // Act
    const result = cli(['validate', '--config', file], {}, dir);

    // Assess
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      'pipelines[0].schedules[0].cron: one of day-of-month and day-of-week must be ?',
    );
    expect(result.stderr).toContain(
      'pipelines[0].schedules[0].timeZone: "+01:00" is not an IANA time zone name',
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
