import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { attachSharedAws, SERVICE_FILE } from '../../infra/local/shared-aws';
import { createDynamoDocumentClient } from '../../shared/adapters/aws-clients';
import { attachLedger, cli, dataDirectory, waitFor } from './cli-process';

/**
 * Several CLI commands at once on one data directory, each a real process:
 * they must behave as concurrent executions do in AWS, over one shared
 * embedded S3/DynamoDB service that none of them opens twice.
 */
const dirs: string[] = [];
const fresh = () => {
  const dir = dataDirectory();
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const serviceStarts = (dir: string) =>
  readFileSync(join(dir, 'aws-service.log'), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('local AWS service')).length;

describe('two commands at once on one data directory', () => {
  it('two runs of one run id: one does the work, the other is a duplicate, both print a report', async () => {
    // Prepare
    const dir = fresh();

    // Act
    const [a, b] = await Promise.all([
      cli(['run', '--run-id', 'same-1'], dir).done,
      cli(['run', '--run-id', 'same-1'], dir).done,
    ]);

    // Assess
    expect([a.code, b.code]).toEqual([0, 0]);
    const outputs = [a.stdout, b.stdout];
    expect(outputs.filter((o) => o.includes('run same-1   status SUCCEEDED'))).toHaveLength(1);
    expect(outputs.filter((o) => o.includes('duplicate: run same-1 already exists'))).toHaveLength(1);
    expect(outputs.join('')).not.toContain('no report');
    expect(a.stderr + b.stderr).not.toMatch(/Database is closed|LOCK|EADDRINUSE/);
    expect(serviceStarts(dir)).toBe(1);
    const access = await attachLedger(dir);
    const runs = await access.ledger.listRuns('demo', 10);
    await access.close();
    expect(runs.map((r) => r.status).sort()).toEqual(['duplicate', 'succeeded']);
  }, 240_000);

  it('two runs of one pipeline: one works, the other is skipped as overlapping; history answers meanwhile', async () => {
    // Prepare
    const dir = fresh();
    // Realistic sandbox latency keeps the first run inside its lock while the second begins.
    const slow = { DIGEST_SANDBOX_LATENCY: 'realistic' };

    // Act
    const first = cli(['run', '--run-id', 'overlap-a'], dir, slow);
    const second = cli(['run', '--run-id', 'overlap-b'], dir, slow);
    const access = await attachLedger(dir);
    await waitFor('a run to hold the lock', () => access.ledger.getLock('demo'));
    const history = await cli(['history'], dir).done;
    const [a, b] = await Promise.all([first.done, second.done]);
    const runs = await access.ledger.listRuns('demo', 10);
    await access.close();

    // Assess
    expect(history.code).toBe(0);
    // It was started while a run held the lock; by the time it reads, that run may have ended.
    expect(history.stdout).toMatch(/(running|succeeded|skipped)\s+overlap-[ab]/);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(runs.map((r) => r.status).sort()).toEqual(['skipped', 'succeeded']);
    const skipped = runs.find((r) => r.status === 'skipped');
    expect(skipped?.reason).toMatch(/^overlapping: run overlap-[ab] holds the lock until/);
    const skippedOutput = skipped?.runId === 'overlap-a' ? a.stdout : b.stdout;
    expect(skippedOutput).toContain(`run ${skipped?.runId}   status SKIPPED`);
    expect(skippedOutput).toContain('reason: overlapping');
    expect(serviceStarts(dir)).toBe(1);
  }, 240_000);

  it('commands racing to start the service end with one service, which stops by itself when unused', async () => {
    // Prepare
    const dir = fresh();

    // Act
    const results = await Promise.all([cli(['history'], dir).done, cli(['history'], dir).done]);
    const stopped = await waitFor(
      'the idle service to stop',
      () => !existsSync(join(dir, SERVICE_FILE)),
      30_000,
    );

    // Assess
    expect(results.map((r) => r.code)).toEqual([0, 0]);
    expect(results.every((r) => r.stdout.includes('0 run(s)'))).toBe(true);
    expect(serviceStarts(dir)).toBe(1);
    expect(stopped).toBe(true);
  }, 120_000);

  it('a service record left by a dead process is detected and replaced', async () => {
    // Prepare
    const dir = fresh();
    const dead = spawnSync(process.execPath, ['-e', '']);
    writeFileSync(
      join(dir, SERVICE_FILE),
      JSON.stringify({ pid: dead.pid, host: hostname(), dynamoEndpoint: 'http://127.0.0.1:9', env: {} }),
    );

    // Act
    const result = await cli(['history'], dir).done;

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('0 run(s)');
    expect(serviceStarts(dir)).toBe(1);
  }, 120_000);
});

describe('damaged local state is never read as empty', () => {
  it('a corrupted LevelDB ledger stops the command with one line naming it', async () => {
    // Prepare
    const dir = fresh();
    expect((await cli(['history'], dir).done).code).toBe(0);
    await waitFor('the idle service to stop', () => !existsSync(join(dir, SERVICE_FILE)), 30_000);
    writeFileSync(join(dir, 'dynamodb', 'CURRENT'), 'MANIFEST-999999\n');

    // Act
    const result = await cli(['history'], dir).done;

    // Assess
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`error: local DynamoDB ledger ${join(dir, 'dynamodb')} cannot be read:`);
    expect(lines[0]).toContain('MANIFEST-999999');
    expect(result.stdout).not.toContain('run(s)');
  }, 120_000);

  it('an inconsistent run item stops history and runs show with the table and the item', async () => {
    // Prepare
    const dir = fresh();
    process.env.DIGEST_LOCAL_SERVICE_IDLE_MS ??= '1500';
    const aws = await attachSharedAws(dir);
    await createDynamoDocumentClient(aws.env).send(
      new PutCommand({
        TableName: aws.table,
        Item: {
          pk: 'PIPELINE#demo',
          sk: 'RUN#r-bad',
          pipelineId: 'demo',
          runId: 'r-bad',
          trigger: 'manual',
          steps: {},
        },
      }),
    );

    // Act
    const history = await cli(['history'], dir).done;
    const show = await cli(['runs', 'show', 'r-bad'], dir).done;
    await aws.close();

    // Assess
    for (const result of [history, show]) {
      expect(result.code).toBe(1);
      expect(result.stderr.trim()).toBe(
        `error: ledger table ${aws.table}: item PIPELINE#demo RUN#r-bad is inconsistent: run record without startedAt`,
      );
    }
    expect(history.stdout).not.toContain('run(s)');
  }, 120_000);
});
