import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalEnvironment, startLocalEnvironment } from '../../infra/local/environment';
import { runDigestLocally } from '../../infra/local/runner';
import { loadConfigFile } from '../../shared/config/load';
import { configSchema } from '../../shared/config/schema';

/**
 * Issue 10's request minimum, counted at the Sheets sandbox's call log for each
 * step: one look and one read of the key columns in Upload, then its appends
 * (one per 2 MB of rows); one read in PlanAnalysis; one read and the write-back
 * in Analyze; none in Publish; one read and one move in Archive, which marks the
 * Drafts row too. On the run that creates the tabs, on a later one with new
 * messages and on one with none.
 */
const base = loadConfigFile('digest.config.json');
const sample = base.pipelines[0];
if (!sample) throw new Error('the sample config has no pipeline');
const SEEDED = 300;
const config = configSchema.parse({
  pipelines: [
    {
      ...sample,
      discord: { ...sample.discord, window: { mode: 'hours', hours: 96 }, fetchLimit: SEEDED + 100 },
    },
  ],
});
const pipeline = config.pipelines[0];
if (!pipeline) throw new Error('no pipeline');
const now = new Date('2026-11-24T08:00:00.000Z');
let environment: LocalEnvironment;

beforeAll(async () => {
  environment = await startLocalEnvironment({ config, secretsEnv: {}, now, seedCount: SEEDED });
});
afterAll(async () => {
  await environment?.close();
});

const sheetCalls = () => environment.sandboxes.sheets?.faults.calls ?? [];

/** Each step's Sheets requests, as `METHOD path`, by state name. */
function countingSteps() {
  const byState: Record<string, string[]> = {};
  const interceptTask = async (state: string, payload: unknown, invoke: (p: unknown) => Promise<unknown>) => {
    const before = sheetCalls().length;
    try {
      return await invoke(payload);
    } finally {
      byState[state] = [
        ...(byState[state] ?? []),
        ...sheetCalls()
          .slice(before)
          .map((c) => `${c.method} ${c.path.replace(/^\/v4\/spreadsheets\/[^/:]+/, '')}`),
      ];
    }
  };
  return { byState, interceptTask };
}

/** One scheduled run at `at`, each step's Sheets requests counted. */
async function countedRun(at: Date, executionName: string) {
  if (!pipeline) throw new Error('no pipeline');
  const { byState, interceptTask } = countingSteps();
  const result = await runDigestLocally({
    config,
    environment,
    interceptTask,
    input: {
      pipelineId: pipeline.id,
      trigger: 'schedule',
      scheduleName: 'morning',
      scheduledTime: at.toISOString(),
    },
    executionName,
  });
  return { byState, result };
}

describe('Sheets requests per run', () => {
  it('are at most 8 on the first run, the one that creates the tabs', async () => {
    // Act
    const { byState, result } = await countedRun(now, 'sheets-first');

    // Assess
    expect(result.report?.status).toBe('succeeded');
    expect(result.report?.steps.upload?.counts.rowsAppended).toBeGreaterThan(100);
    expect(result.report?.steps.archive?.counts.rowsArchived).toBe(
      result.report?.steps.upload?.counts.rowsAppended,
    );
    const calls = sheetCalls();
    // The first request after Upload's look adds the missing tabs, once in the spreadsheet's life.
    expect(`${calls[1]?.method} ${calls[1]?.path}`).toMatch(/^POST .*:batchUpdate$/);
    expect(calls.length, calls.map((c) => `${c.method} ${c.path}`).join('\n')).toBeLessThanOrEqual(8);
    // The archive step is one batchUpdate, and no step reads a tab on its own (values.get).
    expect(
      calls.filter(
        (c) => c.method === 'POST' && c.path.endsWith(':batchUpdate') && !c.path.includes('values'),
      ),
    ).not.toHaveLength(0);
    expect(calls.filter((c) => c.method === 'GET' && /\/values\/[^:]+$/.test(c.path))).toHaveLength(0);
    // Step by step: a look (every tab is missing: nothing to read), the tabs made, one append; then one
    // read each, the write-back, and one move.
    expect(byState.Upload).toEqual(['GET ', 'POST :batchUpdate', "POST /values/'Posts'!A1:append"]);
    expect(byState.PlanAnalysis).toEqual(['GET /values:batchGet']);
    expect(byState.Analyze).toEqual(['GET /values:batchGet', 'POST /values:batchUpdate']);
    expect(byState.Publish).toEqual([]);
    expect(byState.Archive).toEqual(['GET /values:batchGet', 'POST :batchUpdate']);
    expect(environment.sandboxes.sheets?.tab(pipeline.sheet.spreadsheetId, 'Drafts')?.[1]?.[4]).toBe(
      'published',
    );
  });

  it('are at most 8 on a later run with new messages', async () => {
    // Prepare
    environment.sandboxes.sheets?.faults.resetCalls();
    const later = new Date(now.getTime() + 1_800_000);
    const newer = Array.from({ length: 20 }, (_, i) => ({
      id: String(BigInt(Date.parse('2026-11-24T08:10:00.000Z') - 1_420_070_400_000) * 4_194_304n + BigInt(i)),
      channel_id: pipeline.discord.channelId,
      type: 0,
      content: `new one https://x.com/later${i}/status/19000000000000000${10 + i}`,
      timestamp: `2026-11-24T08:10:${String(i).padStart(2, '0')}.000Z`,
      author: { id: '1100000000000000001', username: `later${i}`, global_name: null, discriminator: '0' },
      embeds: [],
      attachments: [],
    }));
    environment.sandboxes.discord?.addMessages(pipeline.discord.channelId, newer);

    // Act
    const { byState, result } = await countedRun(later, 'sheets-new');

    // Assess
    expect(result.report?.status).toBe('succeeded');
    expect(result.report?.steps.upload?.counts.rowsAppended).toBe(20);
    const calls = sheetCalls();
    expect(calls.length, calls.map((c) => `${c.method} ${c.path}`).join('\n')).toBeLessThanOrEqual(8);
    expect(byState.Upload).toEqual(['GET ', 'GET /values:batchGet', "POST /values/'Posts'!A1:append"]);
    expect(byState.Publish).toEqual([]);
    expect(byState.Archive).toEqual(['GET /values:batchGet', 'POST :batchUpdate']);
  });

  it('are at most 8 on a later run over a sheet that already has its tabs', async () => {
    // Prepare
    environment.sandboxes.sheets?.faults.resetCalls();
    const later = new Date(now.getTime() + 3_600_000);

    // Act
    const { byState, result } = await countedRun(later, 'sheets-later');

    // Assess
    expect(result.report?.status).toBe('succeeded');
    expect(result.report?.steps.upload?.counts.duplicatesSkipped).toBeGreaterThan(100);
    expect(sheetCalls().length).toBeGreaterThan(0);
    expect(sheetCalls().length).toBeLessThanOrEqual(8);
    // Nothing new to append, analyse or archive: the look and the reads only.
    expect(byState.Upload).toEqual(['GET ', 'GET /values:batchGet']);
    expect(byState.PlanAnalysis).toEqual(['GET /values:batchGet']);
  });
});
