import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { synthesizeDefinition } from '../../infra/definition';
import { type LocalEnvironment, startLocalEnvironment } from '../../infra/local/environment';
import { runDigestLocally } from '../../infra/local/runner';
import { loadConfigFile } from '../../shared/config/load';
import { MAIN_TAB_HEADERS } from '../../shared/domain/post';

/**
 * The synthesized state machine, run locally over the sandbox channel with the
 * real handlers, real clients, embedded S3/DynamoDB and sandbox servers.
 */
const config = loadConfigFile('digest.config.json');
const pipeline = config.pipelines[0];
if (!pipeline) throw new Error('the sample config has no pipeline');
const now = new Date('2026-11-24T08:00:00.000Z');
let environment: LocalEnvironment;
let definition: object;

beforeAll(async () => {
  environment = await startLocalEnvironment({ config, secretsEnv: {}, now });
  definition = synthesizeDefinition(config).definition;
});
afterAll(async () => {
  await environment?.close();
});

const scheduled = (scheduledTime: string) => ({
  pipelineId: pipeline.id,
  trigger: 'schedule' as const,
  scheduleName: 'morning',
  scheduledTime,
});

function tab(title: string): Record<string, string>[] {
  const rows = environment.sandboxes.sheets?.tab(pipeline?.sheet.spreadsheetId ?? '', title) ?? [];
  const [head = [], ...data] = rows;
  return data.map((r) => Object.fromEntries(head.map((h, i) => [h, r[i] ?? ''])));
}

describe('the daily pipeline, end to end and locally', () => {
  it('puts every kept post in the sheet once, publishes one draft once and archives everything', async () => {
    // Act
    const result = await runDigestLocally({
      config,
      environment,
      definition,
      input: scheduled(now.toISOString()),
      executionName: 'e2e-first',
    });

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(result.report?.status).toBe('succeeded');
    const collect = result.report?.steps.collect?.counts ?? {};
    expect(collect.postsKept).toBeGreaterThan(50);
    expect(collect.malformed).toBeGreaterThan(0);
    expect(result.report?.steps.upload?.counts.rowsAppended).toBe(collect.postsKept);
    const archive = tab(pipeline.sheet.archiveTab);
    expect(archive).toHaveLength(collect.postsKept ?? -1);
    expect(new Set(archive.map((r) => r.message_id)).size).toBe(archive.length);
    expect(archive.every((r) => r.processing_status === 'published' && r.summary !== '')).toBe(true);
    expect(tab(pipeline.sheet.mainTab)).toEqual([]);
    expect(
      environment.sandboxes.sheets?.tab(pipeline.sheet.spreadsheetId, pipeline.sheet.mainTab)?.[0],
    ).toEqual(expect.arrayContaining([...MAIN_TAB_HEADERS]));
    const tweets = environment.sandboxes.x?.tweets() ?? [];
    expect(tweets.length).toBe(result.report?.steps.publish?.counts.partsPublished);
    expect(tweets.length).toBeGreaterThan(0);
    expect(tab(pipeline.sheet.draftsTab)).toMatchObject([{ status: 'published' }]);
  });

  it('a second delivery of the same scheduled run does no work', async () => {
    // Prepare
    const tweetsBefore = environment.sandboxes.x?.tweets().length;

    // Act
    const result = await runDigestLocally({
      config,
      environment,
      definition,
      input: scheduled(now.toISOString()),
      executionName: 'e2e-duplicate',
    });

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(result.report).toBeUndefined();
    expect(environment.sandboxes.x?.tweets().length).toBe(tweetsBefore);
  });

  it('running the same window again appends nothing and publishes nothing', async () => {
    // Prepare
    const tweetsBefore = environment.sandboxes.x?.tweets().length;
    const archivedBefore = tab(pipeline.sheet.archiveTab).length;

    // Act: a later firing whose one-day window still covers every seeded message but the newest minute.
    const result = await runDigestLocally({
      config,
      environment,
      definition,
      input: scheduled('2026-11-24T08:01:00.000Z'),
      executionName: 'e2e-again',
    });

    // Assess
    expect(result.report?.status).toBe('succeeded');
    expect(result.report?.steps.upload?.counts.rowsAppended).toBe(0);
    expect(result.report?.steps.publish?.status).toBe('skipped');
    expect(environment.sandboxes.x?.tweets().length).toBe(tweetsBefore);
    expect(tab(pipeline.sheet.archiveTab)).toHaveLength(archivedBefore);
  });
});
