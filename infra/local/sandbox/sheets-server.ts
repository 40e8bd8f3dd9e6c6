import { type SandboxRequest, type SandboxResponse, type SandboxServer, startSandboxServer } from './http';

/**
 * An in-memory Google Sheets v4 speaking what the client sends: spreadsheet
 * metadata, values get/update/append/batchGet/batchUpdate, and batchUpdate
 * with addSheet, appendCells, deleteDimension and updateCells, applied
 * atomically as the real service does.
 */
export interface SheetsSandbox extends SandboxServer {
  tab(spreadsheetId: string, title: string): string[][] | undefined;
  setTab(spreadsheetId: string, title: string, rows: string[][]): void;
}

interface Tab {
  sheetId: number;
  rows: string[][];
}
type Spreadsheet = Map<string, Tab>;

interface Range {
  tab: string;
  startRow: number; // 0-based, inclusive
  endRow: number; // exclusive (Infinity when open)
  startCol: number;
  endCol: number;
}

const googleError = (code: number, status: string, message: string): SandboxResponse => ({
  status: code,
  body: { error: { code, message, status } },
});

function colIndex(letters: string): number {
  let n = 0;
  for (const ch of letters.toUpperCase()) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n - 1;
}

function parseRange(range: string): Range | undefined {
  const match = range.match(/^(?:'((?:[^']|'')+)'|([^!]+?))(?:!(.+))?$/);
  if (!match) return undefined;
  const tab = (match[1] ?? match[2] ?? '').replace(/''/g, "'");
  const a1 = match[3];
  const whole: Range = {
    tab,
    startRow: 0,
    endRow: Number.POSITIVE_INFINITY,
    startCol: 0,
    endCol: Number.POSITIVE_INFINITY,
  };
  if (!a1) return whole;
  const cell = /^([A-Z]*)(\d*)$/i;
  const [from = '', to] = a1.split(':');
  const a = from.match(cell);
  const b = to === undefined ? a : to.match(cell);
  if (!a || !b) return undefined;
  const single = to === undefined;
  return {
    tab,
    startCol: a[1] ? colIndex(a[1]) : 0,
    endCol: b[1] ? colIndex(b[1]) + 1 : Number.POSITIVE_INFINITY,
    startRow: a[2] ? Number(a[2]) - 1 : 0,
    endRow: b[2] ? Number(b[2]) : single && a[2] ? Number(a[2]) : Number.POSITIVE_INFINITY,
  };
}

/** Trailing empty cells and rows are left out of answers, as the real API does. */
function trim(rows: string[][]): string[][] {
  const out = rows.map((r) => {
    const copy = [...r];
    while (copy.length > 0 && (copy.at(-1) ?? '') === '') copy.pop();
    return copy;
  });
  while (out.length > 0 && (out.at(-1)?.length ?? 0) === 0) out.pop();
  return out;
}

function read(tab: Tab, range: Range): string[][] {
  const rows = tab.rows.slice(range.startRow, Math.min(range.endRow, tab.rows.length));
  return trim(
    rows.map((r) =>
      r.slice(range.startCol, Number.isFinite(range.endCol) ? range.endCol : undefined).map((v) => v ?? ''),
    ),
  );
}

function write(tab: Tab, startRow: number, startCol: number, values: unknown[][]) {
  values.forEach((row, i) => {
    const target = tab.rows[startRow + i] ?? [];
    row.forEach((v, j) => {
      while (target.length < startCol + j) target.push('');
      target[startCol + j] = v === null || v === undefined ? '' : String(v);
    });
    while (tab.rows.length < startRow + i) tab.rows.push([]);
    tab.rows[startRow + i] = target;
  });
}

const clone = (sheet: Spreadsheet): Spreadsheet =>
  new Map([...sheet].map(([k, t]) => [k, { sheetId: t.sheetId, rows: t.rows.map((r) => [...r]) }]));

export async function startSheetsSandbox(options: {
  token?: string;
  spreadsheets: string[];
  quotaPerMinute?: number;
  port?: number;
}): Promise<SheetsSandbox> {
  const books = new Map<string, Spreadsheet>(
    options.spreadsheets.map((id) => [id, new Map([['Sheet1', { sheetId: 0, rows: [] }]])]),
  );
  let nextSheetId = 1000;
  const quota = { minute: 0, reads: 0, writes: 0 };

  function overQuota(write: boolean): boolean {
    if (!options.quotaPerMinute) return false;
    const minute = Math.floor(Date.now() / 60_000);
    if (minute !== quota.minute) Object.assign(quota, { minute, reads: 0, writes: 0 });
    const used = write ? ++quota.writes : ++quota.reads;
    return used > options.quotaPerMinute;
  }

  function route(request: SandboxRequest): SandboxResponse {
    if (options.token && request.headers.authorization !== `Bearer ${options.token}`) {
      return googleError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.');
    }
    const m = request.path.match(/^\/v4\/spreadsheets\/([^/:]+)(.*)$/);
    const book = m ? books.get(m[1] ?? '') : undefined;
    if (!m || !book) return googleError(404, 'NOT_FOUND', 'Requested entity was not found.');
    const rest = m[2] ?? '';
    const isWrite = request.method !== 'GET';
    if (overQuota(isWrite)) {
      return googleError(
        429,
        'RESOURCE_EXHAUSTED',
        "Quota exceeded for quota metric 'Read requests' and limit 'per minute per user'.",
      );
    }
    const tabOf = (range: string) => {
      const parsed = parseRange(range);
      const tab = parsed ? book.get(parsed.tab) : undefined;
      return parsed && tab ? { parsed, tab } : undefined;
    };
    const badRange = (range: string) =>
      googleError(400, 'INVALID_ARGUMENT', `Unable to parse range: ${range}`);

    if (rest === '' && request.method === 'GET') {
      return {
        status: 200,
        body: {
          spreadsheetId: m[1],
          properties: { title: m[1] },
          sheets: [...book].map(([title, t], index) => ({
            properties: {
              sheetId: t.sheetId,
              title,
              index,
              gridProperties: { rowCount: Math.max(1000, t.rows.length), columnCount: 26 },
            },
          })),
        },
      };
    }
    if (rest === '/values:batchGet' && request.method === 'GET') {
      const ranges = request.query.getAll('ranges');
      const valueRanges = [];
      for (const range of ranges) {
        const found = tabOf(range);
        if (!found) return badRange(range);
        valueRanges.push({ range, majorDimension: 'ROWS', values: read(found.tab, found.parsed) });
      }
      return { status: 200, body: { spreadsheetId: m[1], valueRanges } };
    }
    if (rest === '/values:batchUpdate' && request.method === 'POST') {
      const body = request.body as { data?: { range: string; values: unknown[][] }[] };
      const copy = clone(book);
      for (const item of body.data ?? []) {
        const parsed = parseRange(item.range);
        const tab = parsed ? copy.get(parsed.tab) : undefined;
        if (!parsed || !tab) return badRange(item.range);
        write(tab, parsed.startRow, parsed.startCol, item.values);
      }
      books.set(m[1] ?? '', copy);
      return { status: 200, body: { spreadsheetId: m[1], totalUpdatedCells: (body.data ?? []).length } };
    }
    const values = rest.match(/^\/values\/(.+?)(:append)?$/);
    if (values) {
      const range = values[1] ?? '';
      const found = tabOf(range);
      if (!found) return badRange(range);
      if (values[2] && request.method === 'POST') {
        const rows = ((request.body as { values?: unknown[][] }).values ?? []) as unknown[][];
        // Appended after the last row holding any value, as the real table detection does.
        let last = found.tab.rows.length;
        while (last > 0 && (found.tab.rows[last - 1] ?? []).every((v) => v === '')) last -= 1;
        write(found.tab, last, found.parsed.startCol, rows);
        return {
          status: 200,
          body: {
            spreadsheetId: m[1],
            updates: { updatedRange: `${found.parsed.tab}!A${last + 1}`, updatedRows: rows.length },
          },
        };
      }
      if (request.method === 'GET') {
        return {
          status: 200,
          body: { range, majorDimension: 'ROWS', values: read(found.tab, found.parsed) },
        };
      }
      if (request.method === 'PUT') {
        write(
          found.tab,
          found.parsed.startRow,
          found.parsed.startCol,
          (request.body as { values?: unknown[][] }).values ?? [],
        );
        return { status: 200, body: { spreadsheetId: m[1], updatedRange: range } };
      }
    }
    if (rest === ':batchUpdate' && request.method === 'POST') {
      const copy = clone(book);
      const replies: unknown[] = [];
      const byId = (id: number | undefined) => [...copy.values()].find((t) => t.sheetId === (id ?? 0));
      for (const r of (request.body as { requests?: Record<string, Record<string, unknown>>[] }).requests ??
        []) {
        if (r.addSheet) {
          const title = String((r.addSheet.properties as { title?: string })?.title ?? `Sheet${nextSheetId}`);
          if (copy.has(title))
            return googleError(400, 'INVALID_ARGUMENT', `A sheet with the name "${title}" already exists.`);
          const sheetId = nextSheetId++;
          copy.set(title, { sheetId, rows: [] });
          replies.push({ addSheet: { properties: { sheetId, title } } });
        } else if (r.appendCells) {
          const tab = byId(r.appendCells.sheetId as number);
          if (!tab) return googleError(400, 'INVALID_ARGUMENT', 'No grid with id');
          let last = tab.rows.length;
          while (last > 0 && (tab.rows[last - 1] ?? []).every((v) => v === '')) last -= 1;
          const rows =
            (r.appendCells.rows as { values?: { userEnteredValue?: Record<string, unknown> }[] }[]) ?? [];
          write(
            tab,
            last,
            0,
            rows.map((row) =>
              (row.values ?? []).map((c) => Object.values(c.userEnteredValue ?? {})[0] ?? ''),
            ),
          );
          replies.push({});
        } else if (r.deleteDimension) {
          const range = r.deleteDimension.range as {
            sheetId?: number;
            dimension?: string;
            startIndex?: number;
            endIndex?: number;
          };
          const tab = byId(range.sheetId);
          if (!tab || range.dimension !== 'ROWS')
            return googleError(400, 'INVALID_ARGUMENT', 'Invalid deleteDimension');
          tab.rows.splice(range.startIndex ?? 0, (range.endIndex ?? 0) - (range.startIndex ?? 0));
          replies.push({});
        } else if (r.updateCells) {
          const start = r.updateCells.start as { sheetId?: number; rowIndex?: number; columnIndex?: number };
          const tab = byId(start.sheetId);
          if (!tab) return googleError(400, 'INVALID_ARGUMENT', 'No grid with id');
          const rows =
            (r.updateCells.rows as { values?: { userEnteredValue?: Record<string, unknown> }[] }[]) ?? [];
          write(
            tab,
            start.rowIndex ?? 0,
            start.columnIndex ?? 0,
            rows.map((row) =>
              (row.values ?? []).map((c) => Object.values(c.userEnteredValue ?? {})[0] ?? ''),
            ),
          );
          replies.push({});
        } else {
          return googleError(400, 'INVALID_ARGUMENT', `unsupported request ${Object.keys(r).join(',')}`);
        }
      }
      books.set(m[1] ?? '', copy);
      return { status: 200, body: { spreadsheetId: m[1], replies } };
    }
    return googleError(404, 'NOT_FOUND', `no route for ${request.method} ${request.path}`);
  }

  const server = await startSandboxServer({
    name: 'sheets',
    ...(options.port ? { port: options.port } : {}),
    route,
    faultResponse: (fault) =>
      fault.kind === 'rate-limit'
        ? googleError(
            429,
            'RESOURCE_EXHAUSTED',
            "Quota exceeded for quota metric 'Write requests' and limit 'per minute per user'.",
          )
        : googleError(500, 'INTERNAL', 'Internal error encountered.'),
  });
  return {
    ...server,
    tab: (spreadsheetId, title) =>
      books
        .get(spreadsheetId)
        ?.get(title)
        ?.rows.map((r) => [...r]),
    setTab: (spreadsheetId, title, rows) => {
      const book = books.get(spreadsheetId);
      if (!book) throw new Error(`no spreadsheet ${spreadsheetId}`);
      const existing = book.get(title);
      book.set(title, { sheetId: existing?.sheetId ?? nextSheetId++, rows: rows.map((r) => [...r]) });
    },
  };
}
