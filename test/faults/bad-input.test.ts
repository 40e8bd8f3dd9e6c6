import { describe, expect, it } from 'vitest';
import { MAIN_TAB_HEADERS } from '../../shared/domain/post';
import { assertNothingLostOrDoubled, pipeline, runOnce, tally, withEnvironment } from './harness';

describe('answers that break the contract', () => {
  it.each([
    ['not JSON', 'Sure! Here are the summaries you asked for:', 'STOP'],
    ['JSON of the wrong shape', '{"summaries": 3}', 'STOP'],
    ['empty because thinking used the budget', '', 'MAX_TOKENS'],
  ])(
    'Gemini answering %s: analysis fails cleanly, nothing published or lost, a resume finishes',
    async (_l, text, reason) => {
      await withEnvironment(async (env) => {
        // Prepare
        env.sandboxes.gemini?.queueAnswer(text, reason);
        tally.scenarios += 1;

        // Act
        const first = await runOnce(env);
        const resumed = await runOnce(env, { resume: true });

        // Assess
        expect(first.report?.status).toBe('partial');
        expect(first.report?.steps.analyze?.error?.name).toBe('InvalidResponseError');
        expect(first.report?.steps.publish?.status).toBe('skipped');
        expect(first.report?.steps.archive?.status).toBe('skipped');
        expect(resumed.report?.status).toBe('succeeded');
        await assertNothingLostOrDoubled(env);
      });
    },
  );
});

describe('a sheet edited by hand', () => {
  it('moved columns, an extra column and blank rows are respected', async () => {
    await withEnvironment(async (env) => {
      // Prepare: a person reordered the main tab, added a notes column and left blank rows.
      const headers = ['notes', ...[...MAIN_TAB_HEADERS].reverse()];
      const handRow = headers.map((h) => (h === 'notes' ? 'keep me' : ''));
      env.sandboxes.sheets?.setTab(pipeline.sheet.spreadsheetId, pipeline.sheet.mainTab, [
        headers,
        [],
        handRow,
        [],
      ]);
      tally.scenarios += 1;

      // Act
      const result = await runOnce(env);

      // Assess
      expect(result.report?.status).toBe('succeeded');
      const rows = env.sandboxes.sheets?.tab(pipeline.sheet.spreadsheetId, pipeline.sheet.mainTab) ?? [];
      expect(rows[0]).toEqual(headers);
      // The hand-made row is not the run's: it stays, untouched.
      expect(rows.some((r) => r[0] === 'keep me')).toBe(true);
      await assertNothingLostOrDoubled(env);
    });
  });
});
