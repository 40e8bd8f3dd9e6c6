/**
 * Archive and PlanAnalysis over a long main tab (5 MB of rows), through the real
 * SheetStore against the Sheets sandbox: each step reads the tab in one request,
 * its answer parsed as it arrives, and Archive has the server cut and paste the
 * rows, so its move is one small batchUpdate however much the rows hold. Where
 * the move must be split (many scattered runs of rows), each part's row indexes
 * must account for the rows the parts before it deleted and archived: a mistake
 * there archives the wrong rows or deletes rows not covered.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type SheetsSandbox, startSheetsSandbox } from '../../infra/local/sandbox/sheets-server';
import { createGoogleAuth, createSheetStore } from '../../shared/adapters/sheets';
import { ARCHIVE_TAB_HEADERS, DRAFTS_TAB_HEADERS, MAIN_TAB_HEADERS } from '../../shared/domain/post';
import { draftKeyOf, type StoredDraft } from '../../shared/pipeline/analyze';
import { archiveProcessedRows } from '../../shared/pipeline/archive';
import { batchInputKeyOf, type PlannedRow, planRunAnalysis } from '../../shared/pipeline/plan-analysis';
import { type StepInput, succeeded } from '../../shared/pipeline/run-state';
import { FakeObjectStore, testPipeline } from '../support/fakes';
import { runRef } from '../support/harness';

const BOOK = 'sheet-0000000001';
const NOW = '2026-11-24T08:00:00.000Z';
// 5,000 rows of about 1 KB: 5 MB, an answer past the 2 MB a request's payload should keep to.
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

describe('a long main tab', () => {
  it('is archived in one read and one batchUpdate: exactly the covered rows move, once each, with the values the sheet holds', async () => {
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
    // The Drafts tab as a user left it: sorted newest first, so the run's row is not the last.
    sandbox.setTab(BOOK, 'Drafts', [
      [...DRAFTS_TAB_HEADERS],
      ['run-1', NOW, 'd', '1', 'drafted'],
      ['run-0', NOW, 'c', '1', 'published', '1', 'https://x.com/me/status/1'],
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
        publish: succeeded(Date.now(), {}, { postId: '9', postUrl: 'https://x.com/me/status/9' }),
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
    // The run's Drafts row is marked by the move's batchUpdate, under the user's column order.
    expect(sandbox.tab(BOOK, 'Drafts')?.slice(1)).toEqual([
      ['run-1', NOW, 'd', '1', 'published', '9', 'https://x.com/me/status/9'],
      ['run-0', NOW, 'c', '1', 'published', '1', 'https://x.com/me/status/1'],
    ]);
    // One look (no layout handed over here), one read of the key columns and run ids, one move.
    const calls = sandbox.faults.calls.map((c) => `${c.method} ${c.path}`);
    expect(calls.filter((c) => c.endsWith('values:batchGet'))).toHaveLength(1);
    expect(calls.filter((c) => /[^s]:batchUpdate$/.test(c))).toHaveLength(1);
    expect(calls).toHaveLength(3);
  });

  it('is planned from one read: every unanalysed row once, in row order, where it is', async () => {
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
    expect(reads).toHaveLength(1);
    expect(sandbox.faults.calls).toHaveLength(1);
  });

  it('splits a move of many scattered runs into atomic parts; a crash between them loses and repeats nothing', async () => {
    // Prepare: every other row covered, 10,000 runs of one row: more cutPastes than 2 MB holds.
    sandbox = await startSheetsSandbox({ spreadsheets: [BOOK], quotas: false });
    const rows = Array.from({ length: 20_000 }, (_, i) => [idOf(i), `post ${i}`]);
    const headers = ['message_id', 'content'];
    sandbox.setTab(BOOK, 'Posts', [headers, ...rows]);
    sandbox.setTab(BOOK, 'Archive', [[...headers, 'date_processed']]);
    const sheet = createSheetStore({
      spreadsheetId: BOOK,
      auth: createGoogleAuth('token'),
      rootUrl: `${sandbox.url}/`,
      timeoutMs: 10_000,
      retry: { maxAttempts: 1 },
    });
    const moved = rows.map((_, i) => i + 2).filter((n) => n % 2 === 0);
    const move = {
      mainTab: 'Posts',
      mainHeaders: headers,
      archiveTab: 'Archive',
      archiveHeaders: [...headers, 'date_processed'],
      archiveRow: 2,
      rows: moved,
      drop: [],
      stamp: { date_processed: NOW },
    };
    // The second part fails: the first stays done, whole.
    sandbox.faults.add({ kind: 'server-error', method: 'POST', path: /[^s]:batchUpdate$/, nth: 2, times: 5 });

    // Act
    await expect(sheet.moveRows(move)).rejects.toThrow();
    const afterCrash = {
      main: sandbox.tab(BOOK, 'Posts') ?? [],
      archive: sandbox.tab(BOOK, 'Archive') ?? [],
    };
    sandbox.faults.clear();
    // The re-run as Archive makes it: the keys read again, the archived rows only deleted.
    const fresh = createSheetStore({
      spreadsheetId: BOOK,
      auth: createGoogleAuth('token'),
      rootUrl: `${sandbox.url}/`,
      timeoutMs: 10_000,
    });
    const keys = await fresh.readColumn(['Posts', 'Archive'], 'message_id');
    const archived = new Set(keys.get('Archive'));
    const coveredIds = new Set(moved.map((n) => rows[n - 2]?.[0]));
    const mainKeys = keys.get('Posts') ?? [];
    const rest = mainKeys.map((id, i) => ({ id, n: i + 2 })).filter(({ id }) => coveredIds.has(id));
    await fresh.moveRows({
      ...move,
      archiveRow: (keys.get('Archive') ?? []).length + 2,
      rows: rest.filter(({ id }) => !archived.has(id)).map(({ n }) => n),
      drop: rest.filter(({ id }) => archived.has(id)).map(({ n }) => n),
    });

    // Assess
    const partOne = afterCrash.archive.length - 1;
    expect(partOne).toBeGreaterThan(0);
    expect(partOne).toBeLessThan(moved.length);
    expect(afterCrash.main).toHaveLength(1 + rows.length - partOne);
    expect(sandbox.tab(BOOK, 'Posts')).toEqual([headers, ...rows.filter((_, i) => (i + 2) % 2 !== 0)]);
    expect(sandbox.tab(BOOK, 'Archive')).toEqual([
      [...headers, 'date_processed'],
      ...moved.map((n) => [...(rows[n - 2] ?? []), NOW]),
    ]);
  });

  it('pastes each column under the archive column of its name when a user reordered the main tab', async () => {
    // Prepare: the user swapped two columns and added one of their own; the archive has the usual order.
    sandbox = await startSheetsSandbox({ spreadsheets: [BOOK], quotas: false });
    sandbox.setTab(BOOK, 'Posts', [
      ['content', 'note', 'message_id'],
      ['a', 'mine', '1'],
      ['b', 'mine', '2'],
      ['c', '', '3'],
    ]);
    sandbox.setTab(BOOK, 'Archive', [
      ['message_id', 'content', 'processing_status'],
      ['0', 'z', 'published'],
      ['', 'a note the user keeps below the last message', ''],
    ]);
    const sheet = createSheetStore({
      spreadsheetId: BOOK,
      auth: createGoogleAuth('token'),
      rootUrl: `${sandbox.url}/`,
      timeoutMs: 10_000,
    });

    // Act
    await sheet.moveRows({
      mainTab: 'Posts',
      mainHeaders: ['content', 'note', 'message_id'],
      archiveTab: 'Archive',
      archiveHeaders: ['message_id', 'content', 'processing_status'],
      archiveRow: 3,
      rows: [2, 4],
      drop: [3],
      stamp: { processing_status: 'published', x_post_url: 'not a column there' },
    });

    // Assess: the rows go in before the user's note, which is pushed down, not pasted over.
    expect(sandbox.tab(BOOK, 'Posts')).toEqual([['content', 'note', 'message_id']]);
    expect(sandbox.tab(BOOK, 'Archive')).toEqual([
      ['message_id', 'content', 'processing_status'],
      ['0', 'z', 'published'],
      ['1', 'a', 'published'],
      ['3', 'c', 'published'],
      ['', 'a note the user keeps below the last message', ''],
    ]);
  });
});
