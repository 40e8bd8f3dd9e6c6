import { randomInt } from 'node:crypto';
// Types only (erased from the bundle): the request and answer shapes of the REST API, as Google's client declares them.
import type { sheets_v4 } from '@googleapis/sheets';
import { JSONParser } from '@streamparser/json';
import { MAX_PAYLOAD_BYTES } from '../domain/sheet-payload';
import {
  DigestError,
  errorForStatus,
  PermanentError,
  RateLimitedError,
  TransientError,
  UnknownOutcomeError,
} from '../errors';
import type {
  CellWriter,
  OpenedTabs,
  QuotaObserver,
  RowsMove,
  RowUpdate,
  SheetLayout,
  SheetStore,
  SheetTable,
  TabRow,
  TabSpec,
  TabUpdate,
} from '../ports';
import { type AccessTokens, type ServiceAccountKey, serviceAccountTokens, staticToken } from './google-token';
import { type RetryOptions, retryMapped } from './retry';

/** What a request is authorised by: a bearer token, fetched and renewed as it expires. */
export type GoogleAuth = AccessTokens;

/** "See, edit, create, and delete all your Google Sheets spreadsheets" (the API's OAuth scope). */
const SHEETS_SCOPE = 'https://www.googleapis.com/auth/spreadsheets';

/**
 * A service-account key (JSON) gets tokens by the JWT bearer flow; any other
 * string is used as an OAuth access token (tests, sandboxes, a quick `gcloud auth` token).
 */
export function createGoogleAuth(credential: string): GoogleAuth {
  if (credential.trim().startsWith('{'))
    return serviceAccountTokens(JSON.parse(credential) as ServiceAccountKey, SHEETS_SCOPE);
  return staticToken(credential);
}

export interface SheetStoreOptions {
  spreadsheetId: string;
  auth: GoogleAuth;
  rootUrl: string;
  timeoutMs?: number;
  retry?: Partial<RetryOptions>;
  /** Told, at each request, how many of its kind this store sent in the last minute. */
  onQuota?: QuotaObserver;
  now?: () => number;
}

/**
 * "Read requests per minute per user: 60", and the same for writes (https://developers.google.com/sheets/api/limits).
 * Sheets answers no quota headers, so the store counts its own requests against it: a lower bound, since
 * other steps and pipelines using the same account are not counted here.
 */
export const SHEETS_REQUESTS_PER_MINUTE_PER_USER = 60;

const quote = (tab: string) => `'${tab.replace(/'/g, "''")}'`;

function columnLetter(index: number): string {
  let n = index + 1;
  let letters = '';
  while (n > 0) {
    const r = (n - 1) % 26;
    letters = String.fromCharCode(65 + r) + letters;
    n = Math.floor((n - 1) / 26);
  }
  return letters;
}

export { MAX_PAYLOAD_BYTES };

/** "Unable to parse range: 'Drafts'!1:1": the API's 400 for a range in a tab the spreadsheet lacks. */
const isMissingTab = (error: unknown) =>
  error instanceof Error && /Unable to parse range/.test(error.message);

/** Split items into runs whose JSON stays under the payload limit (each run holds at least one item). */
export function byPayload<T>(
  items: readonly T[],
  size: (item: T) => number,
  limit = MAX_PAYLOAD_BYTES,
): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const n = size(item);
    if (current.length > 0 && bytes + n > limit) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += n;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));
/** A values write's rows or ranges within the 2 MB, with room for the body's keys around them. */
const VALUES_BUDGET = MAX_PAYLOAD_BYTES - 64;

/** The longest single backoff Google suggests for Sheets 429s ("typically 32 or 64 seconds"). */
export const SHEETS_MAX_BACKOFF_MS = 64_000;

/**
 * Google's truncated exponential backoff for Sheets quota errors: wait
 * min(2^n seconds + up to 1 s of random jitter, maximum_backoff), n = 0, 1, 2, …
 * (https://developers.google.com/sheets/api/limits#exponential-backoff). `baseMs`
 * is Google's second (1000 ms; smaller in tests).
 */
export function quotaBackoffMs(n: number, baseMs: number, random: () => number): number {
  return Math.min(2 ** n * baseMs + Math.floor(random() * baseMs), SHEETS_MAX_BACKOFF_MS);
}

/**
 * A request Google answered outside 2xx: its status and the error body's message
 * ({"error":{"code","message","status"}}); a 429 is RESOURCE_EXHAUSTED naming the
 * quota ("Write requests per minute per user") and has no Retry-After.
 */
class SheetsApiError extends Error {
  override readonly name = 'SheetsApiError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Google's message from an error answer's body, or the body itself. */
async function errorOf(response: Response): Promise<SheetsApiError> {
  const text = await response.text();
  let message = text;
  try {
    message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? text;
  } catch {}
  return new SheetsApiError(response.status, message);
}

function toDigestError(error: unknown, writes: boolean): Error {
  // Already ours (the token's AuthError, say): classified where it happened, before anything was sent.
  if (error instanceof DigestError) return error;
  const e = error as {
    status?: number;
    code?: number | string;
    response?: { status?: number };
    message?: string;
  };
  const status = e.response?.status ?? e.status ?? (typeof e.code === 'number' ? e.code : undefined);
  if (status) return errorForStatus('sheets', status, e.message ?? 'error');
  const message = `sheets request failed: ${e.message}`;
  // No answer to an append or a move: it may have happened. The step re-reads the sheet before trying again.
  return writes
    ? new UnknownOutcomeError(message, { cause: error })
    : new TransientError(message, { cause: error });
}

/**
 * Google Sheets over its REST API (global fetch; tokens from google-token.ts)
 * with the fewest requests: sheet
 * ids and header rows are cached in the store after the first read, appends
 * and updates are one request each, and the archive move is one atomic
 * batchUpdate.
 */
export function createSheetStore(options: SheetStoreOptions): SheetStore {
  const spreadsheetId = options.spreadsheetId;
  const root = new URL(options.rootUrl.endsWith('/') ? options.rootUrl : `${options.rootUrl}/`);
  // Enough attempts for the backoff to reach ~16 s (1, 2, 4, 8, 16 s); a longer wait than
  // maxWaitMs (the Lambda's share, from the step context) goes back to the state machine.
  const retry: RetryOptions = { maxAttempts: 6, baseDelayMs: 1000, maxWaitMs: 20_000, ...options.retry };
  const random = retry.random ?? Math.random;
  const timeoutMs = options.timeoutMs ?? 30_000;
  /**
   * A request of the REST API (developers.google.com/sheets/api/reference/rest), sent as Google's own client
   * sends it: a bearer token, JSON both ways, the query's repeated keys repeated. Our retries decide, not the
   * transport's.
   */
  async function send(
    method: 'GET' | 'POST',
    path: string,
    query: Record<string, string | readonly string[]> = {},
    body?: unknown,
  ): Promise<Response> {
    const url = new URL(path, root);
    for (const [key, value] of Object.entries(query))
      for (const v of typeof value === 'string' ? [value] : value) url.searchParams.append(key, v);
    const { token } = await options.auth.getAccessToken();
    const response = await fetch(url, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) throw await errorOf(response);
    return response;
  }
  async function rest<T>(...args: Parameters<typeof send>): Promise<T> {
    return (await (await send(...args)).json()) as T;
  }
  const spreadsheetPath = (id: string) => `v4/spreadsheets/${encodeURIComponent(id)}`;
  /** spreadsheets.batchUpdate: one atomic list of requests. */
  const batchUpdate = (id: string, requests: sheets_v4.Schema$Request[]) =>
    rest<sheets_v4.Schema$BatchUpdateSpreadsheetResponse>(
      'POST',
      `${spreadsheetPath(id)}:batchUpdate`,
      {},
      {
        requests,
      },
    );
  const now = options.now ?? Date.now;
  const sentAt = { read: [] as number[], write: [] as number[] };
  const quotaOf = { read: 'reads-per-minute', write: 'writes-per-minute' } as const;
  const limit = SHEETS_REQUESTS_PER_MINUTE_PER_USER;
  /** One more request of its kind (retries count: Google counts every request). */
  const counted =
    <T>(kind: 'read' | 'write', operation: () => Promise<T>) =>
    () => {
      if (options.onQuota) {
        const at = now();
        const sent = sentAt[kind];
        sent.push(at);
        while ((sent[0] ?? at) <= at - 60_000) sent.shift();
        options.onQuota({ api: 'sheets', quota: quotaOf[kind], used: sent.length, limit });
      }
      return operation();
    };
  /**
   * `writes`: the request is not idempotent (append, add a tab, move rows); `kind`: the quota it counts
   * against (an idempotent values.batchUpdate is still a write).
   */
  const call = <T>(
    operation: () => Promise<T>,
    writes = false,
    kind: 'read' | 'write' = writes ? 'write' : 'read',
  ) => {
    let quotaErrors = 0;
    return retryMapped(
      counted(kind, operation),
      (error) => {
        const mapped = toDigestError(error, writes);
        if (!(mapped instanceof RateLimitedError)) return mapped;
        // A 429 says the quota of this kind is spent, whatever our own count says.
        options.onQuota?.({ api: 'sheets', quota: quotaOf[kind], used: limit, limit });
        // The per-minute quotas refill every minute; until then each 429 doubles the wait.
        const wait = quotaBackoffMs(quotaErrors++, retry.baseDelayMs, random);
        return new RateLimitedError(mapped.message, wait, { cause: error });
      },
      retry,
    );
  };

  let layoutCache: SheetLayout | undefined;
  const headerCache = new Map<string, string[]>();

  // Fields named, so the answer stays small however many rows the tabs hold
  // (developers.google.com/sheets/api/reference/rest/v4/spreadsheets/get: "retrieve only the specific fields").
  /** Whether the layout came from an earlier step, not from this store's own look. */
  let handedOverLayout = false;
  async function loadLayout(handedOver?: SheetLayout): Promise<SheetLayout> {
    if (layoutCache) return layoutCache;
    if (handedOver) {
      layoutCache = { tabs: handedOver.tabs.map((t) => ({ ...t })), cellsUsed: handedOver.cellsUsed };
      handedOverLayout = true;
      return layoutCache;
    }
    layoutCache = await fetchLayout(spreadsheetId);
    return layoutCache;
  }

  async function fetchLayout(id: string): Promise<SheetLayout> {
    const answer = await call(() =>
      rest<sheets_v4.Schema$Spreadsheet>('GET', spreadsheetPath(id), {
        fields: 'sheets.properties(sheetId,title,gridProperties(rowCount,columnCount))',
      }),
    );
    const tabs = (answer.sheets ?? []).map((s) => ({
      title: s.properties?.title ?? '',
      sheetId: s.properties?.sheetId ?? 0,
      rowCount: s.properties?.gridProperties?.rowCount ?? 0,
      columnCount: s.properties?.gridProperties?.columnCount ?? 0,
    }));
    return { tabs, cellsUsed: tabs.reduce((sum, t) => sum + t.rowCount * t.columnCount, 0) };
  }

  async function transferTab(tab: string, destinationId: string) {
    await loadLayout();
    const source = layoutCache?.tabs.find((t) => t.title === tab);
    if (!source || !layoutCache) return;
    const destination = await fetchLayout(destinationId);
    // A copy keeps the grid (rows × columns): a tab of the same title and grid there is this tab's copy.
    const sameGrid = (t: { rowCount: number; columnCount: number }) =>
      t.rowCount === source.rowCount && t.columnCount === source.columnCount;
    const named = destination.tabs.find((t) => t.title === tab);
    if (named && !sameGrid(named))
      throw new PermanentError(
        `spreadsheet ${destinationId} already has a tab "${tab}" that is not this one's copy: rename it there, or point sheet.archiveSpreadsheetId at another spreadsheet`,
      );
    if (!named) {
      // copyTo answers the new sheet's properties (developers.google.com/sheets/api/reference/rest/v4/spreadsheets.sheets/copyTo)
      // and titles it itself ("Copy of …", in the owner's language): it is renamed by the sheet id it answers with.
      // A copy left by a transfer stopped before its rename holds the title in its own and the same grid.
      const leftover = destination.tabs.find((t) => t.title.includes(tab) && sameGrid(t));
      const copiedId =
        leftover?.sheetId ??
        (
          await call(
            () =>
              rest<sheets_v4.Schema$SheetProperties>(
                'POST',
                `${spreadsheetPath(spreadsheetId)}/sheets/${source.sheetId}:copyTo`,
                {},
                { destinationSpreadsheetId: destinationId },
              ),
            true,
          )
        ).sheetId;
      if (copiedId === undefined || copiedId === null)
        throw new UnknownOutcomeError(`copyTo of "${tab}" answered no sheet id`);
      await call(
        () =>
          batchUpdate(destinationId, [
            { updateSheetProperties: { properties: { sheetId: copiedId, title: tab }, fields: 'title' } },
          ]),
        true,
      );
    }
    await call(() => batchUpdate(spreadsheetId, [{ deleteSheet: { sheetId: source.sheetId } }]), true);
    layoutCache.tabs = layoutCache.tabs.filter((t) => t.sheetId !== source.sheetId);
    layoutCache.cellsUsed -= source.rowCount * source.columnCount;
    headerCache.delete(tab);
  }

  const sheetIdOf = (title: string) => layoutCache?.tabs.find((t) => t.title === title)?.sheetId;

  /** A sheet id no tab has: set by us, so later requests of the same batchUpdate can name the new tab. */
  function newSheetId(): number {
    const taken = new Set(layoutCache?.tabs.map((t) => t.sheetId));
    let id = 0;
    // Random rather than max + 1: two writers adding a tab at once must not pick the same id.
    while (id === 0 || taken.has(id)) id = randomInt(1, 2_000_000_000);
    return id;
  }

  /** A new tab with its header row, as batchUpdate requests, remembered in the layout. */
  function addTabRequests(tab: string, headers: readonly string[]): sheets_v4.Schema$Request[] {
    const sheetId = newSheetId();
    // A new sheet is 1000 rows × 26 columns (the sandbox models Google's default).
    layoutCache?.tabs.push({ title: tab, sheetId, rowCount: 1000, columnCount: 26 });
    if (layoutCache) layoutCache.cellsUsed += 1000 * 26;
    headerCache.set(tab, [...headers]);
    return [
      // "The ID of the sheet. Must be non-negative. This field cannot be changed once set." (@googleapis/sheets v4.d.ts SheetProperties)
      { addSheet: { properties: { sheetId, title: tab } } },
      headerCells(sheetId, 0, headers),
    ];
  }

  /** Strings written from a cell rightwards (RAW, as the values API writes them): one updateCells. */
  const cellsAt = (sheetId: number, rowIndex: number, column: number, values: readonly string[]) => ({
    updateCells: {
      start: { sheetId, rowIndex, columnIndex: column },
      fields: 'userEnteredValue',
      rows: [{ values: values.map((v) => ({ userEnteredValue: { stringValue: v } })) }],
    },
  });
  const headerCells = (sheetId: number, column: number, headers: readonly string[]) =>
    cellsAt(sheetId, 0, column, headers);

  const rowOf = (headers: readonly string[], values: Record<string, string>) =>
    headers.map((h) => values[h] ?? '');

  const firstCells = (rows: unknown[][] | undefined) => (rows ?? []).map((r) => String(r[0] ?? ''));

  const tableOf = (rows: unknown[][] | null | undefined): SheetTable => {
    const [head = [], ...data] = rows ?? [];
    const headers = head.map(String);
    return {
      headers,
      rows: data.map((cells, i) => ({
        rowNumber: i + 2,
        values: Object.fromEntries(headers.map((h, j) => [h, String(cells[j] ?? '')])),
      })),
    };
  };

  /** An answer's rows as arrays of strings: compact, unlike a record per row (100,000 rows of them are hundreds of MB). */
  const cellsOf = (rows: unknown[][] | null | undefined): string[][] =>
    // Formatted values are strings already: the answer's arrays are kept, not copied, unless one is not.
    (rows ?? []).map((cells) =>
      cells.every((c) => typeof c === 'string') ? (cells as string[]) : cells.map((c) => String(c ?? '')),
    );

  const columnRange = (tab: string, index: number) => {
    const letter = columnLetter(index);
    return `${quote(tab)}!${letter}2:${letter}`;
  };

  /**
   * values:batchGet (developers.google.com/sheets/api/reference/rest/v4/spreadsheets.values/batchGet: the
   * answer's valueRanges in the order of the ranges asked), its answer parsed as it arrives: each row is
   * handed over with its range's index, so a tab of any length is one request and never held whole. The
   * 2 MB the limits page recommends is a request's payload; this request's is its URL.
   */
  async function* batchGetRows(ranges: readonly string[]): AsyncGenerator<{ range: number; row: unknown[] }> {
    const response = await send('GET', `${spreadsheetPath(spreadsheetId)}/values:batchGet`, {
      ranges,
      majorDimension: 'ROWS',
    });
    if (!response.body) throw new Error('values:batchGet answered no body');
    const parser = new JSONParser({ paths: ['$.valueRanges.*.values.*'], keepStack: false });
    const parsed: { range: number; row: unknown[] }[] = [];
    // The stack is root, valueRanges, the valueRange (its key is the range's index), its values.
    parser.onValue = ({ value, stack }) => {
      parsed.push({ range: Number(stack[2]?.key), row: value as unknown[] });
    };
    for await (const chunk of response.body) {
      parser.write(chunk);
      yield* parsed.splice(0);
    }
    if (!parser.isEnded) throw new Error('values:batchGet answer ended early');
  }

  /** One values:batchGet, collected: each range's rows. */
  async function batchGet(ranges: string[]): Promise<unknown[][][]> {
    if (ranges.length === 0) return [];
    return call(async () => {
      const answers: unknown[][][] = ranges.map(() => []);
      for await (const { range, row } of batchGetRows(ranges)) answers[range]?.push(row);
      return answers;
    });
  }

  async function openTabs(specs: readonly TabSpec[], reads: Parameters<SheetStore['openTabs']>[1]) {
    const exists = (tab: string) => !layoutCache || layoutCache.tabs.some((t) => t.title === tab);
    const tables = [...new Set(reads.tables ?? [])].filter(exists);
    const specOf = (tab: string) => specs.find((s) => s.tab === tab);
    // The streamed tab is read whole, last: its first row is its header row, the rest its data rows.
    const rowsTab =
      reads.rows && exists(reads.rows.tab) && !tables.includes(reads.rows.tab) ? reads.rows.tab : undefined;
    // Every other tab whose header row matters: the ensured ones and those a column is read from.
    const headerTabs = [
      ...new Set([...specs.map((s) => s.tab), ...(reads.columns ?? []).map((c) => c.tab)]),
    ].filter((t) => exists(t) && !tables.includes(t) && t !== rowsTab);
    // A column's place is known before its header row is read: where we put it (the spec's order),
    // checked against the header row in the same answer and read again only if the user moved it.
    const guessed = (reads.columns ?? [])
      .filter((c) => exists(c.tab) && !tables.includes(c.tab))
      .map((c) => ({
        ...c,
        index: (headerCache.get(c.tab) ?? specOf(c.tab)?.headers ?? []).indexOf(c.header),
      }));
    const withGuess = guessed.filter((c) => c.index >= 0);
    const ranges = [
      ...tables.map(quote),
      ...headerTabs.map((t) => `${quote(t)}!1:1`),
      ...withGuess.map((c) => columnRange(c.tab, c.index)),
      ...(rowsTab ? [quote(rowsTab)] : []),
    ];
    const rowsIndex = rowsTab ? ranges.length - 1 : -1;
    // Everything before the streamed tab's data rows is collected (and retried) as one read; its rows are
    // handed over afterwards from the same answer.
    const offset = tables.length + headerTabs.length;
    let answers: unknown[][][] = [];
    // A column's cells are kept as strings as they arrive, not as the answer's one-cell rows.
    let columnCells: string[][] = [];
    let rest: AsyncGenerator<{ range: number; row: unknown[] }> | undefined;
    try {
      if (ranges.length > 0)
        await call(async () => {
          answers = ranges.map(() => []);
          columnCells = withGuess.map(() => []);
          const stream = batchGetRows(ranges);
          for (;;) {
            const next = await stream.next();
            if (next.done) return;
            const { range, row } = next.value;
            const column = columnCells[range - offset];
            if (column) column.push(String(row[0] ?? ''));
            else answers[range]?.push(row);
            if (next.value.range === rowsIndex) {
              rest = stream;
              return;
            }
          }
        });
    } catch (error) {
      // A tab assumed to exist does not: look at the spreadsheet once, then create what is missing.
      if (!layoutCache && isMissingTab(error)) {
        await loadLayout();
        return openTabs(specs, reads);
      }
      throw error;
    }
    const byHeader = new Map<string, string[]>();
    const columnKey = (tab: string, header: string) => `${tab}\n${header}`;
    const result: OpenedTabs = {
      headers: new Map(),
      tables: new Map(),
      columns: new Map(),
      column: (tab, header) => byHeader.get(columnKey(tab, header)) ?? [],
      rows: streamedRows(rest),
    };
    const setColumn = (tab: string, header: string, values: string[]) => {
      result.columns.set(tab, values);
      byHeader.set(columnKey(tab, header), values);
    };
    tables.forEach((tab, i) => {
      const table = tableOf(answers[i]);
      result.tables.set(tab, table);
      headerCache.set(tab, table.headers);
    });
    headerTabs.forEach((tab, i) => {
      headerCache.set(tab, (answers[tables.length + i]?.[0] ?? []).map(String));
    });
    if (rowsTab) headerCache.set(rowsTab, (answers[rowsIndex]?.[0] ?? []).map(String));

    const structure: sheets_v4.Schema$Request[] = [];
    for (const spec of specs) {
      if (!exists(spec.tab)) {
        structure.push(...addTabRequests(spec.tab, spec.headers));
        result.tables.set(spec.tab, { headers: [...spec.headers], rows: [] });
        continue;
      }
      const headers = [...(headerCache.get(spec.tab) ?? [])];
      const missing = spec.headers.filter((h) => !headers.includes(h));
      if (missing.length > 0) {
        // Header cells are written by sheet id: learn the ids once, only when a header is missing.
        await loadLayout();
        const sheetId = sheetIdOf(spec.tab) ?? 0;
        structure.push(headerCells(sheetId, headers.length, missing));
        headerCache.set(spec.tab, [...headers, ...missing]);
      }
    }
    if (structure.length > 0) {
      await call(() => batchUpdate(spreadsheetId, structure), true);
    }
    for (const spec of specs) result.headers.set(spec.tab, [...(headerCache.get(spec.tab) ?? spec.headers)]);
    if (rowsTab && !result.headers.has(rowsTab))
      result.headers.set(rowsTab, [...(headerCache.get(rowsTab) ?? [])]);

    const again: { tab: string; header: string; index: number }[] = [];
    for (const c of reads.columns ?? []) {
      const table = result.tables.get(c.tab);
      const actual = (table?.headers ?? headerCache.get(c.tab) ?? []).indexOf(c.header);
      if (table) {
        setColumn(c.tab, c.header, actual < 0 ? [] : table.rows.map((r) => r.values[c.header] ?? ''));
        continue;
      }
      const guess = withGuess.findIndex((g) => g.tab === c.tab && g.header === c.header);
      if (actual < 0 || !exists(c.tab)) setColumn(c.tab, c.header, []);
      else if (guess >= 0 && withGuess[guess]?.index === actual)
        setColumn(c.tab, c.header, columnCells[guess] ?? []);
      else again.push({ ...c, index: actual });
    }
    const late = await batchGet(again.map((c) => columnRange(c.tab, c.index)));
    again.forEach((c, i) => {
      setColumn(c.tab, c.header, firstCells(late[i]));
    });
    return result;
  }

  /** The streamed tab's data rows from row 2: a failure midway is the step's to retry (rows were handed over). */
  async function* streamedRows(
    stream: AsyncGenerator<{ range: number; row: unknown[] }> | undefined,
  ): AsyncGenerator<TabRow> {
    if (!stream) return;
    let rowNumber = 2;
    try {
      for await (const { row } of stream) yield { rowNumber: rowNumber++, cells: cellsOf([row])[0] ?? [] };
    } catch (error) {
      throw toDigestError(error, false);
    }
  }

  /** A row's values by header as runs of adjacent columns (0-based first column): one range or request each. */
  function cellRunsOf(headers: readonly string[], u: RowUpdate): { first: number; values: string[] }[] {
    const cells = Object.entries(u.values)
      .map(([h, v]) => [headers.indexOf(h), v] as const)
      .filter(([column]) => column >= 0)
      .sort((a, b) => a[0] - b[0]);
    const runs: { first: number; values: string[] }[] = [];
    for (const [column, value] of cells) {
      const last = runs.at(-1);
      if (last && last.first + last.values.length === column) last.values.push(value);
      else runs.push({ first: column, values: [value] });
    }
    return runs;
  }

  /**
   * Ranges gathered into one values:batchUpdate until the next would take it over the payload limit: the
   * same requests as splitting the whole list (a day's write-back of thousands of rows stays one request),
   * holding only one request's ranges. A run of adjacent columns continues the range of the same columns
   * on the row above, so a block of rows written back is one range (its A1 reference once, not per row).
   */
  function cellWriter(): CellWriter {
    /** One range of the request: rows `top` to `bottom` of the columns `first` to `last` (0-based). */
    interface Block {
      tab: string;
      first: number;
      last: number;
      top: number;
      bottom: number;
      values: string[][];
    }
    let blocks: Block[] = [];
    // The blocks a next row can still continue, by tab and columns.
    let open = new Map<string, Block>();
    let bytes = 0;
    const rangeOf = (b: Block): sheets_v4.Schema$ValueRange => ({
      range: `${quote(b.tab)}!${columnLetter(b.first)}${b.top}:${columnLetter(b.last)}${b.bottom}`,
      values: b.values,
    });
    const send = async () => {
      const data = blocks.map(rangeOf);
      blocks = [];
      open = new Map();
      bytes = 0;
      await call(
        () =>
          rest(
            'POST',
            `${spreadsheetPath(spreadsheetId)}/values:batchUpdate`,
            {},
            { valueInputOption: 'RAW', data },
          ),
        false,
        'write',
      );
    };
    return {
      async write(tab, headers, update) {
        for (const run of cellRunsOf(headers, update)) {
          const last = run.first + run.values.length - 1;
          const key = `${tab}\n${run.first}:${last}`;
          const block = open.get(key);
          // One more row of the block: its values and a comma.
          const more = jsonBytes(run.values) + 1;
          if (block && block.bottom + 1 === update.rowNumber && bytes + more <= VALUES_BUDGET) {
            block.bottom += 1;
            block.values.push(run.values);
            bytes += more;
            continue;
          }
          const fresh: Block = {
            tab,
            first: run.first,
            last,
            top: update.rowNumber,
            bottom: update.rowNumber,
            values: [run.values],
          };
          // A comma, and the range's reference may grow by a few digits as rows join it.
          const size = jsonBytes(rangeOf(fresh)) + 9;
          if (blocks.length > 0 && bytes + size > VALUES_BUDGET) await send();
          blocks.push(fresh);
          open.set(key, fresh);
          bytes += size;
        }
      },
      async close() {
        if (blocks.length > 0) await send();
      },
    };
  }

  async function updateTabs(writes: readonly TabUpdate[]) {
    const writer = cellWriter();
    for (const { tab, headers, updates } of writes) {
      for (const u of updates) await writer.write(tab, headers, u);
    }
    await writer.close();
  }

  return {
    layout: (handedOver) => loadLayout(handedOver),
    layoutOf: fetchLayout,
    transferTab,
    openTabs,
    updateTabs,

    async ensureTab(tab, wanted) {
      await loadLayout();
      return (await openTabs([{ tab, headers: wanted }], {})).headers.get(tab) ?? [...wanted];
    },

    async readColumn(tabs, header) {
      const opened = await openTabs([], { columns: tabs.map((tab) => ({ tab, header })) });
      return new Map(tabs.map((t) => [t, opened.columns.get(t) ?? []]));
    },

    async readTable(tab): Promise<SheetTable> {
      const answer = await call(() =>
        rest<sheets_v4.Schema$ValueRange>(
          'GET',
          `${spreadsheetPath(spreadsheetId)}/values/${encodeURIComponent(quote(tab))}`,
        ),
      );
      const table = tableOf(answer.values);
      headerCache.set(tab, table.headers);
      return table;
    },

    async appendRows(tab, headers, rows) {
      let chunk: string[][] = [];
      let bytes = 0;
      const send = async () => {
        const values = chunk;
        chunk = [];
        bytes = 0;
        await call(
          () =>
            rest(
              'POST',
              `${spreadsheetPath(spreadsheetId)}/values/${encodeURIComponent(`${quote(tab)}!A1`)}:append`,
              { valueInputOption: 'RAW', insertDataOption: 'INSERT_ROWS' },
              { values },
            ),
          true,
        );
      };
      // Rows are sent as each request fills (the same requests as splitting them all), so an
      // async source of 100,000 rows is held one request at a time.
      for await (const record of rows) {
        const row = rowOf(headers, record);
        const size = jsonBytes(row) + 1;
        if (chunk.length > 0 && bytes + size > VALUES_BUDGET) await send();
        chunk.push(row);
        bytes += size;
      }
      if (chunk.length > 0) await send();
    },

    moveRows,
    cellWriter,
  };

  /**
   * The server moves the rows, so the request grows with the runs of adjacent rows, not with what they
   * hold. One atomic batchUpdate (spreadsheets.batchUpdate reference: "If any request is not valid then the
   * entire request will fail and nothing will be applied"), its requests applied in order:
   * empty rows after the archive's last message (insertDimension, which pushes anything below down rather
   * than pasting over it; appendDimension past the grid's last row: a paste past the grid is refused), a
   * cutPaste per run of rows and per run of columns the tabs hold in the same order (a main-tab column
   * goes under the archive's column of the same name, whatever the order a user left), one repeatCell per
   * archive-only column over all the moved rows, then the runs deleted from the bottom up. Past the
   * payload limit the move is split top down, each part atomic: a crash between parts loses nothing and
   * repeats nothing (a re-run finds the moved rows in the archive tab and only deletes what is left).
   */
  async function moveRows(move: RowsMove, again = false): Promise<void> {
    const spans = spansOf(move.rows, move.drop);
    if (spans.length === 0 && !move.writes?.length) return;
    const stampHeaders = Object.keys(move.stamp);
    const columns = columnRuns(move.mainHeaders, move.archiveHeaders, stampHeaders);
    let deleted = 0;
    let archived = 0;
    let parts = 0;
    let pending: typeof spans = [];
    // The first part carries the other rows' cells too.
    let bytes = jsonBytes(move.writes ?? []);
    const send = async () => {
      const part = pending;
      pending = [];
      bytes = 0;
      const requests = [
        // The other rows' cells go with the first part: applied with it, or not at all.
        ...(parts === 0 ? await writeRequests(move.writes ?? []) : []),
        ...(part.length > 0 ? await moveRequests(move, part, columns, deleted, archived) : []),
      ];
      try {
        await call(() => batchUpdate(spreadsheetId, requests), true);
      } catch (error) {
        // "No grid with id" or a grid smaller than the layout said: a tab was replaced or resized since the
        // layout was handed over. The batchUpdate is atomic, so nothing happened: look again and redo.
        const stale = error instanceof Error && /No grid with id|exceeds grid limits/.test(error.message);
        if (!stale || !handedOverLayout || again || parts > 0) throw error;
        layoutCache = undefined;
        handedOverLayout = false;
        throw new StaleLayout();
      }
      parts += 1;
      for (const span of part) {
        deleted += span.end - span.start + 1;
        if (span.moved) archived += span.end - span.start + 1;
      }
    };
    try {
      for (const span of spans) {
        // A cutPaste per run of columns and a deleteDimension: about 250 and 130 bytes of JSON.
        const size = (span.moved ? 250 * columns.length : 0) + 130;
        if (pending.length > 0 && bytes + size > MAX_PAYLOAD_BYTES - 4_000) await send();
        pending.push(span);
        bytes += size;
      }
      // Nothing to move but the other rows' cells: they are the one request.
      if (pending.length > 0 || parts === 0) await send();
    } catch (error) {
      if (!(error instanceof StaleLayout)) throw error;
      await moveRows(move, true);
    }
  }

  /** Cells of rows by header as batchUpdate requests: an updateCells per run of adjacent columns. */
  async function writeRequests(writes: readonly TabUpdate[]): Promise<sheets_v4.Schema$Request[]> {
    if (writes.length === 0) return [];
    await loadLayout();
    return writes.flatMap(({ tab, headers, updates }) => {
      const sheetId = sheetIdOf(tab);
      if (sheetId === undefined) throw new TransientError(`tab ${tab} is not in the spreadsheet's layout`);
      return updates.flatMap((u) =>
        cellRunsOf(headers, u).map((run) => cellsAt(sheetId, u.rowNumber - 1, run.first, run.values)),
      );
    });
  }

  /** One part of a move as batchUpdate requests; `deleted` and `archived`: rows earlier parts moved. */
  async function moveRequests(
    move: RowsMove,
    spans: readonly MoveSpan[],
    columns: readonly ColumnRun[],
    deleted: number,
    archived: number,
  ): Promise<sheets_v4.Schema$Request[]> {
    await loadLayout();
    const mainId = sheetIdOf(move.mainTab);
    if (mainId === undefined) throw new TransientError('sheet tabs are not known yet');
    // A month's first move adds its tab, in the same atomic batchUpdate as the first part.
    const requests =
      sheetIdOf(move.archiveTab) === undefined ? addTabRequests(move.archiveTab, move.archiveHeaders) : [];
    const archiveId = sheetIdOf(move.archiveTab) ?? 0;
    const archiveGrid = layoutCache?.tabs.find((t) => t.sheetId === archiveId);
    const mainGrid = layoutCache?.tabs.find((t) => t.sheetId === mainId);
    let rows = 0;
    for (const span of spans) if (span.moved) rows += span.end - span.start + 1;
    const first = move.archiveRow - 1 + archived;
    if (rows > 0) {
      const gridRows = archiveGrid?.rowCount ?? 1000;
      if (first < gridRows) {
        requests.push({
          insertDimension: {
            range: { sheetId: archiveId, dimension: 'ROWS', startIndex: first, endIndex: first + rows },
            // The rows after the insertion lend their format: the one before may be the header row.
            inheritFromBefore: false,
          },
        });
      } else {
        requests.push({
          appendDimension: { sheetId: archiveId, dimension: 'ROWS', length: first + rows - gridRows },
        });
      }
      if (archiveGrid && layoutCache) {
        const grown = Math.max(gridRows, first) + rows;
        layoutCache.cellsUsed += (grown - archiveGrid.rowCount) * archiveGrid.columnCount;
        archiveGrid.rowCount = grown;
      }
    }
    let target = first;
    for (const span of spans) {
      if (!span.moved) continue;
      const top = span.start - 1 - deleted;
      const height = span.end - span.start + 1;
      for (const c of columns) {
        requests.push({
          cutPaste: {
            source: {
              sheetId: mainId,
              startRowIndex: top,
              endRowIndex: top + height,
              startColumnIndex: c.main,
              endColumnIndex: c.main + c.width,
            },
            destination: { sheetId: archiveId, rowIndex: target, columnIndex: c.archive },
            pasteType: 'PASTE_NORMAL',
          },
        });
      }
      target += height;
    }
    if (rows > 0) {
      for (const [header, value] of Object.entries(move.stamp)) {
        const column = move.archiveHeaders.indexOf(header);
        if (column < 0) continue;
        requests.push({
          repeatCell: {
            range: {
              sheetId: archiveId,
              startRowIndex: first,
              endRowIndex: first + rows,
              startColumnIndex: column,
              endColumnIndex: column + 1,
            },
            cell: { userEnteredValue: { stringValue: value } },
            fields: 'userEnteredValue',
          },
        });
      }
    }
    // Adjacent runs are one deleteDimension; from the bottom up so the row numbers above stay true.
    const deletes: { start: number; end: number }[] = [];
    for (const span of spans) {
      const last = deletes.at(-1);
      if (last && last.end + 1 === span.start) last.end = span.end;
      else deletes.push({ start: span.start, end: span.end });
    }
    for (const d of deletes.reverse()) {
      requests.push({
        deleteDimension: {
          range: {
            sheetId: mainId,
            dimension: 'ROWS',
            startIndex: d.start - 1 - deleted,
            endIndex: d.end - deleted,
          },
        },
      });
      if (mainGrid && layoutCache) {
        mainGrid.rowCount -= d.end - d.start + 1;
        layoutCache.cellsUsed -= (d.end - d.start + 1) * mainGrid.columnCount;
      }
    }
    return requests;
  }
}

/** Thrown inside a move whose handed-over layout proved stale before any part was sent. */
class StaleLayout extends Error {}

/** A run of adjacent main-tab rows (A1 numbers, inclusive), moved to the archive or only deleted. */
interface MoveSpan {
  start: number;
  end: number;
  moved: boolean;
}

/** Runs of adjacent rows, top down; a moved and a dropped run never share one. */
export function spansOf(moved: readonly number[], dropped: readonly number[]): MoveSpan[] {
  const all = [
    ...moved.map((row) => ({ row, moved: true })),
    ...dropped.map((row) => ({ row, moved: false })),
  ].sort((a, b) => a.row - b.row);
  const spans: MoveSpan[] = [];
  for (const { row, moved: isMoved } of all) {
    const last = spans.at(-1);
    if (last && last.end === row) throw new PermanentError(`row ${row} is both moved and dropped`);
    if (last && last.end + 1 === row && last.moved === isMoved) last.end = row;
    else spans.push({ start: row, end: row, moved: isMoved });
  }
  return spans;
}

/** Columns of the main tab under the archive's of the same name, as runs both tabs hold in one order. */
interface ColumnRun {
  main: number;
  archive: number;
  width: number;
}

export function columnRuns(
  mainHeaders: readonly string[],
  archiveHeaders: readonly string[],
  skip: readonly string[],
): ColumnRun[] {
  const runs: ColumnRun[] = [];
  mainHeaders.forEach((header, main) => {
    const archive = header && !skip.includes(header) ? archiveHeaders.indexOf(header) : -1;
    if (archive < 0) return;
    const last = runs.at(-1);
    if (last && last.main + last.width === main && last.archive + last.width === archive) last.width += 1;
    else runs.push({ main, archive, width: 1 });
  });
  return runs;
}
