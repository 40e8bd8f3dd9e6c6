import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scheduledRunId } from '../../shared/domain/run-id';
import { attachLedger, cli, dataDirectory, waitFor } from './cli-process';

/**
 * The daemon as a real process: it records the slots it missed while down,
 * publishes a one-off post when it is due (X sandbox), refuses a second
 * daemon on the same data directory and stops on SIGINT in one line.
 */
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const HOUR = 3_600_000;
const two = (n: number) => String(n).padStart(2, '0');

describe('npm run digest -- daemon', () => {
  it('records missed slots, publishes a due post, refuses a second daemon, stops on SIGINT', async () => {
    // Prepare: one schedule half a day away from now, so no slot of it falls within its grace.
    const dir = dataDirectory();
    dirs.push(dir);
    const hour = new Date(Date.now() + 12 * HOUR).getUTCHours();
    const config = JSON.parse(readFileSync('digest.config.json', 'utf8'));
    config.pipelines[0].schedules = [{ name: 'nightly', dailyAt: `${two(hour)}:00`, timeZone: 'UTC' }];
    const configFile = join(dir, 'daemon.config.json');
    writeFileSync(configFile, JSON.stringify(config));
    // The daemon last handled a slot three days ago: the slots since passed while it was down.
    const lastHandled = new Date(Date.now() - 3 * 24 * HOUR);
    lastHandled.setUTCHours(hour, 0, 0, 0);
    writeFileSync(
      join(dir, 'daemon-progress.json'),
      JSON.stringify({ 'demo/nightly': lastHandled.toISOString() }),
    );
    const due = new Date(Date.now() + 25_000);
    const at = `${due.getUTCFullYear()}-${two(due.getUTCMonth() + 1)}-${two(due.getUTCDate())} ${two(due.getUTCHours())}:${two(due.getUTCMinutes())}:${two(due.getUTCSeconds())}`;
    const scheduled = await cli(
      [
        'posts',
        'schedule',
        '--config',
        configFile,
        '--at',
        at,
        '--tz',
        'UTC',
        '--text',
        'A one-off post from the daemon test',
      ],
      dir,
    ).done;
    const postId = /scheduled post (\S+) of demo/.exec(scheduled.stdout)?.[1] ?? '';

    // Act
    const daemon = cli(['daemon', '--config', configFile], dir);
    await waitFor('the daemon to print its next fire time', () =>
      daemon.stdout().includes('next: demo/nightly'),
    );
    const second = await cli(['daemon', '--config', configFile], dir).done;
    await waitFor(
      'the post to be published',
      () => daemon.stdout().includes(`post ${postId}: published`),
      120_000,
    );
    daemon.child.kill('SIGINT');
    const stopped = await daemon.done;
    const shown = await cli(['posts', 'show', postId, '--config', configFile], dir).done;
    const cancel = await cli(['posts', 'cancel', postId, '--config', configFile], dir).done;

    // Assess
    expect(scheduled.code).toBe(0);
    expect(second.code).toBe(1);
    expect(second.stderr.trim()).toBe(
      `error: a daemon (process ${daemon.child.pid}) already runs on ${dir}; stop it first`,
    );
    expect(stopped.code).toBe(130);
    expect(stopped.stderr.trim().split('\n')).toEqual([
      'interrupted (SIGINT): daemon stopped, no run was under way',
    ]);
    expect(JSON.parse(shown.stdout)).toMatchObject({
      postId,
      status: 'published',
      postUrl: expect.stringMatching(/^https:\/\/x\.com\//),
      parts: ['A one-off post from the daemon test'],
    });
    expect(cancel.code).toBe(1);
    expect(cancel.stderr).toContain(`post ${postId} was already published`);
    const access = await attachLedger(dir);
    const missed = [1, 2, 3]
      .map((days) => new Date(lastHandled.getTime() + days * 24 * HOUR))
      .filter((t) => t.getTime() < Date.now());
    for (const time of missed) {
      expect(await access.ledger.getRun('demo', scheduledRunId('nightly', time))).toMatchObject({
        status: 'missed',
        trigger: 'schedule',
        reason: `missed: the daemon was not running at ${time.toISOString()}`,
      });
    }
    expect(missed.length).toBeGreaterThanOrEqual(2);
    const progress = JSON.parse(readFileSync(join(dir, 'daemon-progress.json'), 'utf8'));
    expect(progress['demo/nightly']).toBe(missed.at(-1)?.toISOString());
    await access.close();
  }, 240_000);

  it('runs a slot missed within its grace at once, and SIGINT closes that run as run does on Ctrl-C', async () => {
    // Prepare: a daily slot two minutes ago, the one before it handled: the daemon was down for this one.
    const dir = dataDirectory();
    dirs.push(dir);
    const slot = new Date(Date.now() - 2 * 60_000);
    slot.setUTCSeconds(0, 0);
    const config = JSON.parse(readFileSync('digest.config.json', 'utf8'));
    config.pipelines[0].schedules = [
      { name: 'daily', dailyAt: `${two(slot.getUTCHours())}:${two(slot.getUTCMinutes())}`, timeZone: 'UTC' },
    ];
    const configFile = join(dir, 'daemon.config.json');
    writeFileSync(configFile, JSON.stringify(config));
    writeFileSync(
      join(dir, 'daemon-progress.json'),
      JSON.stringify({ 'demo/daily': new Date(slot.getTime() - 24 * HOUR).toISOString() }),
    );
    const runId = scheduledRunId('daily', slot);
    const access = await attachLedger(dir);
    // Realistic sandbox latency: the run is still under way when the test acts.
    const daemon = cli(['daemon', '--config', configFile], dir, { DIGEST_SANDBOX_LATENCY: 'realistic' });
    await waitFor(
      'collect to be recorded',
      async () => (await access.ledger.getRun('demo', runId))?.steps.collect,
    );

    // Act
    daemon.child.kill('SIGINT');
    const stopped = await daemon.done;

    // Assess
    expect(daemon.stdout()).toContain(`firing demo/daily at ${slot.toISOString()}`);
    expect(stopped.code).toBe(130);
    expect(stopped.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        new RegExp(
          `^interrupted \\(SIGINT\\): run ${runId} closed as failed (during|after) \\w+, lock released$`,
        ),
      ),
    ]);
    const record = await access.ledger.getRun('demo', runId);
    expect(record).toMatchObject({
      status: 'failed',
      trigger: 'schedule',
      scheduledTime: slot.toISOString(),
    });
    expect(record?.reason).toMatch(/^interrupted: SIGINT (during|after) /);
    expect(await access.ledger.getLock('demo')).toBeUndefined();
    await access.close();
  }, 240_000);
});
