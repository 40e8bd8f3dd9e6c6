/**
 * In-memory implementations of the ports, for use-case tests. They keep the
 * ports' promises (atomic moveRows, conditional writes) so the use cases are
 * tested against the same contract the real adapters honour.
 */
import { parseConfig } from '../../shared/config/load';
import type { PipelineConfig } from '../../shared/config/schema';
import type { PostAnalysis } from '../../shared/domain/post';
import type {
  Analyzer,
  AutoResumeRecord,
  CellWriter,
  ChannelPageRequest,
  ChannelSource,
  DeliveryJournal,
  DeliveryReceipt,
  DeliveryRecord,
  DraftSettings,
  LockResult,
  ObjectStore,
  OpenedTabs,
  PublicationJournal,
  PublicationRecord,
  PublishedLookup,
  PublishedPart,
  Publisher,
  PublishUnit,
  ReviewRecord,
  ReviewStore,
  RowsMove,
  RowUpdate,
  RunLedger,
  RunRecord,
  SheetLayout,
  SheetReads,
  SheetStore,
  SheetTable,
  StepName,
  StepRecord,
  TabSpec,
  TabUpdate,
  UnknownResolution,
} from '../../shared/ports';

export function testPipeline(overrides: Record<string, unknown> = {}): PipelineConfig {
  const config = parseConfig(
    {
      pipelines: [
        {
          id: 'demo',
          discord: { channelId: '1200000000000000000', window: { mode: 'daily', days: 1 } },
          sheet: { spreadsheetId: 'sheet-0000000001' },
          publisher: { kind: 'x', mode: 'thread' },
          schedules: [{ name: 'morning', dailyAt: '09:00', timeZone: 'Europe/Berlin' }],
          ...overrides,
        },
      ],
    },
    'test',
  );
  const pipeline = config.pipelines[0];
  if (!pipeline) throw new Error('no pipeline');
  return pipeline;
}

export class FakeChannel implements ChannelSource {
  readonly requests: ChannelPageRequest[] = [];
  constructor(private readonly messages: { id: string }[]) {}
  async fetchPage(request: ChannelPageRequest): Promise<unknown[]> {
    this.requests.push(request);
    const after = BigInt(request.after);
    return this.messages
      .filter((m) => /^\d+$/.test(m.id) && BigInt(m.id) > after)
      .sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1))
      .slice(0, request.limit)
      .reverse(); // newest first, as Discord answers
  }
}

export class FakeObjectStore implements ObjectStore {
  readonly objects = new Map<string, string>();
  /** Each object's tags, which move with it as CopyObject copies them. */
  readonly tags = new Map<string, Readonly<Record<string, string>>>();
  async putIfAbsent(
    key: string,
    body: string,
    _contentType?: string,
    options?: { tags?: Readonly<Record<string, string>> },
  ): Promise<boolean> {
    if (this.objects.has(key)) return false;
    this.objects.set(key, body);
    if (options?.tags) this.tags.set(key, options.tags);
    return true;
  }
  async putPiecesIfAbsent(
    key: string,
    pieces: AsyncIterable<string>,
    contentType?: string,
    options?: { tags?: Readonly<Record<string, string>> },
  ): Promise<boolean> {
    let body = '';
    for await (const piece of pieces) body += piece;
    return this.putIfAbsent(key, body, contentType, options);
  }
  async getText(key: string): Promise<string | undefined> {
    return this.objects.get(key);
  }
  async move(from: string, to: string): Promise<void> {
    const body = this.objects.get(from);
    if (body === undefined) return;
    this.objects.set(to, body);
    this.objects.delete(from);
    const tags = this.tags.get(from);
    if (tags) this.tags.set(to, tags);
    this.tags.delete(from);
  }
}

/** A spreadsheet as a map of tab → rows of cells (row 0 = headers). */
export class FakeSheetStore implements SheetStore {
  readonly tabs = new Map<string, string[][]>();
  readonly calls: string[] = [];
  /** Make the next call of this method throw. */
  failNext: { method: string; error: Error } | undefined;

  private check(method: string) {
    this.calls.push(method);
    if (this.failNext?.method === method) {
      const { error } = this.failNext;
      this.failNext = undefined;
      throw error;
    }
  }
  private rowsOf(tab: string): string[][] {
    const rows = this.tabs.get(tab);
    if (!rows) throw new Error(`no tab ${tab}`);
    return rows;
  }
  async ensureTab(tab: string, headers: readonly string[]): Promise<string[]> {
    this.check('ensureTab');
    const rows = this.tabs.get(tab) ?? [[]];
    const head = rows[0] ?? [];
    for (const h of headers) if (!head.includes(h)) head.push(h);
    rows[0] = head;
    this.tabs.set(tab, rows);
    return [...head];
  }
  async layout(): Promise<SheetLayout> {
    this.check('layout');
    return FakeSheetStore.layoutOfTabs(this.tabs);
  }
  private static layoutOfTabs(tabs: Map<string, string[][]>): SheetLayout {
    const layout = [...tabs].map(([title, rows], i) => ({
      title,
      sheetId: i,
      rowCount: Math.max(1000, rows.length),
      columnCount: Math.max(26, ...rows.map((r) => r.length)),
    }));
    return { tabs: layout, cellsUsed: layout.reduce((sum, t) => sum + t.rowCount * t.columnCount, 0) };
  }
  /** Other spreadsheets the credentials reach (an archive spreadsheet), by id. */
  readonly others = new Map<string, Map<string, string[][]>>();
  private other(id: string): Map<string, string[][]> {
    const book = this.others.get(id);
    if (!book) throw new Error(`Requested entity was not found: spreadsheet ${id}`);
    return book;
  }
  async layoutOf(spreadsheetId: string): Promise<SheetLayout> {
    this.check('layoutOf');
    return FakeSheetStore.layoutOfTabs(this.other(spreadsheetId));
  }
  async transferTab(tab: string, destinationSpreadsheetId: string): Promise<void> {
    this.check('transferTab');
    const rows = this.tabs.get(tab);
    if (!rows) return;
    const destination = this.other(destinationSpreadsheetId);
    if (!destination.has(tab))
      destination.set(
        tab,
        rows.map((r) => [...r]),
      );
    this.tabs.delete(tab);
  }
  async openTabs(specs: readonly TabSpec[], reads: SheetReads): Promise<OpenedTabs> {
    this.check('openTabs');
    const headers = new Map<string, string[]>();
    for (const spec of specs) {
      const rows = this.tabs.get(spec.tab) ?? [[]];
      const head = rows[0] ?? [];
      for (const h of spec.headers) if (!head.includes(h)) head.push(h);
      rows[0] = head;
      this.tabs.set(spec.tab, rows);
      headers.set(spec.tab, [...head]);
    }
    const tables = new Map<string, SheetTable>();
    for (const tab of reads.tables ?? []) if (this.tabs.has(tab)) tables.set(tab, this.table(tab));
    const columns = new Map<string, string[]>();
    const byHeader = new Map<string, string[]>();
    for (const { tab, header } of reads.columns ?? []) {
      const rows = this.tabs.get(tab) ?? [];
      const index = (rows[0] ?? []).indexOf(header);
      const values = index < 0 ? [] : rows.slice(1).map((r) => r[index] ?? '');
      columns.set(tab, values);
      byHeader.set(`${tab}\n${header}`, values);
    }
    const streamed = reads.rows?.tab;
    if (streamed && !headers.has(streamed)) headers.set(streamed, [...(this.tabs.get(streamed)?.[0] ?? [])]);
    const data = streamed ? (this.tabs.get(streamed) ?? []).slice(1).map((r) => [...r]) : [];
    async function* rows() {
      for (const [i, cells] of data.entries()) yield { rowNumber: i + 2, cells };
    }
    return {
      headers,
      tables,
      columns,
      column: (tab, header) => byHeader.get(`${tab}\n${header}`) ?? [],
      rows: rows(),
    };
  }
  async updateTabs(writes: readonly TabUpdate[]): Promise<void> {
    this.check('updateTabs');
    for (const w of writes) this.write(w.tab, w.updates);
  }
  /** Writes are applied when the writer closes, as one updateTabs. */
  cellWriter(): CellWriter {
    const writes: TabUpdate[] = [];
    return {
      write: async (tab, headers, update) => {
        writes.push({ tab, headers, updates: [update] });
      },
      close: async () => {
        if (writes.length > 0) await this.updateTabs(writes);
      },
    };
  }
  async readColumn(tabs: readonly string[], header: string): Promise<Map<string, string[]>> {
    this.check('readColumn');
    const result = new Map<string, string[]>();
    for (const tab of tabs) {
      const rows = this.tabs.get(tab) ?? [];
      const index = (rows[0] ?? []).indexOf(header);
      result.set(tab, index < 0 ? [] : rows.slice(1).map((r) => r[index] ?? ''));
    }
    return result;
  }
  async readTable(tab: string): Promise<SheetTable> {
    this.check('readTable');
    return this.table(tab);
  }
  private table(tab: string): SheetTable {
    const rows = this.rowsOf(tab);
    const headers = rows[0] ?? [];
    return {
      headers: [...headers],
      rows: rows.slice(1).map((cells, i) => ({
        rowNumber: i + 2,
        values: Object.fromEntries(headers.map((h, j) => [h, cells[j] ?? ''])),
      })),
    };
  }
  async appendRows(
    tab: string,
    _headers: readonly string[],
    rows: Iterable<Record<string, string>> | AsyncIterable<Record<string, string>>,
  ) {
    const fresh: Record<string, string>[] = [];
    for await (const row of rows) fresh.push(row);
    // As the adapter: nothing to append is no request.
    if (fresh.length === 0) return;
    this.check('appendRows');
    const all = this.rowsOf(tab);
    const head = all[0] ?? [];
    for (const row of fresh) all.push(head.map((h) => row[h] ?? ''));
  }
  private write(tab: string, updates: readonly RowUpdate[]) {
    const all = this.rowsOf(tab);
    const head = all[0] ?? [];
    for (const u of updates) {
      const row = all[u.rowNumber - 1] ?? [];
      for (const [k, v] of Object.entries(u.values)) {
        const j = head.indexOf(k);
        if (j >= 0) row[j] = v;
      }
      all[u.rowNumber - 1] = row;
    }
  }
  /** As the adapter's: one atomic move, the archive-only columns stamped on every moved row. */
  async moveRows(move: RowsMove) {
    if (move.rows.length === 0 && move.drop.length === 0 && !move.writes?.length) return;
    this.check('moveRows');
    // The other rows' cells are part of the same atomic request.
    for (const w of move.writes ?? []) this.write(w.tab, w.updates);
    const main = this.rowsOf(move.mainTab);
    // As the adapter does: a new (rotated) archive tab is added with the move.
    if (!this.tabs.has(move.archiveTab)) this.tabs.set(move.archiveTab, [[...move.archiveHeaders]]);
    const archive = this.rowsOf(move.archiveTab);
    const head = archive[0] ?? [];
    const mainHead = main[0] ?? [];
    const moved = move.rows.map((n) => {
      const cells = main[n - 1] ?? [];
      const values = { ...Object.fromEntries(mainHead.map((h, j) => [h, cells[j] ?? ''])), ...move.stamp };
      return head.map((h) => values[h] ?? '');
    });
    archive.splice(move.archiveRow - 1, 0, ...moved);
    for (const n of [...move.rows, ...move.drop].sort((a, b) => b - a)) main.splice(n - 1, 1);
  }
  /** Data rows of a tab as records, for assertions. */
  records(tab: string): Record<string, string>[] {
    const rows = this.tabs.get(tab) ?? [];
    const head = rows[0] ?? [];
    return rows.slice(1).map((r) => Object.fromEntries(head.map((h, j) => [h, r[j] ?? ''])));
  }
}

export class FakeAnalyzer implements Analyzer {
  readonly batches: number[] = [];
  drafts = 0;
  /** Message ids the "model" leaves out of its answer. */
  skip = new Set<string>();
  failWith: Error | undefined;
  async analyzePosts(posts: readonly { messageId: string; content: string }[]): Promise<PostAnalysis[]> {
    if (this.failWith) throw this.failWith;
    this.batches.push(posts.length);
    return posts
      .filter((p) => !this.skip.has(p.messageId))
      .map((p) => ({
        messageId: p.messageId,
        isNewProject: /launch/i.test(p.content),
        projectHandle: '@p',
        projectLink: 'https://x.com/p',
        summary: p.content.slice(0, 40),
      }));
  }
  /** The settings of the last draft request (its date label, its length). */
  lastDraftSettings: DraftSettings | undefined;
  async writeDraft(analyses: readonly PostAnalysis[], settings: DraftSettings): Promise<string> {
    this.drafts += 1;
    this.lastDraftSettings = settings;
    return analyses.map((a, i) => `${i + 1}. ${a.summary} ${'word '.repeat(30)}`).join('\n');
  }
}

export class FakePublisher implements Publisher {
  readonly kind = 'x' as const;
  readonly posts: { id: string; text: string; replyTo: string | undefined }[] = [];
  /** Errors to throw on the n-th publish call (1-based); `afterEffect` posts before throwing. */
  faults = new Map<number, { error: Error; afterEffect: boolean }>();
  private calls = 0;
  constructor(readonly takesWholeThread = false) {}
  /** When set, looking on the account is refused with this reason (a plan that cannot read it). */
  lookupRefused: string | undefined;
  async publish({ parts, replyTo }: PublishUnit): Promise<PublishedPart> {
    this.calls += 1;
    const fault = this.faults.get(this.calls);
    if (fault && !fault.afterEffect) throw fault.error;
    const id = String(1000 + this.posts.length);
    this.posts.push({ id, text: parts.join('\n---\n'), replyTo });
    if (fault) throw fault.error;
    return { id, url: `https://x.com/i/web/status/${id}` };
  }
  async findPublished({ parts }: PublishUnit): Promise<PublishedLookup> {
    if (this.lookupRefused) return { status: 'refused', reason: this.lookupRefused };
    const text = parts.join('\n---\n');
    const post = [...this.posts].reverse().find((p) => p.text === text);
    return post
      ? { status: 'found', part: { id: post.id, url: `https://x.com/i/web/status/${post.id}` } }
      : { status: 'absent' };
  }
}

export class FakeLedger implements RunLedger {
  readonly runs = new Map<string, RunRecord>();
  lock: { holder: string; leaseUntil: number } | undefined;
  async createRun(record: RunRecord) {
    const existing = this.runs.get(record.runId);
    if (existing) return { created: false as const, existing: structuredClone(existing) };
    this.runs.set(record.runId, structuredClone(record));
    return { created: true as const };
  }
  async getRun(_p: string, runId: string) {
    return this.runs.get(runId);
  }
  async recordStep(_p: string, runId: string, step: StepName, record: StepRecord) {
    const run = this.runs.get(runId);
    if (run) run.steps[step] = record;
  }
  async finishRun(
    _p: string,
    runId: string,
    result: { status: RunRecord['status']; endedAt: string; reason?: string },
  ) {
    const run = this.runs.get(runId);
    if (run) Object.assign(run, result);
  }
  async listRuns() {
    return [...this.runs.values()].reverse();
  }
  async recordAutoResume(_p: string, runId: string, plan: AutoResumeRecord) {
    const run = this.runs.get(runId);
    if (run) run.autoResume = structuredClone(plan);
  }
  async claimResume(_p: string, runId: string, claim: { executionId: string; automatic: boolean }) {
    const run = this.runs.get(runId);
    const resumable = run && (run.status === 'failed' || run.status === 'partial');
    if (!run || !resumable || (claim.automatic && run.autoResume?.state !== 'scheduled')) {
      return { claimed: false as const, existing: run ? structuredClone(run) : undefined };
    }
    run.status = 'running';
    run.executionId = claim.executionId;
    if (claim.automatic && run.autoResume) run.autoResume.state = 'started';
    return { claimed: true as const };
  }
  async acquireLock(_p: string, runId: string, nowMs: number, leaseMs: number): Promise<LockResult> {
    const held = this.lock;
    if (held && held.holder !== runId && held.leaseUntil >= nowMs) {
      return { acquired: false, heldBy: held.holder, leaseUntil: held.leaseUntil };
    }
    this.lock = { holder: runId, leaseUntil: nowMs + leaseMs };
    return held && held.holder !== runId
      ? { acquired: true, takenOverFrom: { runId: held.holder, leaseUntil: held.leaseUntil } }
      : { acquired: true };
  }
  async getLock() {
    return this.lock ? { ...this.lock } : undefined;
  }
  async releaseLock(_p: string, runId: string) {
    if (this.lock?.holder === runId) this.lock = undefined;
  }
}

export class FakeJournal implements PublicationJournal {
  readonly records = new Map<string, PublicationRecord>();
  async get(_p: string, runId: string) {
    return this.records.get(runId);
  }
  async begin(pipelineId: string, runId: string, parts: readonly string[]) {
    const existing = this.records.get(runId);
    if (existing) return structuredClone(existing);
    const record: PublicationRecord = {
      pipelineId,
      runId,
      parts: [...parts],
      published: [],
      status: 'in_progress',
    };
    this.records.set(runId, record);
    return structuredClone(record);
  }
  async markAttempt(_p: string, runId: string, index: number) {
    const r = this.records.get(runId);
    if (r) r.attempting = index;
  }
  async confirmPart(_p: string, runId: string, index: number, part: PublishedPart) {
    const r = this.records.get(runId);
    if (!r) return;
    r.published[index] = part;
    if (r.attempting === index) delete r.attempting;
  }
  async complete(_p: string, runId: string) {
    const r = this.records.get(runId);
    if (r) r.status = 'completed';
  }
  async clearAttempt(_p: string, runId: string, index: number) {
    const r = this.records.get(runId);
    if (r?.attempting === index) delete r.attempting;
  }
  async markUnknown(_p: string, runId: string, index: number, reason: string) {
    const r = this.records.get(runId);
    if (r) Object.assign(r, { status: 'unknown', attempting: index, unknownReason: reason });
  }
  async resolveUnknown(_p: string, runId: string, resolution: UnknownResolution) {
    const r = this.records.get(runId);
    if (r?.status !== 'unknown' || r.attempting === undefined)
      throw new Error(`no unknown outcome for ${runId}`);
    if (resolution.published) r.published[r.attempting] = resolution.published;
    r.status = 'in_progress';
    delete r.attempting;
    delete r.unknownReason;
    return structuredClone(r);
  }
}

/** The delivery journal's contract in memory: a record per key, created once, failed ones retried. */
export class FakeDeliveryJournal implements DeliveryJournal {
  readonly records = new Map<string, DeliveryRecord>();
  async get(_p: string, key: string) {
    const r = this.records.get(key);
    return r ? structuredClone(r) : undefined;
  }
  async beginAttempt(pipelineId: string, key: string, destination: string) {
    const existing = this.records.get(key);
    if (!existing) {
      this.records.set(key, {
        pipelineId,
        key,
        destination,
        status: 'attempting',
        confirmed: [],
        attempts: 1,
      });
      return undefined;
    }
    const before = structuredClone(existing);
    if (existing.status === 'failed') {
      existing.status = 'attempting';
      existing.attempts += 1;
      delete existing.error;
    }
    return before;
  }
  async confirmPiece(_p: string, key: string, index: number, id: string) {
    const r = this.records.get(key);
    if (!r || r.confirmed.length < index) throw new Error(`piece ${index} of ${key} out of order`);
    r.confirmed[index] = id;
  }
  async complete(_p: string, key: string, receipt: DeliveryReceipt) {
    const r = this.records.get(key);
    if (r) Object.assign(r, { status: 'delivered', receipt });
  }
  async fail(_p: string, key: string, error: string) {
    const r = this.records.get(key);
    if (r) Object.assign(r, { status: 'failed', error });
  }
  async markUnknown(_p: string, key: string, reason: string) {
    const r = this.records.get(key);
    if (r) Object.assign(r, { status: 'unknown', error: reason });
  }
  async releaseUnknown(_p: string, key: string) {
    const r = this.records.get(key);
    if (r?.status !== 'unknown') return false;
    Object.assign(r, { status: 'failed', error: 'the operator said it did not arrive' });
    return true;
  }
}

export const silentLog = () => {};

/** Reviews in memory, with the deployed store's one rule: only a pending, unexpired review is decided. */
export class FakeReviewStore implements ReviewStore {
  readonly reviews = new Map<string, ReviewRecord>();
  async request(record: Omit<ReviewRecord, 'status'>) {
    this.reviews.set(record.runId, { ...record, status: 'pending' });
  }
  async get(_pipelineId: string, runId: string) {
    const review = this.reviews.get(runId);
    return review ? structuredClone(review) : undefined;
  }
  async decide(
    _pipelineId: string,
    runId: string,
    d: { decision: 'approve' | 'reject'; by: string; at: string; reason?: string },
  ) {
    const review = this.reviews.get(runId);
    if (review?.status !== 'pending' || review.deadline <= d.at) return undefined;
    const decided: ReviewRecord = {
      ...review,
      status: d.decision === 'approve' ? 'approved' : 'rejected',
      decidedBy: d.by,
      decidedAt: d.at,
      ...(d.reason ? { reason: d.reason } : {}),
    };
    this.reviews.set(runId, decided);
    return structuredClone(decided);
  }
}
