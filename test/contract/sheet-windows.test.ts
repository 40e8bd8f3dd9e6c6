/**
 * Archive and PlanAnalysis over a main tab longer than one read window, through
 * the real SheetStore against the Sheets sandbox: the tab is read a window at a
 * time and the move is sent a 2 MB chunk at a time, interleaved, so the row
 * numbers of each later window must account for the rows the chunks before it
 * deleted. A mistake there archives the wrong rows or deletes rows not covered.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type SheetsSandbox, startSheetsSandbox } from '../../infra/local/sandbox/sheets-server';
import { createGoogleAuth, createSheetStore } from '../../shared/adapters/sheets';
import { ARCHIVE_TAB_HEADERS, MAIN_TAB_HEADERS } from '../../shared/domain/post';
import { draftKeyOf, type StoredDraft } from '../../shared/pipeline/analyze';
import { archiveProcessedRows } from '../../shared/pipeline/archive';
import { batchInputKeyOf, type PlannedRow, planRunAnalysis } from '../../shared/pipeline/plan-analysis';
import { type StepInput, succeeded } from '../../shared/pipeline/run-state';
import { FakeObjectStore, testPipeline } from '../support/fakes';
import { runRef } from '../support/harness';

const BOOK = 'sheet-0000000001';
const NOW = '2026-11-24T08:00:00.000Z';
// 5,000 rows of about 1 KB: 5 MB, past the first window of 2,000 rows and past two 2 MB move requests.
const ROWS = 5_000;

let sandbox: SheetsSandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

const idOf = (i: number) => String(1_300_000_000_000_000_000n + BigInt(i));

/** A main-tab row in MAIN_TAB_HEADERS' order; every third one not analysed yet. */
function mainRow(i: number): string[] {
  const analysed = i % 3 !== 0;
  return [
    idOf(i),
    '2026-11-24',
    '07:00:00',
    `post ${i} ${'x'.repeat(900)}`,
    `https://x.com/a/status/${i + 1}`,
    `author${i}`,
    `https://discord.com/users/${i}`,
    analysed ? 'yes' : '',
    analysed ? String(i % 5 === 0) : '',
    analysed ? `@p${i}` : '',
    analysed ? `https://x.com/p${i}` : '',
    analysed ? `summary ${i}` : '',
    'run-0',
  ];
}

async function world() {
  sandbox = await startSheetsSandbox({ spreadsheets: [BOOK], quotas: false });
  const rows = Array.from({ length: ROWS }, (_, i) => mainRow(i));
  sandbox.setTab(BOOK, 'Posts', [[...MAIN_TAB_HEADERS], ...rows]);
  const sheet = createSheetStore({
    spreadsheetId: BOOK,
    auth: createGoogleAuth('token'),
    rootUrl: `${sandbox.url}/`,
    timeoutMs: 10_000,
  });
  return { sandbox, sheet, rows };
}

describe('a main tab longer than a read window', () => {
  it('is archived window by window: exactly the covered rows move, once each, with the values the sheet holds', async () => {
    // Prepare
    const { sandbox, sheet, rows } = await world();
    // A user's edit after the write-back: the archive must carry it.
    const edited = rows[4_321];
    if (!edited) throw new Error('no row');
    edited[11] = 'edited by hand';
    sandbox.setTab(BOOK, 'Posts', [[...MAIN_TAB_HEADERS], ...rows]);
    // Ten rows an interrupted earlier move archived without deleting them.
    sandbox.setTab(BOOK, 'Archive', [
      [...ARCHIVE_TAB_HEADERS],
      ...rows.slice(0, 10).map((r) => [...r, 'earlier', '', 'published']),
    ]);
    const covered = rows.filter((_, i) => i % 7 !== 3).map((r) => r[0] ?? '');
    const store = new FakeObjectStore();
    const draft: StoredDraft = {
      runId: 'run-1',
      createdAt: NOW,
      draft: 'd',
      parts: ['d'],
      messageIds: covered,
    };
    await store.putIfAbsent(draftKeyOf('demo', 'run-1'), JSON.stringify(draft), 'application/json');
    const input: StepInput = {
      run: runRef('run-1', NOW),
      steps: {
        analyze: succeeded(Date.now(), {}),
        publish: succeeded(Date.now(), {}, { postUrl: 'https://x.com/me/status/9' }),
      },
    };
    sandbox.faults.resetCalls();

    // Act
    const record = await archiveProcessedRows(
      { pipeline: testPipeline(), store, sheet, now: () => new Date(NOW), log: () => undefined },
      input,
    );

    // Assess
    expect(record.status).toBe('succeeded');
    expect(record.counts.rowsArchived).toBe(covered.length);
    // Row 5 (i = 3) is one the draft does not cover: 9 of the 10 were archived before.
    expect(record.counts.alreadyInArchive).toBe(9);
    expect(sandbox.tab(BOOK, 'Posts')).toEqual([
      [...MAIN_TAB_HEADERS],
      ...rows.filter((_, i) => i % 7 === 3),
    ]);
    const archive = (sandbox.tab(BOOK, 'Archive') ?? []).slice(1);
    const fresh = rows.filter((_, i) => i >= 10 && i % 7 !== 3);
    expect(archive.map((r) => r[0])).toEqual([...rows.slice(0, 10), ...fresh].map((r) => r[0]));
    expect(archive.slice(10)).toEqual(
      fresh.map((r) => [...r, NOW, 'https://x.com/me/status/9', 'published']),
    );
    expect(archive.find((r) => r[0] === idOf(4_321))?.[11]).toBe('edited by hand');
    // Read in windows and moved in chunks, interleaved: more than one of each was needed.
    const calls = sandbox.faults.calls.map((c) => `${c.method} ${c.path}`);
    expect(calls.filter((c) => c.endsWith('values:batchGet')).length).toBeGreaterThan(1);
    expect(calls.filter((c) => /[^s]:batchUpdate$/.test(c)).length).toBeGreaterThan(1);
  });

  it('is planned window by window: every unanalysed row once, in row order, where it is', async () => {
    // Prepare
    const { sandbox, sheet, rows } = await world();
    const store = new FakeObjectStore();
    sandbox.faults.resetCalls();

    // Act
    const answer = await planRunAnalysis(
      { pipeline: testPipeline(), sheet, store, log: () => undefined },
      { run: runRef('run-1', NOW), steps: {} },
    );

    // Assess
    const planned: PlannedRow[] = [];
    for (const batch of answer.items.flat()) {
      const text = await store.getText(batchInputKeyOf('demo', 'run-1', answer.round, batch));
      planned.push(...(JSON.parse(text ?? '[]') as PlannedRow[]));
    }
    const pending = rows.map((r, i) => ({ r, row: i + 2 })).filter(({ r }) => r[7] !== 'yes');
    expect(planned.map((p) => p.rowNumber)).toEqual(pending.map((p) => p.row));
    expect(planned.map((p) => p.messageId)).toEqual(pending.map((p) => p.r[0]));
    expect(planned.every((p) => p.content === rows[p.rowNumber - 2]?.[3])).toBe(true);
    expect(answer.posts).toBe(pending.length);
    expect(answer.items.flat()).toHaveLength(Math.ceil(pending.length / 100));
    const reads = sandbox.faults.calls.filter((c) => c.path.endsWith('values:batchGet'));
    expect(reads.length).toBeGreaterThan(1);
  });
});
