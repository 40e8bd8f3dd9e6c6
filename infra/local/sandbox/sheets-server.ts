import { createVerify } from 'node:crypto';
import {
  type LatencyProfile,
  type SandboxRequest,
  type SandboxResponse,
  type SandboxServer,
  startSandboxServer,
} from './http';
import { type Clock, Quota } from './quota';

/**
 * An in-memory Google Sheets v4 speaking what the client sends: spreadsheet
 * metadata, values get/update/append/batchGet/batchUpdate, batchUpdate with
 * addSheet, appendCells, deleteDimension, insertDimension and appendDimension
 * (rows), cutPaste, repeatCell, updateCells, deleteSheet and
 * updateSheetProperties (a title), applied atomically as the real service
 * does, and sheets.copyTo another spreadsheet. Each tab has a grid (rowCount ×
 * columnCount, a new one 1000 × 26): the values API and appendCells grow it to
 * what they write, the batchUpdate requests addressing a range refuse one past
 * it, as Google does. It keeps the per-minute read
 * and write quotas per user and per project, answering 429 as Google does.
 */
export interface SheetsSandbox extends SandboxServer {
  /** Where the sandbox's service accounts get their tokens (a key's token_uri). */
  tokenUrl: string;
  tab(spreadsheetId: string, title: string): string[][] | undefined;
  setTab(spreadsheetId: string, title: string, rows: string[][]): void;
}

interface Tab {
  sheetId: number;
  rows: string[][];
  rowCount: number;
  columnCount: number;
}

/** "A new sheet is 1000 rows × 26 columns" (the grid Google gives addSheet without gridProperties). */
const newTab = (sheetId: number, rows: string[][] = []): Tab => ({
  sheetId,
  rows,
  rowCount: Math.max(1000, rows.length),
  columnCount: rows.reduce((widest, r) => Math.max(widest, r.length), 26),
});

/** The grid grows to hold what the values API or appendCells wrote. */
function growToFit(tab: Tab) {
  tab.rowCount = Math.max(tab.rowCount, tab.rows.length);
  tab.columnCount = tab.rows.reduce((widest, r) => Math.max(widest, r.length), tab.columnCount);
}
type Spreadsheet = Map<string, Tab>;

interface Range {
  tab: string;
  startRow: number; // 0-based, inclusive
  endRow: number; // exclusive (Infinity when open)
  startCol: number;
  endCol: number;
}

const googleError = (
  code: number,
  status: string,
  message: string,
  details?: unknown[],
): SandboxResponse => ({
  status: code,
  body: { error: { code, message, status, ...(details ? { details } : {}) } },
});

export interface SheetsQuotas {
  readsPerMinutePerUser: number;
  writesPerMinutePerUser: number;
  /** Reads, and separately writes, per minute for the whole project. */
  perMinutePerProject: number;
}

/**
 * "Read requests: per minute per project 300, per minute per user per project 60;
 * write requests: the same"; "per-minute quotas ... refilled every minute"
 * (https://developers.google.com/sheets/api/limits). Modelled as fixed windows
 * aligned to the minute.
 */
export const SHEETS_QUOTAS: Readonly<SheetsQuotas> = {
  readsPerMinutePerUser: 60,
  writesPerMinutePerUser: 60,
  perMinutePerProject: 300,
};

const PROJECT_NUMBER = '000000000000';

/**
 * The 429 Google sends (bodies quoted in Sage-Bionetworks/data_curator#110 and
 * n8n-io/n8n#16750): RESOURCE_EXHAUSTED, the quota named in the message and in
 * ErrorInfo RATE_LIMIT_EXCEEDED metadata, and no Retry-After.
 */
function quotaError(kind: 'Read' | 'Write', scope: 'user' | 'project', limit: number): SandboxResponse {
  const limitName = scope === 'user' ? `${kind} requests per minute per user` : `${kind} requests per minute`;
  const quotaLimit = `${kind}RequestsPerMinutePer${scope === 'user' ? 'User' : 'Project'}`;
  return googleError(
    429,
    'RESOURCE_EXHAUSTED',
    `Quota exceeded for quota metric '${kind} requests' and limit '${limitName}' of service 'sheets.googleapis.com' for consumer 'project_number:${PROJECT_NUMBER}'.`,
    [
      {
        '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
        reason: 'RATE_LIMIT_EXCEEDED',
        domain: 'googleapis.com',
        metadata: {
          quota_limit: quotaLimit,
          quota_metric: `sheets.googleapis.com/${kind.toLowerCase()}_requests`,
          quota_limit_value: String(limit),
          quota_location: 'global',
          quota_unit: scope === 'user' ? '1/min/{project}/{user}' : '1/min/{project}',
          consumer: `projects/${PROJECT_NUMBER}`,
          service: 'sheets.googleapis.com',
        },
      },
      {
        '@type': 'type.googleapis.com/google.rpc.Help',
        links: [
          {
            description: 'Request a higher quota limit.',
            url: 'https://cloud.google.com/docs/quotas/help/request_increase',
          },
        ],
      },
    ],
  );
}

/**
 * Realistic answer time, an estimate (Google publishes no latency figures): a few
 * hundred ms to read, more to write, a little more per row written.
 */
export function sheetsLatencyMs(request: SandboxRequest): number {
  if (request.method === 'GET') return 250;
  const body = request.body as { values?: unknown[]; data?: unknown[]; requests?: unknown[] } | undefined;
  const rows = body?.values?.length ?? body?.data?.length ?? body?.requests?.length ?? 1;
  return 600 + 2 * rows;
}

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
  growToFit(tab);
}

function columnLetters(index: number): string {
  let n = index + 1;
  let letters = '';
  while (n > 0) {
    letters = String.fromCharCode(65 + ((n - 1) % 26)) + letters;
    n = Math.floor((n - 1) / 26);
  }
  return letters;
}

/** A range on a sheet by indexes, zero-based and half open (GridRange, @googleapis/sheets v4). */
interface GridRange {
  sheetId?: number;
  startRowIndex?: number;
  endRowIndex?: number;
  startColumnIndex?: number;
  endColumnIndex?: number;
}

/** "Missing indexes indicate the range is unbounded on that side" (GridRange, @googleapis/sheets v4): to the grid's edge. */
const boundsOf = (tab: Tab, r: GridRange) => ({
  top: r.startRowIndex ?? 0,
  bottom: r.endRowIndex ?? tab.rowCount,
  left: r.startColumnIndex ?? 0,
  right: r.endColumnIndex ?? tab.columnCount,
});
type Bounds = ReturnType<typeof boundsOf>;

/**
 * Google's 400 for a range past a tab's grid: "Range ('tab01'!TAB1) exceeds grid limits. Max rows: 2280,
 * max columns: 178" (quoted in nithinmurali/pygsheets#124 and #416); undefined when it fits.
 */
function gridError(prefix: string, title: string, tab: Tab, b: Bounds): SandboxResponse | undefined {
  if (b.bottom <= tab.rowCount && b.right <= tab.columnCount && b.top >= 0 && b.left >= 0) return undefined;
  const range = `'${title}'!${columnLetters(b.left)}${b.top + 1}:${columnLetters(Math.max(b.left, b.right - 1))}${Math.max(b.top + 1, b.bottom)}`;
  return googleError(
    400,
    'INVALID_ARGUMENT',
    `${prefix}Range (${range}) exceeds grid limits. Max rows: ${tab.rowCount}, max columns: ${tab.columnCount}`,
  );
}

/** A block of a tab's cells, empty ones as '' (the sandbox's rows are sparse). */
const blockOf = (tab: Tab, b: Bounds): string[][] =>
  Array.from({ length: b.bottom - b.top }, (_, i) =>
    Array.from({ length: b.right - b.left }, (_, j) => tab.rows[b.top + i]?.[b.left + j] ?? ''),
  );

/** Cells of a block set in place (the grid is not grown: callers check it first). */
function putBlock(tab: Tab, top: number, left: number, block: readonly (readonly string[])[]) {
  block.forEach((cells, i) => {
    while (tab.rows.length <= top + i) tab.rows.push([]);
    const row = tab.rows[top + i] ?? [];
    while (row.length < left + cells.length) row.push('');
    cells.forEach((v, j) => {
      row[left + j] = v;
    });
    tab.rows[top + i] = row;
  });
}

/** Grid cells a tab holds: a new sheet is 1000 rows × 26 columns and grows with what is written. */
function gridCells(book: Spreadsheet): number {
  let cells = 0;
  for (const tab of book.values()) cells += tab.rowCount * tab.columnCount;
  return cells;
}

/** "Up to 10 million cells" per spreadsheet (https://developers.google.com/sheets/api/limits, Drive's file limits). */
const CELL_LIMIT = 10_000_000;
const CELL_LIMIT_MESSAGE = (limit: number) =>
  `This action would increase the number of cells in the workbook above the limit of ${limit} cells.`;

const clone = (sheet: Spreadsheet): Spreadsheet =>
  new Map([...sheet].map(([k, t]) => [k, { ...t, rows: t.rows.map((r) => [...r]) }]));

export async function startSheetsSandbox(options: {
  token?: string;
  /**
   * Service accounts the sandbox's token endpoint (`POST {url}/token`) knows: client_email → public key
   * (PEM). Each gets tokens by the JWT bearer flow, which the Sheets routes then take.
   */
  serviceAccounts?: Record<string, string>;
  spreadsheets: string[];
  /** Per-minute quotas; Google's by default, `false` for none. */
  quotas?: Partial<SheetsQuotas> | false;
  /** Earlier spelling of `quotas: { readsPerMinutePerUser, writesPerMinutePerUser }`, kept for callers using it. */
  quotaPerMinute?: number;
  /** Cells a spreadsheet may hold; Google's 10 million by default (tests pass fewer). */
  cellLimit?: number;
  /** The sandbox's clock (tests reach the next minute without waiting). */
  now?: Clock;
  latency?: LatencyProfile;
  port?: number;
}): Promise<SheetsSandbox> {
  const books = new Map<string, Spreadsheet>(
    options.spreadsheets.map((id) => [id, new Map([['Sheet1', newTab(0)]])]),
  );
  let nextSheetId = 1000;
  const perUser = options.quotaPerMinute;
  const limits =
    options.quotas === false
      ? undefined
      : {
          ...SHEETS_QUOTAS,
          ...(perUser ? { readsPerMinutePerUser: perUser, writesPerMinutePerUser: perUser } : {}),
          ...options.quotas,
        };
  const minute = (limit: number) =>
    new Quota({ limit, windowMs: 60_000, ...(options.now ? { now: options.now } : {}) });
  const quotas = limits && {
    Read: { user: minute(limits.readsPerMinutePerUser), project: minute(limits.perMinutePerProject) },
    Write: { user: minute(limits.writesPerMinutePerUser), project: minute(limits.perMinutePerProject) },
  };

  /** The 429 for a request over quota, or undefined. Reads are GETs; every other call writes. */
  function overQuota(request: SandboxRequest): SandboxResponse | undefined {
    if (!quotas || !limits) return undefined;
    const kind = request.method === 'GET' ? 'Read' : 'Write';
    // One bearer token is one user; all share the project.
    const user = String(request.headers.authorization ?? 'anonymous');
    if (!quotas[kind].user.take(user).allowed)
      return quotaError(
        kind,
        'user',
        kind === 'Read' ? limits.readsPerMinutePerUser : limits.writesPerMinutePerUser,
      );
    if (!quotas[kind].project.take().allowed) return quotaError(kind, 'project', limits.perMinutePerProject);
    return undefined;
  }

  const cellLimit = options.cellLimit ?? CELL_LIMIT;
  /** The 400 Google gives a write that would take the spreadsheet past its cell limit. */
  const overCells = (book: Spreadsheet, prefix = '') =>
    gridCells(book) > cellLimit
      ? googleError(400, 'INVALID_ARGUMENT', `${prefix}${CELL_LIMIT_MESSAGE(cellLimit)}`)
      : undefined;

  const issued = new Set<string>();
  let tokensIssued = 0;
  /** The token endpoint's own address, an assertion's audience: known once the server listens. */
  let tokenUrl = '';
  /**
   * Google's token endpoint for the JWT bearer flow: the assertion's RS256 signature checked against the
   * account's key, its audience this endpoint, its lifetime at most an hour and current; the errors as
   * Google words them ("invalid_grant: Invalid JWT Signature." and the like).
   * Source: https://developers.google.com/identity/protocols/oauth2/service-account#httprest
   */
  function token(request: SandboxRequest): SandboxResponse {
    const refuse = (error: string, description: string) => ({
      status: 400,
      body: { error, error_description: description },
    });
    const form = new URLSearchParams(typeof request.body === 'string' ? request.body : '');
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer')
      return refuse('unsupported_grant_type', 'Invalid grant_type: ');
    const [header, claims, signature, ...extra] = (form.get('assertion') ?? '').split('.');
    if (!header || !claims || !signature || extra.length > 0)
      return refuse('invalid_request', 'Invalid JWT.');
    const decode = (part: string) => {
      try {
        return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
      } catch {
        return undefined;
      }
    };
    const head = decode(header);
    const claim = decode(claims);
    if (head?.alg !== 'RS256' || !claim) return refuse('invalid_request', 'Invalid JWT.');
    const publicKey = options.serviceAccounts?.[String(claim.iss)];
    if (!publicKey) return refuse('invalid_grant', 'Invalid grant: account not found');
    const valid = createVerify('RSA-SHA256')
      .update(`${header}.${claims}`)
      .verify(publicKey, Buffer.from(signature, 'base64url'));
    if (!valid) return refuse('invalid_grant', 'Invalid JWT Signature.');
    if (claim.aud !== tokenUrl) return refuse('invalid_grant', 'Invalid JWT: Failed audience check.');
    const nowS = Math.floor((options.now?.() ?? Date.now()) / 1000);
    const iat = Number(claim.iat);
    const exp = Number(claim.exp);
    if (!(exp - iat <= 3600 && iat <= nowS + 60 && exp > nowS))
      return refuse(
        'invalid_grant',
        'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.',
      );
    if (
      !String(claim.scope ?? '')
        .split(' ')
        .includes('https://www.googleapis.com/auth/spreadsheets')
    )
      return refuse('invalid_scope', 'Invalid OAuth scope or ID token audience provided.');
    tokensIssued += 1;
    const accessToken = `ya29.sandbox-${tokensIssued}`;
    issued.add(accessToken);
    return { status: 200, body: { access_token: accessToken, expires_in: 3599, token_type: 'Bearer' } };
  }

  function route(request: SandboxRequest): SandboxResponse {
    if (request.method === 'POST' && request.path === '/token') return token(request);
    const bearer = String(request.headers.authorization ?? '').replace(/^Bearer /, '');
    if (options.token && bearer !== options.token && !issued.has(bearer)) {
      return googleError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.');
    }
    const m = request.path.match(/^\/v4\/spreadsheets\/([^/:]+)(.*)$/);
    const book = m ? books.get(m[1] ?? '') : undefined;
    if (!m || !book) return googleError(404, 'NOT_FOUND', 'Requested entity was not found.');
    const rest = m[2] ?? '';
    const limited = overQuota(request);
    if (limited) return limited;
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
              gridProperties: { rowCount: t.rowCount, columnCount: t.columnCount },
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
        const { parsed, tab } = found;
        const bounded = (n: number, count: number) => (Number.isFinite(n) ? n : count);
        const outside = gridError('', parsed.tab, tab, {
          top: parsed.startRow,
          bottom: bounded(parsed.endRow, tab.rowCount),
          left: parsed.startCol,
          right: bounded(parsed.endCol, tab.columnCount),
        });
        if (outside) return outside;
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
      const tooBig = overCells(copy);
      if (tooBig) return tooBig;
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
        const copy = clone(book);
        const tab = copy.get(found.parsed.tab) ?? found.tab;
        // Appended after the last row holding any value, as the real table detection does.
        let last = tab.rows.length;
        while (last > 0 && (tab.rows[last - 1] ?? []).every((v) => v === '')) last -= 1;
        write(tab, last, found.parsed.startCol, rows);
        const tooBig = overCells(copy);
        if (tooBig) return tooBig;
        books.set(m[1] ?? '', copy);
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
        const copy = clone(book);
        write(
          copy.get(found.parsed.tab) ?? found.tab,
          found.parsed.startRow,
          found.parsed.startCol,
          (request.body as { values?: unknown[][] }).values ?? [],
        );
        const tooBig = overCells(copy);
        if (tooBig) return tooBig;
        books.set(m[1] ?? '', copy);
        return { status: 200, body: { spreadsheetId: m[1], updatedRange: range } };
      }
    }
    const copyTo = rest.match(/^\/sheets\/(\d+):copyTo$/);
    if (copyTo && request.method === 'POST') {
      // developers.google.com/sheets/api/reference/rest/v4/spreadsheets.sheets/copyTo: answers the new SheetProperties.
      const entry = [...book].find(([, t]) => t.sheetId === Number(copyTo[1]));
      if (!entry) return googleError(404, 'NOT_FOUND', `No sheet with id: ${copyTo[1]}`);
      const destinationId = String(
        (request.body as { destinationSpreadsheetId?: string }).destinationSpreadsheetId ?? '',
      );
      const destination = books.get(destinationId);
      if (!destination) return googleError(404, 'NOT_FOUND', 'Requested entity was not found.');
      // Sheets titles a copy "Copy of <title>" (the API does not document the title; callers rename by sheetId).
      let title = `Copy of ${entry[0]}`;
      for (let n = 2; destination.has(title); n += 1) title = `Copy of ${entry[0]} ${n}`;
      const grown = clone(destination);
      const sheetId = nextSheetId++;
      grown.set(title, { ...entry[1], sheetId, rows: entry[1].rows.map((r) => [...r]) });
      const tooBig = overCells(grown);
      if (tooBig) return tooBig;
      books.set(destinationId, grown);
      return {
        status: 200,
        body: {
          sheetId,
          title,
          index: grown.size - 1,
          sheetType: 'GRID',
          gridProperties: { rowCount: entry[1].rowCount, columnCount: entry[1].columnCount },
        },
      };
    }
    if (rest === ':batchUpdate' && request.method === 'POST') {
      const copy = clone(book);
      const replies: unknown[] = [];
      const entryById = (id: number | undefined) => [...copy].find(([, t]) => t.sheetId === (id ?? 0));
      const byId = (id: number | undefined) => entryById(id)?.[1];
      const requests =
        (request.body as { requests?: Record<string, Record<string, unknown>>[] }).requests ?? [];
      for (const [i, r] of requests.entries()) {
        const noGrid = (kind: string, id: unknown) =>
          googleError(400, 'INVALID_ARGUMENT', `Invalid requests[${i}].${kind}: No grid with id: ${id}`);
        if (r.addSheet) {
          const properties = (r.addSheet.properties ?? {}) as { title?: string; sheetId?: number };
          const title = String(properties.title ?? `Sheet${nextSheetId}`);
          if (copy.has(title))
            return googleError(400, 'INVALID_ARGUMENT', `A sheet with the name "${title}" already exists.`);
          // A sheetId the caller sets is kept ("Must be non-negative. This field cannot be changed once set.":
          // SheetProperties.sheetId in @googleapis/sheets v4); two tabs never share one.
          if (
            properties.sheetId !== undefined &&
            [...copy.values()].some((t) => t.sheetId === properties.sheetId)
          )
            return googleError(
              400,
              'INVALID_ARGUMENT',
              `Invalid requests[${i}].addSheet: Sheet with id ${properties.sheetId} already exists.`,
            );
          const sheetId = properties.sheetId ?? nextSheetId++;
          copy.set(title, newTab(sheetId));
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
        } else if (r.deleteDimension || r.insertDimension) {
          const kind = r.deleteDimension ? 'deleteDimension' : 'insertDimension';
          const range = (r.deleteDimension ?? r.insertDimension)?.range as {
            sheetId?: number;
            dimension?: string;
            startIndex?: number;
            endIndex?: number;
          };
          const entry = entryById(range.sheetId);
          if (!entry) return noGrid(kind, range.sheetId);
          const [title, tab] = entry;
          // Rows only: columns are never inserted or deleted by the pipeline.
          if (range.dimension !== 'ROWS')
            return googleError(
              400,
              'INVALID_ARGUMENT',
              `Invalid requests[${i}].${kind}: only ROWS is modelled`,
            );
          const start = range.startIndex ?? 0;
          const end = range.endIndex ?? 0;
          if (end <= start)
            return googleError(
              400,
              'INVALID_ARGUMENT',
              `Invalid requests[${i}].${kind}: endIndex must be greater than startIndex`,
            );
          // Rows are inserted before an existing row (past the grid's last, appendDimension adds them).
          const outside = gridError(`Invalid requests[${i}].${kind}: `, title, tab, {
            top: start,
            bottom: r.deleteDimension ? end : start + 1,
            left: 0,
            right: 1,
          });
          if (outside) return outside;
          if (r.deleteDimension) {
            tab.rows.splice(start, end - start);
            tab.rowCount -= end - start;
          } else {
            if (start < tab.rows.length)
              tab.rows.splice(start, 0, ...Array.from({ length: end - start }, () => []));
            tab.rowCount += end - start;
          }
          replies.push({});
        } else if (r.appendDimension) {
          // "Appends rows or columns to the end of a sheet" (AppendDimensionRequest, @googleapis/sheets v4).
          const {
            sheetId,
            dimension,
            length = 0,
          } = r.appendDimension as { sheetId?: number; dimension?: string; length?: number };
          const tab = byId(sheetId);
          if (!tab) return noGrid('appendDimension', sheetId);
          if (length < 1)
            return googleError(
              400,
              'INVALID_ARGUMENT',
              `Invalid requests[${i}].appendDimension: length must be positive`,
            );
          if (dimension === 'ROWS') tab.rowCount += length;
          else if (dimension === 'COLUMNS') tab.columnCount += length;
          else
            return googleError(
              400,
              'INVALID_ARGUMENT',
              `Invalid requests[${i}].appendDimension: dimension is required`,
            );
          replies.push({});
        } else if (r.cutPaste) {
          // "Moves data from the source to the destination ... All the source data will be cut, regardless of
          // what is pasted" (CutPasteRequest, @googleapis/sheets v4): the source cells are left empty.
          const { source = {}, destination = {} } = r.cutPaste as {
            source?: GridRange;
            destination?: { sheetId?: number; rowIndex?: number; columnIndex?: number };
          };
          const from = entryById(source.sheetId);
          const to = entryById(destination.sheetId);
          if (!from || !to) return noGrid('cutPaste', from ? destination.sheetId : source.sheetId);
          const prefix = `Invalid requests[${i}].cutPaste: `;
          const b = boundsOf(from[1], source);
          const top = destination.rowIndex ?? 0;
          const left = destination.columnIndex ?? 0;
          const outside =
            gridError(prefix, from[0], from[1], b) ??
            gridError(prefix, to[0], to[1], {
              top,
              bottom: top + b.bottom - b.top,
              left,
              right: left + b.right - b.left,
            });
          if (outside) return outside;
          const block = blockOf(from[1], b);
          putBlock(
            from[1],
            b.top,
            b.left,
            block.map((cells) => cells.map(() => '')),
          );
          putBlock(to[1], top, left, block);
          replies.push({});
        } else if (r.repeatCell) {
          // "Updates all cells in the range to the values in the given Cell object. Only the fields listed in
          // the fields field are updated" (RepeatCellRequest, @googleapis/sheets v4).
          const {
            range = {},
            cell = {},
            fields = '',
          } = r.repeatCell as {
            range?: GridRange;
            cell?: { userEnteredValue?: Record<string, unknown> };
            fields?: string;
          };
          const entry = entryById(range.sheetId);
          if (!entry) return noGrid('repeatCell', range.sheetId);
          if (!fields)
            return googleError(
              400,
              'INVALID_ARGUMENT',
              `Invalid requests[${i}].repeatCell: fields is required`,
            );
          const b = boundsOf(entry[1], range);
          const outside = gridError(`Invalid requests[${i}].repeatCell: `, entry[0], entry[1], b);
          if (outside) return outside;
          if (fields.split(',').some((f) => f.trim() === 'userEnteredValue' || f.trim() === '*')) {
            const value = String(Object.values(cell.userEnteredValue ?? {})[0] ?? '');
            putBlock(
              entry[1],
              b.top,
              b.left,
              Array.from({ length: b.bottom - b.top }, () =>
                Array.from({ length: b.right - b.left }, () => value),
              ),
            );
          }
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
        } else if (r.deleteSheet) {
          const id = (r.deleteSheet as { sheetId?: number }).sheetId;
          const entry = [...copy].find(([, t]) => t.sheetId === id);
          if (!entry)
            return googleError(
              400,
              'INVALID_ARGUMENT',
              `Invalid requests[${i}].deleteSheet: No sheet with id: ${id}`,
            );
          if (copy.size === 1)
            return googleError(
              400,
              'INVALID_ARGUMENT',
              `Invalid requests[${i}].deleteSheet: You can't remove all the sheets in a document.`,
            );
          copy.delete(entry[0]);
          replies.push({});
        } else if (r.updateSheetProperties) {
          const { properties = {}, fields = '' } = r.updateSheetProperties as {
            properties?: { sheetId?: number; title?: string };
            fields?: string;
          };
          const entry = [...copy].find(([, t]) => t.sheetId === properties.sheetId);
          if (!entry) return noGrid('updateSheetProperties', properties.sheetId);
          const title = properties.title;
          if (fields.split(',').includes('title') && title && title !== entry[0]) {
            if (copy.has(title))
              return googleError(
                400,
                'INVALID_ARGUMENT',
                `Invalid requests[${i}].updateSheetProperties: A sheet with the name "${title}" already exists. Please enter another name.`,
              );
            copy.delete(entry[0]);
            copy.set(title, entry[1]);
          }
          replies.push({});
        } else {
          return googleError(400, 'INVALID_ARGUMENT', `unsupported request ${Object.keys(r).join(',')}`);
        }
        if (r.addSheet || r.appendCells || r.updateCells || r.insertDimension || r.appendDimension) {
          // Google names the request that crossed the limit: "Invalid requests[45].addSheet: ...".
          const tooBig = overCells(copy, `Invalid requests[${i}].${Object.keys(r)[0]}: `);
          if (tooBig) return tooBig;
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
    ...(options.latency ? { latency: options.latency } : {}),
    realisticLatency: sheetsLatencyMs,
    route,
    faultResponse: (fault, request) =>
      fault.kind === 'rate-limit'
        ? quotaError(request.method === 'GET' ? 'Read' : 'Write', 'user', SHEETS_QUOTAS.readsPerMinutePerUser)
        : googleError(500, 'INTERNAL', 'Internal error encountered.'),
  });
  tokenUrl = `${server.url}/token`;
  return {
    ...server,
    tokenUrl,
    tab: (spreadsheetId, title) =>
      books
        .get(spreadsheetId)
        ?.get(title)
        ?.rows.map((r) => [...r]),
    setTab: (spreadsheetId, title, rows) => {
      const book = books.get(spreadsheetId);
      if (!book) throw new Error(`no spreadsheet ${spreadsheetId}`);
      const existing = book.get(title);
      book.set(
        title,
        newTab(
          existing?.sheetId ?? nextSheetId++,
          rows.map((r) => [...r]),
        ),
      );
    },
  };
}
