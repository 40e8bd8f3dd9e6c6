import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CliContext } from '../../infra/local/commands/command';
import { historyCommand } from '../../infra/local/commands/history';
import { runsCommand } from '../../infra/local/commands/runs';
import { durationSummary, percentile } from '../../infra/local/report';
import { loadConfigFile } from '../../shared/config/load';
import type { RunRecord } from '../../shared/ports';

/**
 * `runs list`, `runs show` and `history` with --aws read the deployed ledger: one Query of the pipeline's
 * partition (all pages), or one GetItem. The table is aws-sdk-client-mock's.
 */
const config = loadConfigFile('digest.config.json');
const TABLE = 'digest-ledger-prod';
const ddb = mockClient(DynamoDBDocumentClient);
const sfn = mockClient(SFNClient);

const context = (positionals: string[], values: CliContext['values'] = {}): CliContext => ({
  values: { aws: true, table: TABLE, limit: '20', ...values },
  positionals,
  config,
  configFile: 'digest.config.json',
  dataDir: '/nonexistent/never-used-with-aws',
  pipelineId: () => 'demo',
});

const step = (durationMs: number, counts: Record<string, number> = {}) => ({
  status: 'succeeded',
  endedAt: '2026-11-24T08:01:00.000Z',
  durationMs,
  counts,
});
const item = (runId: string, status: string, startedAt: string, seconds: number | undefined, extra = {}) => ({
  pk: 'PIPELINE#demo',
  sk: `RUN#${runId}`,
  pipelineId: 'demo',
  runId,
  trigger: 'schedule',
  startedAt,
  status,
  ...(seconds === undefined
    ? {}
    : { endedAt: new Date(Date.parse(startedAt) + seconds * 1000).toISOString() }),
  steps:
    seconds === undefined
      ? {}
      : { collect: step(seconds * 400, { postsKept: 57 }), analyze: step(seconds * 500) },
  ...extra,
});
const ITEMS = [
  item('morning-20261121T0800Z', 'succeeded', '2026-11-21T08:00:00.000Z', 40),
  item('morning-20261122T0800Z', 'succeeded', '2026-11-22T08:00:00.000Z', 60),
  item('morning-20261123T0800Z', 'partial', '2026-11-23T08:00:00.000Z', 100, { reason: 'analyze: quota' }),
  item('morning-20261124T0800Z', 'failed', '2026-11-24T08:00:00.000Z', 20),
  item('morning-20261124T0800Z-dup-abc', 'duplicate', '2026-11-24T08:00:01.000Z', 0),
  item('evening-20261124T2300Z', 'skipped', '2026-11-24T23:00:00.000Z', undefined),
];

let out: string[];
beforeEach(() => {
  ddb.reset();
  sfn.reset();
  out = [];
  vi.spyOn(console, 'log').mockImplementation((line: string) => void out.push(line));
  // Two pages, as a long history comes back.
  ddb
    .on(QueryCommand)
    .resolvesOnce({ Items: ITEMS.slice(0, 3), LastEvaluatedKey: { pk: 'PIPELINE#demo', sk: ITEMS[2]?.sk } })
    .resolvesOnce({ Items: ITEMS.slice(3) });
});
afterEach(() => vi.restoreAllMocks());

describe('reading the deployed ledger', () => {
  it('history --aws lists the runs newest first with p50/p90 durations and the success rate', async () => {
    // Act
    const code = await historyCommand.run(context([]));

    // Assess
    expect(code).toBe(0);
    const queries = ddb.commandCalls(QueryCommand);
    expect(queries).toHaveLength(2);
    expect(queries[0]?.args[0].input).toMatchObject({
      TableName: TABLE,
      ExpressionAttributeValues: { ':pk': 'PIPELINE#demo', ':prefix': 'RUN#' },
    });
    expect(out[0]).toBe('2026-11-24T23:00:00.000Z  skipped   evening-20261124T2300Z');
    expect(out[3]).toBe(
      '2026-11-23T08:00:00.000Z  partial   morning-20261123T0800Z  100.0 s  collect:succeeded/40.0 s analyze:succeeded/50.0 s  (analyze: quota)',
    );
    expect(out).toContain(
      '6 run(s); success rate 50% (2 of 4 that did work); not counted: 1 skipped, 1 duplicate',
    );
    // Durations of the four runs that did work: 20, 40, 60, 100 s.
    expect(out).toContain('run duration: p50 40.0 s, p90 100.0 s over 4 run(s) that did work');
    expect(out).toContain('  collect  p50 16.0 s, p90 40.0 s (5)');
  });

  it('runs list --aws --limit 2 prints the newest two', async () => {
    // Act
    const code = await runsCommand.run(context(['list'], { limit: '2' }));

    // Assess
    expect(code).toBe(0);
    expect(out).toHaveLength(2);
    expect(out[1]).toContain('morning-20261124T0800Z-dup-abc');
  });

  it("runs show --aws prints the run's status, its time and each step's duration and counts", async () => {
    // Prepare
    ddb.on(GetCommand).callsFake((input: { Key: { sk: string } }) => ({
      Item: input.Key.sk === 'LOCK' ? undefined : ITEMS[2],
    }));

    // Act
    const code = await runsCommand.run(context(['show', 'morning-20261123T0800Z']));

    // Assess
    expect(code).toBe(0);
    expect(out[0]).toContain('status partial');
    expect(out).toContain('reason: analyze: quota');
    expect(out.find((l) => l.startsWith('started'))).toContain('took 100.0 s');
    expect(out.find((l) => l.includes('collect'))).toMatch(/collect\s+succeeded\s+40000 ms\s+postsKept=57/);
  });
});

describe('percentiles', () => {
  it('are nearest-rank, and none for no runs', () => {
    // Assess
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(percentile([5, 1, 3, 2, 4], 90)).toBe(5);
    expect(percentile([7], 90)).toBe(7);
    expect(percentile([], 50)).toBeUndefined();
    expect(durationSummary([] as RunRecord[])).toEqual([
      'run duration: p50 -, p90 - over 0 run(s) that did work',
    ]);
  });
});
