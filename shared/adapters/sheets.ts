import { auth, type sheets_v4, sheets as sheetsApi } from '@googleapis/sheets';
import { errorForStatus, RateLimitedError, TransientError, UnknownOutcomeError } from '../errors';
import type { ArchiveMove, SheetStore, SheetTable } from '../ports';
import { type RetryOptions, retryMapped } from './retry';

// The client's own auth classes: google-auth-library of another version would not type-check against it.
export type GoogleAuth = InstanceType<typeof auth.OAuth2> | InstanceType<typeof auth.JWT>;

/**
 * A service-account key (JSON) becomes a JWT client; any other string is used
 * as an OAuth access token (tests, sandboxes, a quick `gcloud auth` token).
 */
export function createGoogleAuth(credential: string): GoogleAuth {
  if (credential.trim().startsWith('{')) {
    const key = JSON.parse(credential) as { client_email?: string; private_key?: string };
    return new auth.JWT({
      email: key.client_email,
      key: key.private_key,
      scopes: ['https://www.googleapis.com/auth/spreadsheets'],
    });
  }
  const client = new auth.OAuth2();
  client.setCredentials({ access_token: credential });
  return client;
}

export interface SheetStoreOptions {
  spreadsheetId: string;
  auth: GoogleAuth;
  rootUrl: string;
  timeoutMs?: number;
  retry?: Partial<RetryOptions>;
}

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
 * gaxios throws GaxiosError with `status` and the body's `error.message` as its
 * message (googleapis/gaxios src/common.ts); a 429 is RESOURCE_EXHAUSTED naming the
 * quota ("Write requests per minute per user") and has no Retry-After.
 */
function toDigestError(error: unknown, writes: boolean): Error {
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
 * Google Sheets through @googleapis/sheets with the fewest requests: sheet
 * ids and header rows are cached in the store after the first read, appends
 * and updates are one request each, and the archive move is one atomic
 * batchUpdate.
 */
export function createSheetStore(options: SheetStoreOptions): SheetStore {
  const api = sheetsApi({ version: 'v4', auth: options.auth, rootUrl: options.rootUrl });
  const spreadsheetId = options.spreadsheetId;
  // Enough attempts for the backoff to reach ~16 s (1, 2, 4, 8, 16 s); a longer wait than
  // maxWaitMs (the Lambda's share, from the step context) goes back to the state machine.
  const retry: RetryOptions = { maxAttempts: 6, baseDelayMs: 1000, maxWaitMs: 20_000, ...options.retry };
  const random = retry.random ?? Math.random;
  // googleapis-common retries by default (nodejs-googleapis-common src/apirequest.ts): ours decide instead.
  const request = { timeout: options.timeoutMs ?? 30_000, retry: false };
  /** `writes`: the request is not idempotent (append, add a tab, move rows). */
  const call = <T>(operation: () => Promise<T>, writes = false) => {
    let quotaErrors = 0;
    return retryMapped(
      operation,
      (error) => {
        const mapped = toDigestError(error, writes);
        if (!(mapped instanceof RateLimitedError)) return mapped;
        // The per-minute quotas refill every minute; until then each 429 doubles the wait.
        const wait = quotaBackoffMs(quotaErrors++, retry.baseDelayMs, random);
        return new RateLimitedError(mapped.message, wait, { cause: error });
      },
      retry,
    );
  };

  let sheetIds: Map<string, number> | undefined;
  const headerCache = new Map<string, string[]>();

  async function loadSheetIds(): Promise<Map<string, number>> {
    if (sheetIds) return sheetIds;
    const answer = await call(() =>
      api.spreadsheets.get({ spreadsheetId, fields: 'sheets.properties(sheetId,title)' }, request),
    );
    sheetIds = new Map(
      (answer.data.sheets ?? []).map((s) => [s.properties?.title ?? '', s.properties?.sheetId ?? 0] as const),
    );
    return sheetIds;
  }

  async function headersOf(tab: string): Promise<string[]> {
    const cached = headerCache.get(tab);
    if (cached) return cached;
    const answer = await call(() =>
      api.spreadsheets.values.get({ spreadsheetId, range: `${quote(tab)}!1:1` }, request),
    );
    const headers = (answer.data.values?.[0] ?? []).map(String);
    headerCache.set(tab, headers);
    return headers;
  }

  const rowOf = (headers: readonly string[], values: Record<string, string>) =>
    headers.map((h) => values[h] ?? '');

  return {
    async ensureTab(tab, wanted) {
      const ids = await loadSheetIds();
      if (!ids.has(tab)) {
        const answer = await call(
          () =>
            api.spreadsheets.batchUpdate(
              { spreadsheetId, requestBody: { requests: [{ addSheet: { properties: { title: tab } } }] } },
              request,
            ),
          true,
        );
        const id = answer.data.replies?.[0]?.addSheet?.properties?.sheetId ?? 0;
        ids.set(tab, id);
        headerCache.set(tab, []);
      }
      const headers = [...(await headersOf(tab))];
      const missing = wanted.filter((h) => !headers.includes(h));
      if (missing.length > 0) {
        const start = columnLetter(headers.length);
        await call(() =>
          api.spreadsheets.values.update(
            {
              spreadsheetId,
              range: `${quote(tab)}!${start}1`,
              valueInputOption: 'RAW',
              requestBody: { values: [missing] },
            },
            request,
          ),
        );
        headers.push(...missing);
        headerCache.set(tab, headers);
      }
      return [...headers];
    },

    async readColumn(tabs, header) {
      const ids = await loadSheetIds();
      const present = tabs.filter((t) => ids.has(t));
      const result = new Map<string, string[]>(tabs.map((t) => [t, []]));
      const unknown = present.filter((t) => !headerCache.has(t));
      // Headers not yet known are read in the same batch as the columns whose place is known.
      const ranges = [
        ...unknown.map((t) => `${quote(t)}!1:1`),
        ...present
          .filter((t) => headerCache.has(t) && (headerCache.get(t) ?? []).includes(header))
          .map((t) => {
            const letter = columnLetter((headerCache.get(t) ?? []).indexOf(header));
            return `${quote(t)}!${letter}2:${letter}`;
          }),
      ];
      if (ranges.length === 0) return result;
      const answer = await call(() =>
        api.spreadsheets.values.batchGet({ spreadsheetId, ranges, majorDimension: 'ROWS' }, request),
      );
      const valueRanges = answer.data.valueRanges ?? [];
      for (const [i, t] of unknown.entries())
        headerCache.set(t, (valueRanges[i]?.values?.[0] ?? []).map(String));
      let offset = unknown.length;
      for (const t of present) {
        const headers = headerCache.get(t) ?? [];
        if (!headers.includes(header)) continue;
        if (unknown.includes(t)) continue;
        result.set(
          t,
          (valueRanges[offset]?.values ?? []).map((r) => String(r[0] ?? '')),
        );
        offset += 1;
      }
      // Tabs whose headers were just learnt: one more read, now that the column is known.
      const late = unknown.filter((t) => (headerCache.get(t) ?? []).includes(header));
      if (late.length > 0) {
        const again = await call(() =>
          api.spreadsheets.values.batchGet(
            {
              spreadsheetId,
              ranges: late.map((t) => {
                const letter = columnLetter((headerCache.get(t) ?? []).indexOf(header));
                return `${quote(t)}!${letter}2:${letter}`;
              }),
            },
            request,
          ),
        );
        for (const [i, t] of late.entries()) {
          result.set(
            t,
            (again.data.valueRanges?.[i]?.values ?? []).map((r) => String(r[0] ?? '')),
          );
        }
      }
      return result;
    },

    async readTable(tab): Promise<SheetTable> {
      const answer = await call(() =>
        api.spreadsheets.values.get({ spreadsheetId, range: quote(tab) }, request),
      );
      const [head = [], ...data] = answer.data.values ?? [];
      const headers = head.map(String);
      headerCache.set(tab, headers);
      return {
        headers,
        rows: data.map((cells, i) => ({
          rowNumber: i + 2,
          values: Object.fromEntries(headers.map((h, j) => [h, String(cells[j] ?? '')])),
        })),
      };
    },

    async appendRows(tab, headers, rows) {
      if (rows.length === 0) return;
      await call(
        () =>
          api.spreadsheets.values.append(
            {
              spreadsheetId,
              range: `${quote(tab)}!A1`,
              valueInputOption: 'RAW',
              insertDataOption: 'INSERT_ROWS',
              requestBody: { values: rows.map((r) => rowOf(headers, r)) },
            },
            request,
          ),
        true,
      );
    },

    async updateRows(tab, headers, updates) {
      if (updates.length === 0) return;
      // One range per run of adjacent columns in a row (not one per cell): a day's write-back of
      // thousands of rows stays one request of a size the API takes quickly.
      const data: sheets_v4.Schema$ValueRange[] = updates.flatMap((u) => {
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
        return runs.map((run) => ({
          range: `${quote(tab)}!${columnLetter(run.first)}${u.rowNumber}:${columnLetter(run.first + run.values.length - 1)}${u.rowNumber}`,
          values: [run.values],
        }));
      });
      await call(() =>
        api.spreadsheets.values.batchUpdate(
          { spreadsheetId, requestBody: { valueInputOption: 'RAW', data } },
          request,
        ),
      );
    },

    async moveRows(mainTab, archiveTab, archiveHeaders, moves: readonly ArchiveMove[]) {
      if (moves.length === 0) return;
      const ids = await loadSheetIds();
      const mainId = ids.get(mainTab);
      const archiveId = ids.get(archiveTab);
      if (mainId === undefined || archiveId === undefined)
        throw new TransientError('sheet tabs are not known yet');
      const appended = moves.flatMap((m) =>
        m.archiveValues ? [rowOf(archiveHeaders, m.archiveValues)] : [],
      );
      const requests: sheets_v4.Schema$Request[] = [];
      if (appended.length > 0) {
        requests.push({
          appendCells: {
            sheetId: archiveId,
            fields: 'userEnteredValue',
            rows: appended.map((cells) => ({
              values: cells.map((v) => ({ userEnteredValue: { stringValue: v } })),
            })),
          },
        });
      }
      // Delete from the bottom up so the row numbers still in the list stay true.
      for (const m of [...moves].sort((a, b) => b.rowNumber - a.rowNumber)) {
        requests.push({
          deleteDimension: {
            range: { sheetId: mainId, dimension: 'ROWS', startIndex: m.rowNumber - 1, endIndex: m.rowNumber },
          },
        });
      }
      await call(
        () => api.spreadsheets.batchUpdate({ spreadsheetId, requestBody: { requests } }, request),
        true,
      );
    },
  };
}
