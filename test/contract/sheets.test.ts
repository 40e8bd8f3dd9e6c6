/**
 * @googleapis/sheets and our SheetStore against the Sheets sandbox: the
 * per-minute read and write quotas per user and per project, the 429 Google
 * sends, the adapter's truncated exponential backoff within the Lambda's
 * share of time, and writes whose answer was lost. The sandbox's clock is a
 * variable; the adapter's sleep moves it, so nothing waits for real.
 */
import { auth, sheets as sheetsApi } from '@googleapis/sheets';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type SheetsSandbox,
  sheetsLatencyMs,
  startSheetsSandbox,
} from '../../infra/local/sandbox/sheets-server';
import type { RetryOptions } from '../../shared/adapters/retry';
import { createGoogleAuth, createSheetStore, quotaBackoffMs } from '../../shared/adapters/sheets';
import { PermanentError, RateLimitedError, UnknownOutcomeError } from '../../shared/errors';
import type { QuotaUse } from '../../shared/ports';

const BOOK = 'book-1';
// Thirty seconds into a minute: the quota refills in 30 s.
const START = Date.parse('2026-11-24T10:00:30Z');

/** Rows of the two-column Posts tab moved to an archive tab of the same columns, nothing stamped. */
const postsMove = (archiveTab: string, archiveRow: number, rows: number[]) => ({
  mainTab: 'Posts',
  mainHeaders: ['message_id', 'content'],
  archiveTab,
  archiveHeaders: ['message_id', 'content'],
  archiveRow,
  rows,
  drop: [],
  stamp: {},
});

let sandbox: SheetsSandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

async function world(quotas?: Parameters<typeof startSheetsSandbox>[0]['quotas'], cellLimit?: number) {
  const clock = { now: START };
  sandbox = await startSheetsSandbox({
    spreadsheets: [BOOK],
    now: () => clock.now,
    ...(quotas !== undefined ? { quotas } : {}),
    ...(cellLimit !== undefined ? { cellLimit } : {}),
  });
  sandbox.setTab(BOOK, 'Posts', [['message_id', 'content']]);
  const url = `${sandbox.url}/`;
  const sleeps: number[] = [];
  const store = (retry: Partial<RetryOptions> = {}, token = 'user-a') =>
    createSheetStore({
      spreadsheetId: BOOK,
      auth: createGoogleAuth(token),
      rootUrl: url,
      timeoutMs: 1_000,
      retry: {
        random: () => 0.5,
        sleep: async (ms) => {
          sleeps.push(ms);
          clock.now += ms;
        },
        ...retry,
      },
    });
  const raw = (token = 'user-a') => googleClient(url, token);
  const append = (token = 'user-a') =>
    raw(token).spreadsheets.values.append(
      {
        spreadsheetId: BOOK,
        range: 'Posts!A1',
        valueInputOption: 'RAW',
        requestBody: { values: [['1', 'x']] },
      },
      { retry: false },
    );
  const read = (token = 'user-a') =>
    raw(token).spreadsheets.values.get({ spreadsheetId: BOOK, range: 'Posts' }, { retry: false });
  return { clock, sandbox, store, append, read, sleeps };
}

const statusOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 200,
    (e: { status?: number }) => e.status,
  );

/** Google's own client, as a second caller of the sandbox (its auth class, not the store's). */
function googleClient(rootUrl: string, token = 'user-a') {
  const client = new auth.OAuth2();
  client.setCredentials({ access_token: token });
  return sheetsApi({ version: 'v4', auth: client, rootUrl });
}

describe('quotas', () => {
  it('allows 60 writes a minute per user, then answers 429 RESOURCE_EXHAUSTED naming the quota', async () => {
    // Prepare
    const { append, read } = await world();
    for (let i = 0; i < 60; i++) await append();

    // Act
    const error = await append().catch(
      (e: { status?: number; message: string; response?: { data: unknown } }) => e,
    );
    const readStatus = await statusOf(read());

    // Assess
    expect(error).toMatchObject({ status: 429 });
    expect((error as { message: string }).message).toBe(
      "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute per user' of service 'sheets.googleapis.com' for consumer 'project_number:000000000000'.",
    );
    expect((error as { response: { data: unknown } }).response.data).toMatchObject({
      error: {
        code: 429,
        status: 'RESOURCE_EXHAUSTED',
        details: [
          {
            reason: 'RATE_LIMIT_EXCEEDED',
            metadata: { quota_limit: 'WriteRequestsPerMinutePerUser', quota_limit_value: '60' },
          },
          { '@type': 'type.googleapis.com/google.rpc.Help' },
        ],
      },
    });
    expect(readStatus).toBe(200);
  });

  it('allows 60 reads a minute per user, and refills at the next minute', async () => {
    // Prepare
    const { read, clock } = await world();
    for (let i = 0; i < 60; i++) await read();

    // Act
    const over = await statusOf(read());
    clock.now += 30_000;
    const nextMinute = await statusOf(read());

    // Assess
    expect(over).toBe(429);
    expect(nextMinute).toBe(200);
  });

  it('holds all users together to the per-project quota', async () => {
    // Prepare
    const { append } = await world({ writesPerMinutePerUser: 2, perMinutePerProject: 3 });
    await append('user-a');
    await append('user-a');

    // Act
    const userOver = await append('user-a').catch((e: Error) => e.message);
    const otherUser = await statusOf(append('user-b'));
    const projectOver = await append('user-b').catch((e: Error) => e.message);

    // Assess
    expect(userOver).toContain("limit 'Write requests per minute per user'");
    expect(otherUser).toBe(200);
    expect(projectOver).toContain("limit 'Write requests per minute' of service");
  });
});

describe('the adapter under a quota', () => {
  it('backs off exponentially with jitter (1 s, 2 s, 4 s, … plus up to 1 s) until the minute refills', async () => {
    // Prepare
    const { store, sandbox, sleeps } = await world({ writesPerMinutePerUser: 1 });
    await store().appendRows('Posts', ['message_id', 'content'], [{ message_id: '1', content: 'a' }]);

    // Act
    await store().appendRows('Posts', ['message_id', 'content'], [{ message_id: '2', content: 'b' }]);

    // Assess
    expect(sleeps).toEqual([1_500, 2_500, 4_500, 8_500, 16_500]);
    expect(sandbox.tab(BOOK, 'Posts')?.map((r) => r[0])).toEqual(['message_id', '1', '2']);
  });

  it('hands a wait longer than the Lambda may spend back as RateLimitedError', async () => {
    // Prepare
    const { store, sandbox, sleeps } = await world({ writesPerMinutePerUser: 1 });
    await store().appendRows('Posts', ['message_id'], [{ message_id: '1' }]);
    const calls = sandbox.faults.calls.length;

    // Act
    const error = await store({ maxWaitMs: 5_000 })
      .appendRows('Posts', ['message_id'], [{ message_id: '2' }])
      .catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAfterMs).toBe(8_500);
    expect((error as Error).message).toContain('Write requests per minute per user');
    expect(sleeps).toEqual([1_500, 2_500, 4_500]);
    expect(sandbox.faults.calls.length - calls).toBe(4);
  });

  it('counts its own requests per minute against the 60 a user may send (Sheets sends no quota headers); a 429 is the quota used up', async () => {
    // Prepare
    const { clock, sandbox: server } = await world({ writesPerMinutePerUser: 2 });
    const uses: QuotaUse[] = [];
    const store = (maxWaitMs: number) =>
      createSheetStore({
        spreadsheetId: BOOK,
        auth: createGoogleAuth('user-a'),
        rootUrl: `${server.url}/`,
        timeoutMs: 1_000,
        now: () => clock.now,
        retry: {
          random: () => 0.5,
          maxWaitMs,
          sleep: async (ms) => {
            clock.now += ms;
          },
        },
        onQuota: (use) => uses.push(use),
      });
    const writes = () => uses.filter((u) => u.quota === 'writes-per-minute').map((u) => u.used);
    // One store per invocation, as the steps build it: its count is its own.
    const upload = store(5_000);
    await upload.appendRows('Posts', ['message_id'], [{ message_id: '1' }]);
    await upload.appendRows('Posts', ['message_id'], [{ message_id: '2' }]);
    const counted = writes();

    // Act: the third write of the minute, by another invocation, is refused
    await store(1_000)
      .appendRows('Posts', ['message_id'], [{ message_id: '3' }])
      .catch(() => undefined);

    // Assess
    expect(counted).toEqual([1, 2]);
    expect(uses.filter((u) => u.quota === 'writes-per-minute').at(-1)).toEqual({
      api: 'sheets',
      quota: 'writes-per-minute',
      used: 60,
      limit: 60,
    });
    expect(uses.every((u) => u.limit === 60)).toBe(true);
  });

  it('never waits more than about a minute at once', () => {
    // Act
    const waits = [0, 1, 5, 6, 10].map((n) => quotaBackoffMs(n, 1_000, () => 0.999));

    // Assess
    expect(waits).toEqual([1_999, 2_999, 32_999, 64_000, 64_000]);
  });

  it('a write whose answer was lost is an UnknownOutcomeError, never repeated', async () => {
    // Prepare
    const { store, sandbox } = await world();
    sandbox.faults.add({ kind: 'drop-after-effect', method: 'POST' });
    const calls = sandbox.faults.calls.length;

    // Act
    const error = await store()
      .appendRows('Posts', ['message_id'], [{ message_id: '7' }])
      .catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(UnknownOutcomeError);
    expect(sandbox.faults.calls.length - calls).toBe(1);
    expect(sandbox.tab(BOOK, 'Posts')?.map((r) => r[0])).toEqual(['message_id', '7']);
  });
});

describe('the cell limit', () => {
  it('refuses a write that would take the spreadsheet past its cells, naming the request', async () => {
    // Prepare: Sheet1 and Posts take 1000 × 26 cells each; a third tab would not fit.
    const { store, append } = await world(undefined, 60_000);

    // Act
    const addSheet = await store()
      .ensureTab('Archive', ['message_id'])
      .catch((e: Error) => e);
    const appendStatus = await statusOf(append());

    // Assess
    expect(addSheet).toBeInstanceOf(PermanentError);
    expect((addSheet as Error).message).toContain(
      'Invalid requests[0].addSheet: This action would increase the number of cells in the workbook above the limit of 60000 cells.',
    );
    expect(appendStatus).toBe(200);
  });
});

describe('realistic latency', () => {
  it('answers a read in a few hundred ms and a write in under a second', () => {
    // Prepare
    const base = { path: '/v4/spreadsheets/b/values/Posts', query: new URLSearchParams(), headers: {} };

    // Act
    const readMs = sheetsLatencyMs({ ...base, method: 'GET', body: undefined });
    const writeMs = sheetsLatencyMs({ ...base, method: 'POST', body: { values: Array(100).fill(['x']) } });

    // Assess
    expect(readMs).toBeGreaterThanOrEqual(100);
    expect(readMs).toBeLessThan(1_000);
    expect(writeMs).toBeGreaterThan(readMs);
    expect(writeMs).toBeLessThan(2_000);
  });
});

describe('the fewest requests', () => {
  it('creates missing tabs with their header rows in one batchUpdate and reads nothing of them', async () => {
    // Prepare
    const { sandbox, store } = await world(false);
    const sheet = store();
    sandbox.faults.resetCalls();

    // Act
    await sheet.layout();
    const opened = await sheet.openTabs(
      [
        { tab: 'Archive 2026-12', headers: ['message_id', 'summary'] },
        { tab: 'Drafts', headers: ['run_id', 'status'] },
      ],
      { columns: [{ tab: 'Archive 2026-12', header: 'message_id' }] },
    );

    // Assess: one look, no read (nothing to read in new tabs), one write.
    expect(sandbox.faults.calls.map((c) => c.method)).toEqual(['GET', 'POST']);
    expect(opened.columns.get('Archive 2026-12')).toEqual([]);
    expect(sandbox.tab(BOOK, 'Drafts')).toEqual([['run_id', 'status']]);
    expect(sandbox.tab(BOOK, 'Archive 2026-12')).toEqual([['message_id', 'summary']]);
  });

  it('reads a key column in the same batchGet as its header row, and once more only when the user moved it', async () => {
    // Prepare: the user put a column of their own before message_id.
    const { sandbox, store } = await world(false);
    sandbox.setTab(BOOK, 'Archive', [
      ['note', 'message_id'],
      ['mine', '11'],
      ['', '12'],
    ]);
    sandbox.faults.resetCalls();

    // Act
    const inPlace = await store().openTabs([{ tab: 'Posts', headers: ['message_id', 'content'] }], {
      columns: [{ tab: 'Posts', header: 'message_id' }],
    });
    const readInPlace = sandbox.faults.calls.length;
    const moved = await store().readColumn(['Archive'], 'message_id');

    // Assess
    expect(inPlace.columns.get('Posts')).toEqual([]);
    expect(readInPlace).toBe(1);
    expect(moved.get('Archive')).toEqual(['11', '12']);
    expect(sandbox.faults.calls.length - readInPlace).toBe(2);
  });

  it('moves rows to an archive tab it adds in the same atomic batchUpdate, deleting adjacent rows as one span', async () => {
    // Prepare
    const { sandbox, store } = await world(false);
    sandbox.setTab(BOOK, 'Posts', [
      ['message_id', 'content'],
      ['1', 'a'],
      ['2', 'b'],
      ['3', 'c'],
      ['4', 'd'],
    ]);
    const sheet = store();
    await sheet.layout();
    sandbox.faults.resetCalls();

    // Act
    await sheet.moveRows(postsMove('Archive 2026-12', 2, [2, 3, 5]));

    // Assess
    expect(sandbox.faults.calls).toHaveLength(1);
    expect(sandbox.tab(BOOK, 'Posts')).toEqual([
      ['message_id', 'content'],
      ['3', 'c'],
    ]);
    expect(sandbox.tab(BOOK, 'Archive 2026-12')).toEqual([
      ['message_id', 'content'],
      ['1', 'a'],
      ['2', 'b'],
      ['4', 'd'],
    ]);
  });

  it("refuses a cutPaste, repeatCell or insertDimension past the grid with Google's 400, changing nothing", async () => {
    // Prepare: a new tab's grid is 1000 rows × 26 columns.
    const { sandbox } = await world(false);
    const raw = () => googleClient(`${sandbox.url}/`);
    sandbox.setTab(BOOK, 'Posts', [
      ['message_id', 'content'],
      ['1', 'a'],
    ]);
    const before = sandbox.tab(BOOK, 'Posts');
    const layout = await raw().spreadsheets.get({ spreadsheetId: BOOK });
    const sheetId =
      layout.data.sheets?.find((t) => t.properties?.title === 'Posts')?.properties?.sheetId ?? -1;
    const send = (requests: object[]) =>
      raw().spreadsheets.batchUpdate({ spreadsheetId: BOOK, requestBody: { requests } });
    const cut = {
      cutPaste: {
        source: { sheetId, startRowIndex: 1, endRowIndex: 2, startColumnIndex: 0, endColumnIndex: 2 },
        destination: { sheetId, rowIndex: 1000, columnIndex: 0 },
        pasteType: 'PASTE_NORMAL',
      },
    };

    // Act
    const pasted = send([cut]).catch((e: Error) => e.message);
    const repeated = send([
      {
        repeatCell: {
          range: { sheetId, startRowIndex: 0, endRowIndex: 1, startColumnIndex: 26, endColumnIndex: 27 },
          cell: { userEnteredValue: { stringValue: 'x' } },
          fields: 'userEnteredValue',
        },
      },
    ]).catch((e: Error) => e.message);
    const inserted = send([
      { insertDimension: { range: { sheetId, dimension: 'ROWS', startIndex: 1000, endIndex: 1001 } } },
    ]).catch((e: Error) => e.message);
    // Grown first, the same paste fits: the request before it in the batch counts.
    await send([{ appendDimension: { sheetId, dimension: 'ROWS', length: 1 } }, cut]);

    // Assess
    expect(await pasted).toBe(
      "Invalid requests[0].cutPaste: Range ('Posts'!A1001:B1001) exceeds grid limits. Max rows: 1000, max columns: 26",
    );
    expect(await repeated).toMatch(/^Invalid requests\[0\]\.repeatCell: Range .* exceeds grid limits/);
    expect(await inserted).toMatch(/^Invalid requests\[0\]\.insertDimension: Range .* exceeds grid limits/);
    expect(before).toEqual([
      ['message_id', 'content'],
      ['1', 'a'],
    ]);
    const after = sandbox.tab(BOOK, 'Posts') ?? [];
    expect(after[1]).toEqual(['', '']);
    expect(after[1000]).toEqual(['1', 'a']);
  });

  it('moves rows again after a look when the handed-over layout promised a grid the archive no longer has', async () => {
    // Prepare: Upload's layout said the archive has 5000 rows; a user has since cut it to its 2.
    const { sandbox, store } = await world(false);
    sandbox.setTab(BOOK, 'Posts', [
      ['message_id', 'content'],
      ['2', 'b'],
    ]);
    sandbox.setTab(BOOK, 'Archive', [
      ['message_id', 'content'],
      ['1', 'a'],
    ]);
    const sheet = store();
    const real = await sheet.layoutOf(BOOK);
    const stale = {
      ...real,
      tabs: real.tabs.map((t) => (t.title === 'Archive' ? { ...t, rowCount: 5000 } : t)),
    };
    const cutTo2 = await sheet.layoutOf(BOOK);
    const archiveId = cutTo2.tabs.find((t) => t.title === 'Archive')?.sheetId ?? -1;
    await googleClient(`${sandbox.url}/`).spreadsheets.batchUpdate({
      spreadsheetId: BOOK,
      requestBody: {
        requests: [
          {
            deleteDimension: {
              range: { sheetId: archiveId, dimension: 'ROWS', startIndex: 2, endIndex: 1000 },
            },
          },
        ],
      },
    });
    const fresh = store();
    await fresh.layout(stale);
    sandbox.faults.resetCalls();

    // Act
    await fresh.moveRows(postsMove('Archive', 3, [2]));

    // Assess: refused (nothing happened), a look, then the move with appendDimension.
    expect(sandbox.faults.calls.map((c) => c.method)).toEqual(['POST', 'GET', 'POST']);
    expect(sandbox.tab(BOOK, 'Posts')).toEqual([['message_id', 'content']]);
    expect(sandbox.tab(BOOK, 'Archive')).toEqual([
      ['message_id', 'content'],
      ['1', 'a'],
      ['2', 'b'],
    ]);
  });

  it('splits a write larger than the 2 MB payload recommendation, and only then', async () => {
    // Prepare: 3,000 rows of 1 KB are about 3 MB.
    const { sandbox, store } = await world(false);
    const rows = Array.from({ length: 3000 }, (_, i) => ({
      message_id: String(i),
      content: 'x'.repeat(1000),
    }));
    sandbox.faults.resetCalls();

    // Act
    await store().appendRows('Posts', ['message_id', 'content'], rows);

    // Assess
    expect(sandbox.faults.calls.filter((c) => c.method === 'POST')).toHaveLength(2);
    expect(sandbox.tab(BOOK, 'Posts')).toHaveLength(3001);
  });
});

describe('the write-back', () => {
  /** The values:batchUpdate bodies the store sends, as it sends them. */
  function sentWrites() {
    const bodies: { data: { range: string; values: string[][] }[] }[] = [];
    const sizes: number[] = [];
    const real = globalThis.fetch;
    vi.spyOn(globalThis, 'fetch').mockImplementation(async (url, init) => {
      if (String(url).includes('values:batchUpdate') && typeof init?.body === 'string') {
        bodies.push(JSON.parse(init.body));
        sizes.push(Buffer.byteLength(init.body));
      }
      return real(url, init);
    });
    return { bodies, sizes };
  }
  afterEach(() => {
    vi.restoreAllMocks();
  });
  const headers = ['message_id', 'content', 'summary', 'run_id'];
  const seedRows = (n: number) =>
    sandbox?.setTab(BOOK, 'Posts', [headers, ...Array.from({ length: n }, (_, i) => [String(i), 'c'])]);

  it('is one range per block of adjacent rows, not one per row', async () => {
    // Prepare
    const { store } = await world(false);
    seedRows(3000);
    const sent = sentWrites();
    const writer = store().cellWriter();

    // Act: rows 2 to 1501, a row left out, then 1503 to 3001.
    for (let row = 2; row <= 3001; row++) {
      if (row === 1502) continue;
      await writer.write('Posts', headers, { rowNumber: row, values: { summary: `s${row}`, run_id: 'r1' } });
    }
    await writer.close();

    // Assess
    expect(sent.bodies.map((b) => b.data.map((d) => d.range))).toEqual([
      ["'Posts'!C2:D1501", "'Posts'!C1503:D3001"],
    ]);
    const tab = sandbox?.tab(BOOK, 'Posts') ?? [];
    expect(tab[1]).toEqual(['0', 'c', 's2', 'r1']);
    expect(tab[1500]).toEqual(['1499', 'c', 's1501', 'r1']);
    expect(tab[1501]).toEqual(['1500', 'c']);
    expect(tab[3000]).toEqual(['2999', 'c', 's3001', 'r1']);
  });

  it('splits a block at the 2 MB payload recommendation, every row written once', async () => {
    // Prepare: 3,000 summaries of 1 KB are about 3 MB.
    const { store } = await world(false);
    seedRows(3000);
    const sent = sentWrites();

    // Act
    await store().updateTabs([
      {
        tab: 'Posts',
        headers,
        updates: Array.from({ length: 3000 }, (_, i) => ({
          rowNumber: i + 2,
          values: { summary: `${i}`.padEnd(1000, 'x') },
        })),
      },
    ]);

    // Assess
    expect(sent.sizes).toHaveLength(2);
    for (const size of sent.sizes) expect(size).toBeLessThanOrEqual(2_000_000);
    const ranges = sent.bodies.flatMap((b) => b.data.map((d) => d.range));
    expect(ranges).toHaveLength(2);
    expect(ranges[0]).toMatch(/^'Posts'!C2:C\d+$/);
    const tab = sandbox?.tab(BOOK, 'Posts') ?? [];
    expect(tab.slice(1).map((r) => r[2]?.slice(0, 4).replace(/x+$/, ''))).toEqual(
      Array.from({ length: 3000 }, (_, i) => `${i}`.slice(0, 4)),
    );
  });
});

describe('moving a month tab to the archive spreadsheet', () => {
  const ARCHIVE_BOOK = 'book-archive';
  const OCTOBER = [
    ['message_id', 'content'],
    ['1', 'a'],
    ['2', 'b'],
  ];

  async function twoBooks() {
    sandbox = await startSheetsSandbox({ spreadsheets: [BOOK, ARCHIVE_BOOK], quotas: false });
    sandbox.setTab(BOOK, 'Archive 2026-10', OCTOBER);
    sandbox.setTab(BOOK, 'Archive 2026-11', [['message_id', 'content']]);
    const url = `${sandbox.url}/`;
    const sheet = createSheetStore({ spreadsheetId: BOOK, auth: createGoogleAuth('user-a'), rootUrl: url });
    const raw = googleClient(url);
    return { sandbox, sheet, raw };
  }
  const titles = async (s: ReturnType<typeof createSheetStore>, id: string) =>
    (await s.layoutOf(id)).tabs.map((t) => t.title);

  it('copies the tab there under its own title, then deletes it here', async () => {
    // Prepare
    const { sandbox, sheet } = await twoBooks();

    // Act
    await sheet.transferTab('Archive 2026-10', ARCHIVE_BOOK);

    // Assess
    expect(sandbox.tab(ARCHIVE_BOOK, 'Archive 2026-10')).toEqual(OCTOBER);
    expect(sandbox.tab(BOOK, 'Archive 2026-10')).toBeUndefined();
    expect(await titles(sheet, ARCHIVE_BOOK)).toEqual(['Sheet1', 'Archive 2026-10']);
    // A look here, a look there, the copy, its rename, the delete.
    expect(sandbox.faults.calls.map((c) => c.method)).toEqual(['GET', 'GET', 'POST', 'POST', 'POST', 'GET']);
    expect((await sheet.layout()).tabs.map((t) => t.title)).not.toContain('Archive 2026-10');
  });

  it('takes over the copy a transfer stopped before its rename left, instead of copying again', async () => {
    // Prepare: the copy was made, and the answer lost before the rename.
    const { sandbox, sheet, raw } = await twoBooks();
    await raw.spreadsheets.sheets.copyTo({
      spreadsheetId: BOOK,
      sheetId: (await sheet.layout()).tabs.find((t) => t.title === 'Archive 2026-10')?.sheetId ?? -1,
      requestBody: { destinationSpreadsheetId: ARCHIVE_BOOK },
    });
    expect(await titles(sheet, ARCHIVE_BOOK)).toEqual(['Sheet1', 'Copy of Archive 2026-10']);

    // Act
    await sheet.transferTab('Archive 2026-10', ARCHIVE_BOOK);
    await sheet.transferTab('Archive 2026-10', ARCHIVE_BOOK);

    // Assess: one copy, renamed; the second transfer found nothing left to move.
    expect(await titles(sheet, ARCHIVE_BOOK)).toEqual(['Sheet1', 'Archive 2026-10']);
    expect(sandbox.tab(ARCHIVE_BOOK, 'Archive 2026-10')).toEqual(OCTOBER);
    expect(sandbox.tab(BOOK, 'Archive 2026-10')).toBeUndefined();
  });

  it('refuses a tab of that title there that is not this one’s copy, and keeps the tab here', async () => {
    // Prepare: someone's own "Archive 2026-10" of another size.
    const { sandbox, sheet } = await twoBooks();
    sandbox.setTab(
      ARCHIVE_BOOK,
      'Archive 2026-10',
      Array.from({ length: 1500 }, (_, i) => [String(i)]),
    );

    // Act
    const moving = sheet.transferTab('Archive 2026-10', ARCHIVE_BOOK);

    // Assess
    await expect(moving).rejects.toThrow(PermanentError);
    await expect(moving).rejects.toThrow(/already has a tab "Archive 2026-10"/);
    expect(sandbox.tab(BOOK, 'Archive 2026-10')).toEqual(OCTOBER);
  });
});
