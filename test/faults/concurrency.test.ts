import { describe, expect, it } from 'vitest';
import { createDynamoDocumentClient } from '../../shared/adapters/aws-clients';
import { createRunLedger } from '../../shared/adapters/dynamo-ledger';
import { assertNothingLostOrDoubled, pipeline, RUN_ID, runOnce, tally, withEnvironment } from './harness';

describe('concurrent starts', () => {
  it('10 executions of one run id: exactly one does the work, the rest are duplicates', async () => {
    await withEnvironment(async (env) => {
      // Act
      const results = await Promise.all(Array.from({ length: 10 }, () => runOnce(env)));

      // Assess
      const worked = results.filter((r) => r.report !== undefined);
      expect(worked).toHaveLength(1);
      expect(worked[0]?.report?.status).toBe('succeeded');
      const ledger = createRunLedger({ client: createDynamoDocumentClient(), tableName: env.aws.table });
      const runs = await ledger.listRuns(pipeline.id, 50);
      expect(runs.filter((r) => r.status === 'duplicate')).toHaveLength(9);
      await assertNothingLostOrDoubled(env, RUN_ID);
      tally.scenarios += 1;
      console.log(`concurrent starts of one run id: 10, did work: ${worked.length}`);
    });
  });

  it('10 overlapping runs of one pipeline: exactly one works, the rest are skipped as overlapping', async () => {
    await withEnvironment(async (env) => {
      // Act
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => runOnce(env, { runId: `overlap-${i}` })),
      );

      // Assess
      const worked = results.filter((r) => r.report !== undefined);
      expect(worked).toHaveLength(1);
      const ledger = createRunLedger({ client: createDynamoDocumentClient(), tableName: env.aws.table });
      const runs = await ledger.listRuns(pipeline.id, 50);
      const skipped = runs.filter((r) => r.status === 'skipped');
      expect(skipped).toHaveLength(9);
      expect(skipped.every((r) => r.reason?.startsWith('overlapping'))).toBe(true);
      expect(runs.some((r) => r.status === 'running')).toBe(false);
      await assertNothingLostOrDoubled(env, worked[0]?.report?.runId);
      tally.scenarios += 1;
      console.log(`overlapping starts of one pipeline: 10, did work: ${worked.length}`);
    });
  });
});
