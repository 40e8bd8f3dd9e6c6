import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalEnvironment, startLocalEnvironment } from '../../infra/local/environment';
import { runDigestLocally } from '../../infra/local/runner';
import { loadConfigFile } from '../../shared/config/load';
import { configSchema } from '../../shared/config/schema';

/**
 * Issue 10's request minimum, counted at the Sheets sandbox's call log: at
 * most 8 requests a run, on the run that creates the tabs and on a later one.
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

describe('Sheets requests per run', () => {
  it('are at most 8 on the first run, besides the one batchUpdate that creates the tabs', async () => {
    // Act
    const result = await runDigestLocally({
      config,
      environment,
      input: {
        pipelineId: pipeline.id,
        trigger: 'schedule',
        scheduleName: 'morning',
        scheduledTime: now.toISOString(),
      },
      executionName: 'sheets-first',
    });

    // Assess
    expect(result.report?.status).toBe('succeeded');
    expect(result.report?.steps.upload?.counts.rowsAppended).toBeGreaterThan(100);
    expect(result.report?.steps.archive?.counts.rowsArchived).toBe(
      result.report?.steps.upload?.counts.rowsAppended,
    );
    const calls = sheetCalls();
    // The first request after Upload's look adds the missing tabs, once in the spreadsheet's life.
    expect(`${calls[1]?.method} ${calls[1]?.path}`).toMatch(/^POST .*:batchUpdate$/);
    expect(calls.length - 1, calls.map((c) => `${c.method} ${c.path}`).join('\n')).toBeLessThanOrEqual(8);
    // The archive step is one batchUpdate, and no step reads a tab on its own (values.get).
    expect(
      calls.filter(
        (c) => c.method === 'POST' && c.path.endsWith(':batchUpdate') && !c.path.includes('values'),
      ),
    ).not.toHaveLength(0);
    expect(calls.filter((c) => c.method === 'GET' && /\/values\/[^:]+$/.test(c.path))).toHaveLength(0);
  });

  it('are at most 8 on a later run over a sheet that already has its tabs', async () => {
    // Prepare
    environment.sandboxes.sheets?.faults.resetCalls();
    const later = new Date(now.getTime() + 3_600_000);

    // Act
    const result = await runDigestLocally({
      config,
      environment,
      input: {
        pipelineId: pipeline.id,
        trigger: 'schedule',
        scheduleName: 'morning',
        scheduledTime: later.toISOString(),
      },
      executionName: 'sheets-later',
    });

    // Assess
    expect(result.report?.status).toBe('succeeded');
    expect(result.report?.steps.upload?.counts.duplicatesSkipped).toBeGreaterThan(100);
    expect(sheetCalls().length).toBeGreaterThan(0);
    expect(sheetCalls().length).toBeLessThanOrEqual(8);
  });
});
