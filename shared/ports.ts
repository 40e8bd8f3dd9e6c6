/**
 * Ports: what the use cases in `pipeline/` need from the outside world.
 * Adapters in `adapters/` implement them, one module per external API.
 */
import type { PostAnalysis } from './domain/post';

// ─── Quotas ─────────────────────────────────────────────────────────────────

/**
 * The service quotas whose use an adapter can learn, by API: from the answer's headers (Discord's route
 * bucket, X's windows), from a 429 naming the spent quota (Gemini), or from its own count (Sheets, which
 * sends no quota headers).
 */
export const QUOTAS = {
  discord: ['route-bucket'],
  sheets: ['reads-per-minute', 'writes-per-minute'],
  gemini: ['requests-per-minute', 'requests-per-day', 'input-tokens-per-minute'],
  x: ['15-minute-window', 'user-24-hour', 'app-24-hour'],
} as const;
export type QuotaApi = keyof typeof QUOTAS;
export type QuotaName<A extends QuotaApi> = (typeof QUOTAS)[A][number];

/** How much of one quota is used, as one answer (or our own count) says. */
export type QuotaUse = {
  [A in QuotaApi]: { api: A; quota: QuotaName<A>; used: number; limit: number };
}[QuotaApi];

/** Told each time an adapter learns a quota's use; it never throws into the request. */
export type QuotaObserver = (use: QuotaUse) => void;

// ─── Discord ────────────────────────────────────────────────────────────────

export interface ChannelPageRequest {
  channelId: string;
  /** Only messages with a larger snowflake id. */
  after: string;
  /** 1..100 */
  limit: number;
}

export interface ChannelSource {
  /**
   * One page of raw messages as the API returns them (newest first, even with
   * `after`). Items are `unknown`: the domain validates each and counts bad ones.
   */
  fetchPage(request: ChannelPageRequest): Promise<unknown[]>;
  /**
   * The channel's `last_message_id` (may point to a deleted message), to tell
   * a quiet channel from one the bot may not read the history of.
   */
  lastMessageId?(channelId: string): Promise<string | undefined>;
}

// ─── Google Sheets ──────────────────────────────────────────────────────────

/** One data row of a tab; `rowNumber` is 1-based as in A1 notation (row 1 is the header). */
export interface SheetRow {
  rowNumber: number;
  values: Record<string, string>;
}

export interface SheetTable {
  headers: string[];
  rows: SheetRow[];
}

export interface RowUpdate {
  rowNumber: number;
  /** Only these columns are written; the row's other cells are left alone. */
  values: Record<string, string>;
}

/**
 * Rows of the main tab moved to an archive tab by the server (cut and pasted, never read and sent again),
 * so the request stays small whatever the rows hold.
 */
export interface RowsMove {
  mainTab: string;
  /** The main tab's header row: its columns are pasted under the archive's of the same name. */
  mainHeaders: readonly string[];
  archiveTab: string;
  archiveHeaders: readonly string[];
  /** The archive tab's row after its last message (A1): the moved rows go there, in their order. */
  archiveRow: number;
  /** Main-tab rows (A1 numbers, ascending) moved to the archive tab. */
  rows: readonly number[];
  /** Main-tab rows (A1 numbers, ascending) only deleted: their message is archived already. */
  drop: readonly number[];
  /** Cells every moved row gets in the archive tab, by header: the same for each row of the move. */
  stamp: Readonly<Record<string, string>>;
  /**
   * Cells of other tabs' rows written in the same atomic batchUpdate (the run's Drafts row status), so
   * they cost no request of their own: with the move's first part, or alone when nothing is to move.
   */
  writes?: readonly TabUpdate[];
}

/** A data row of a tab, as streamed: cells in its header order (trailing empty cells left out). */
export interface TabRow {
  /** 1-based, as in A1 notation (row 1 is the header). */
  rowNumber: number;
  cells: string[];
}

/** A tab to make sure of: it exists and its header row holds every one of `headers`. */
export interface TabSpec {
  tab: string;
  headers: readonly string[];
}

/** What `openTabs` reads in its one batched read. */
export interface SheetReads {
  /** Tabs read whole: header row and every data row. */
  tables?: readonly string[];
  /** One column (by header name) of a tab: data rows only. */
  columns?: readonly { tab: string; header: string }[];
  /**
   * Every data row of a tab (row 2 on), last in the same read: handed over as the answer is parsed, so
   * a tab of any length is one request and only the row at hand is held.
   */
  rows?: { tab: string };
}

/** Every tab of the spreadsheet and the grid cells they hold (Google counts rowCount × columnCount). */
export interface SheetLayout {
  tabs: { title: string; sheetId: number; rowCount: number; columnCount: number }[];
  cellsUsed: number;
}

export interface OpenedTabs {
  /** Each ensured tab's header row afterwards, and the streamed tab's. */
  headers: Map<string, string[]>;
  tables: Map<string, SheetTable>;
  /** Values of each requested column, by tab; [] for a tab without that header. */
  columns: Map<string, string[]>;
  /** A requested column by tab and header: several columns of one tab are read at once. */
  column(tab: string, header: string): string[];
  /**
   * The streamed tab's data rows in row order (trailing empty rows left out); empty without `reads.rows`.
   * Read it once, before the next request of the store that needs its answer parsed.
   */
  rows: AsyncIterable<TabRow>;
}

/** Cell writes of several tabs, each values:batchUpdate sent as soon as the next range would take it over the payload limit. */
export interface CellWriter {
  write(tab: string, headers: readonly string[], update: RowUpdate): Promise<void>;
  /** Send what is left; nothing is sent when nothing was written. */
  close(): Promise<void>;
}

/** Cells of existing rows of one tab to write; a row past the last is an append at a known row. */
export interface TabUpdate {
  tab: string;
  headers: readonly string[];
  updates: readonly RowUpdate[];
}

export interface SheetStore {
  /**
   * Make sure the tab exists and its header row holds every one of `headers`:
   * creates the tab, writes the header row, or appends missing header cells,
   * never rewriting data rows. Returns the tab's header row afterwards.
   */
  ensureTab(tab: string, headers: readonly string[]): Promise<string[]>;
  /**
   * The values of one column (by header name) for several tabs, in one request:
   * data rows only (the header row excluded), in row order; a tab without that header gives [].
   */
  readColumn(tabs: readonly string[], header: string): Promise<Map<string, string[]>>;
  /** Header row and all data rows of a tab (empty rows are kept so row numbers stay true). */
  readTable(tab: string): Promise<SheetTable>;
  /**
   * Append rows, each value placed under the header of its key: one request, or one each time the next
   * row would take it over the payload limit. The rows may come from an async iterable, so only one
   * request's rows are held.
   */
  appendRows(
    tab: string,
    headers: readonly string[],
    rows: Iterable<Record<string, string>> | AsyncIterable<Record<string, string>>,
  ): Promise<void>;
  /**
   * The spreadsheet's tabs and cells in use: one spreadsheets.get, kept for the
   * store's lifetime. A layout handed over by an earlier step of the same run
   * is taken instead of the request (a stale sheet id is looked up again).
   */
  layout(handedOver?: SheetLayout): Promise<SheetLayout>;
  /**
   * Ensure several tabs and read their headers, whole tables and columns in
   * one values:batchGet. Missing tabs and header cells are added in one
   * batchUpdate. Without a `layout()` first, the tabs are assumed to exist
   * (no spreadsheets.get) and looked up only if one turns out missing.
   */
  openTabs(tabs: readonly TabSpec[], reads: SheetReads): Promise<OpenedTabs>;
  /** Write cells of several tabs in one values:batchUpdate (split only where the payload limit says). */
  updateTabs(writes: readonly TabUpdate[]): Promise<void>;
  /** The same writes given one row at a time, sent as each request fills. */
  cellWriter(): CellWriter;
  /**
   * Move rows of the main tab to the archive tab and delete them (and the `drop` rows) from the main tab
   * in one atomic batchUpdate: either all happens or nothing does. An archive tab the spreadsheet does not
   * have yet is added in the same batchUpdate. The request grows with the runs of adjacent rows, not with
   * what they hold; past the payload limit it is split top down, each part atomic.
   */
  moveRows(move: RowsMove): Promise<void>;
  /** The tabs and cells in use of another spreadsheet the same credentials reach: one spreadsheets.get. */
  layoutOf(spreadsheetId: string): Promise<SheetLayout>;
  /**
   * Move a whole tab to another spreadsheet under the same title: a copy there, then the tab
   * deleted here. A copy an interrupted transfer left behind is taken over, not made again; a
   * tab that is no longer here has been transferred already.
   */
  transferTab(tab: string, destinationSpreadsheetId: string): Promise<void>;
}

// ─── Gemini ─────────────────────────────────────────────────────────────────

export interface PostForAnalysis {
  messageId: string;
  content: string;
  postLink: string;
  author: string;
}

export interface AnalysisSettings {
  model: string;
  topic: string;
  language: string;
  temperature: number;
}

export interface DraftSettings extends AnalysisSettings {
  maxDraftItems: number;
  /** Weighted characters the whole draft should aim for (one post: 280). */
  targetLength: number;
  /** Today, in the pipeline's reporting time zone, for the draft's heading. */
  dateLabel: string;
}

export interface Analyzer {
  /** Judge and summarise a batch of posts in one request. */
  analyzePosts(posts: readonly PostForAnalysis[], settings: AnalysisSettings): Promise<PostAnalysis[]>;
  /** Write the daily draft from the analysed posts in one request. */
  writeDraft(
    analyses: readonly (PostAnalysis & { postLink: string })[],
    settings: DraftSettings,
  ): Promise<string>;
}

// ─── Publishing (X, Typefully) ──────────────────────────────────────────────

export interface PublishedPart {
  /** Post id on X, or the draft id on Typefully. */
  id: string;
  url: string;
}

/** One call's worth of a run's draft: the whole thread (Typefully) or part `index` (X). */
export interface PublishUnit {
  pipelineId: string;
  runId: string;
  /** Index of the (first) part in the draft. */
  index: number;
  parts: readonly string[];
  /** The id of the previous part of an X thread. */
  replyTo?: string;
}

/** What looking on the account found for a unit whose outcome is unknown. */
export type PublishedLookup =
  | { status: 'found'; part: PublishedPart }
  | { status: 'absent' }
  /** The account cannot be read (e.g. the X plan may not read its timeline): nobody can say. */
  | { status: 'refused'; reason: string };

export interface Publisher {
  readonly kind: 'x' | 'typefully';
  /**
   * True when one call takes a whole thread (Typefully drafts); false when each
   * part is its own call replying to the previous one (X).
   */
  readonly takesWholeThread: boolean;
  /** Publish `unit.parts` (exactly one part unless `takesWholeThread`). */
  publish(unit: PublishUnit): Promise<PublishedPart>;
  /**
   * After an unknown outcome (timeout, crash after send): look on the account
   * for `unit`, by what it reliably carries (its text on X, its title on
   * Typefully), so it is adopted rather than sent twice.
   */
  findPublished(unit: PublishUnit): Promise<PublishedLookup>;
}

// ─── S3 ─────────────────────────────────────────────────────────────────────

export interface ObjectStore {
  /**
   * Write only if the key does not exist yet; returns false (and writes nothing) if it does. `tags` go on the
   * object (a lifecycle rule may expire it by them) and follow it through `move`.
   */
  putIfAbsent(
    key: string,
    body: string,
    contentType: string,
    options?: { tags?: Readonly<Record<string, string>> },
  ): Promise<boolean>;
  /**
   * Write the pieces, in order, as one object, holding only a few MiB of them at a time; written only if the
   * key does not exist yet (false otherwise). `tags` as for `putIfAbsent`.
   */
  putPiecesIfAbsent(
    key: string,
    pieces: AsyncIterable<string>,
    contentType: string,
    options?: { tags?: Readonly<Record<string, string>> },
  ): Promise<boolean>;
  /** The object's text, or undefined if there is none. */
  getText(key: string): Promise<string | undefined>;
  /** Copy then delete; a no-op when `from` is gone and `to` exists (a re-run). */
  move(from: string, to: string): Promise<void>;
}

// ─── DynamoDB: run ledger, locks, publication journal ───────────────────────

/** `review` runs only for a pipeline with `publisher.review: approve`: the wait for a person's decision. */
export const STEP_NAMES = [
  'collect',
  'upload',
  'analyze',
  'review',
  'publish',
  'deliver',
  'archive',
] as const;
export type StepName = (typeof STEP_NAMES)[number];

/** `missed`: a scheduled slot no run started for within its grace period (recorded by the watchdog). */
export type RunStatus = 'running' | 'succeeded' | 'partial' | 'failed' | 'skipped' | 'duplicate' | 'missed';
export type RunTrigger = 'schedule' | 'manual' | 'replay';

export interface StepRecord {
  /**
   * `partial`: the step did some of its work and knows what is left (messages
   * past the fetch limit, batches waiting on a quota, a post whose outcome is
   * unknown); `notes.reason` says what, and `--resume` finishes it.
   */
  status: 'succeeded' | 'partial' | 'failed' | 'skipped';
  endedAt: string;
  durationMs?: number;
  counts: Record<string, number>;
  /** Short facts for the report: S3 keys, post URL, the reason a step was skipped. */
  notes?: Record<string, string>;
  error?: { name: string; message: string };
  /** The step hit a rate limit: the state machine waits this long, then runs the step again. */
  waitSeconds?: number;
  /** The step stopped on a quota that resets later: a resume can finish it from this time on (ISO). */
  retryAt?: string;
  /**
   * The step used its invocation's time and has more to do: the state machine runs it again at
   * once, and it goes on from what it stored (Collect: 100,000 messages are more than one Lambda's 15 minutes).
   */
  continues?: boolean;
}

export interface RunRecord {
  pipelineId: string;
  runId: string;
  trigger: RunTrigger;
  /** For scheduled runs, the time the schedule fired for (ISO). */
  scheduledTime?: string;
  /** For scheduled runs, the schedule that fired: its time zone dates the draft. */
  scheduleName?: string;
  startedAt: string;
  endedAt?: string;
  status: RunStatus;
  /** Why the run is skipped, partial or failed. */
  reason?: string;
  steps: Partial<Record<StepName, StepRecord>>;
  executionId?: string;
  /** The automatic resume planned when the run last ended partial or failed on a transient cause. */
  autoResume?: AutoResumeRecord;
}

/**
 * An automatic resume of a run (shared/pipeline/auto-resume.ts): planned by FinishRun, taken by the
 * BeginRun of the resume. `started` is final: a plan fires once, in AWS (its one-time schedule deletes
 * itself) as locally (the daemon fires only `scheduled` plans).
 */
export interface AutoResumeRecord {
  /** 1 for the run's first automatic resume. */
  attempt: number;
  /** When it fires (ISO). */
  at: string;
  reason: string;
  state: 'scheduled' | 'started';
  /** In AWS, the one-time Scheduler schedule that fires it. */
  scheduleName?: string;
  /** The schedule could not be created: nothing will fire it, the operator resumes by hand. */
  error?: string;
}

/** The process holding a lock, recorded when the functions run on a workstation (not in Lambda). */
export interface LockHolderProcess {
  host: string;
  pid: number;
}

/** The pipeline's lock as stored: which run holds it, until when, and (locally) in which process. */
export interface LockInfo {
  holder: string;
  leaseUntil: number;
  process?: LockHolderProcess;
}

export type LockResult =
  | { acquired: true; takenOverFrom?: { runId: string; leaseUntil: number } }
  | { acquired: false; heldBy: string; leaseUntil: number; process?: LockHolderProcess };

export interface RunLedger {
  /** Create the run record unless one with this run id exists; returns the existing one then. */
  createRun(record: RunRecord): Promise<{ created: true } | { created: false; existing: RunRecord }>;
  getRun(pipelineId: string, runId: string): Promise<RunRecord | undefined>;
  recordStep(pipelineId: string, runId: string, step: StepName, record: StepRecord): Promise<void>;
  /** Close the run; without a `reason` any earlier one is cleared (a resumed run that succeeded). */
  finishRun(
    pipelineId: string,
    runId: string,
    result: { status: RunStatus; endedAt: string; reason?: string },
  ): Promise<void>;
  /** Newest first. */
  listRuns(pipelineId: string, limit: number): Promise<RunRecord[]>;
  /** Record (or replace) the run's planned automatic resume. */
  recordAutoResume(pipelineId: string, runId: string, plan: AutoResumeRecord): Promise<void>;
  /**
   * Take a failed or partial run for a resume, atomically: it becomes `running` under `executionId`, and an
   * automatic resume's plan becomes `started`. Two resumes at once: one claims it, the other gets the
   * record as the winner left it.
   */
  claimResume(
    pipelineId: string,
    runId: string,
    claim: { executionId: string; automatic: boolean },
  ): Promise<{ claimed: true } | { claimed: false; existing: RunRecord | undefined }>;
  /**
   * One run per pipeline at a time; a lock past its lease may be taken over.
   * `holderProcess` is recorded with the lock when the run is local.
   */
  acquireLock(
    pipelineId: string,
    runId: string,
    nowMs: number,
    leaseMs: number,
    holderProcess?: LockHolderProcess,
  ): Promise<LockResult>;
  /** Release only if `runId` still holds it. */
  releaseLock(pipelineId: string, runId: string): Promise<void>;
  /** Who holds the pipeline's lock now, if anyone. */
  getLock(pipelineId: string): Promise<LockInfo | undefined>;
}

/** What has been published for one run's draft, so a retry never posts twice. */
export interface PublicationRecord {
  pipelineId: string;
  runId: string;
  parts: string[];
  /** The parts already confirmed, in order. */
  published: PublishedPart[];
  /** Index of a part whose call was started and not confirmed: its outcome is unknown. */
  attempting?: number;
  /**
   * `unknown`: part `attempting` may or may not be out and the account could not
   * be read; only the operator can say (`publish confirm` / `publish retry`).
   */
  status: 'in_progress' | 'completed' | 'unknown';
  /** Why the outcome is unknown, for the operator. */
  unknownReason?: string;
}

/** What the operator says about a part whose outcome was unknown. */
export type UnknownResolution = { published: PublishedPart } | { published: false };

export interface PublicationJournal {
  get(pipelineId: string, runId: string): Promise<PublicationRecord | undefined>;
  /** Create the record for these parts unless one exists; returns the stored record either way. */
  begin(pipelineId: string, runId: string, parts: readonly string[]): Promise<PublicationRecord>;
  /** Written before the API call: from here on the outcome of part `index` is unknown. */
  markAttempt(pipelineId: string, runId: string, index: number): Promise<void>;
  /** Written after the API confirmed (or reconciliation found) part `index`. */
  confirmPart(pipelineId: string, runId: string, index: number, part: PublishedPart): Promise<void>;
  complete(pipelineId: string, runId: string): Promise<void>;
  /** The API refused part `index` (it answered): it is not out, nothing is left to look for. */
  clearAttempt(pipelineId: string, runId: string, index: number): Promise<void>;
  /** Part `index`'s outcome cannot be known by looking: stop until the operator says. */
  markUnknown(pipelineId: string, runId: string, index: number, reason: string): Promise<void>;
  /**
   * The operator's word on the unknown part: published (recorded as confirmed, the
   * thread continues after it) or not (the next attempt posts it). Returns the record.
   */
  resolveUnknown(
    pipelineId: string,
    runId: string,
    resolution: UnknownResolution,
  ): Promise<PublicationRecord>;
}

/** A one-time trigger of a run's automatic resume (in AWS an EventBridge Scheduler `at()` schedule). */
export interface ResumeScheduler {
  /** Create it; one that exists already under `name` (a retried FinishRun) counts as done. */
  schedule(resume: {
    name: string;
    at: string;
    input: Record<string, unknown>;
    description: string;
  }): Promise<void>;
}

// ─── Schedules: pause, resume, consecutive failures ─────────────────────────

export interface ScheduleState {
  pipelineId: string;
  scheduleName: string;
  state: 'enabled' | 'paused';
  /** A pause with an end: runs arriving after it go ahead (ISO). */
  pausedUntil?: string;
  /** Why it was paused or resumed last, and by whom (a user, or `digest` when it paused itself). */
  reason?: string;
  changedBy?: string;
  changedAt?: string;
  /** Failed runs in a row; reset by a run that did work. */
  consecutiveFailures: number;
  lastRun?: { runId: string; status: RunStatus; at: string };
}

export interface ScheduleEvent {
  at: string;
  action: 'paused' | 'resumed' | 'auto-paused';
  by: string;
  reason?: string;
  until?: string;
}

export interface ScheduleStateStore {
  /** The schedule's state; a schedule never touched is enabled with no failures. */
  get(pipelineId: string, scheduleName: string): Promise<ScheduleState>;
  pause(
    pipelineId: string,
    scheduleName: string,
    change: { by: string; reason?: string; until?: string; at: string },
  ): Promise<ScheduleState>;
  resume(
    pipelineId: string,
    scheduleName: string,
    change: { by: string; reason?: string; at: string },
  ): Promise<ScheduleState>;
  /**
   * Count a finished scheduled run: a failure adds one, a run that did work
   * resets the count; at `maxConsecutiveFailures` failures the schedule pauses
   * itself (once: `autoPaused` is true for the run that tipped it).
   */
  recordRunOutcome(
    pipelineId: string,
    scheduleName: string,
    outcome: { runId: string; status: RunStatus; at: string },
    maxConsecutiveFailures: number,
  ): Promise<{ state: ScheduleState; autoPaused: boolean }>;
  /** Pauses and resumes, newest first: who and why. */
  history(pipelineId: string, scheduleName: string, limit: number): Promise<ScheduleEvent[]>;
}

// ─── One-off posts ──────────────────────────────────────────────────────────

export type ScheduledPostStatus = 'pending' | 'publishing' | 'published' | 'failed' | 'cancelled';

/** A single post (or thread) scheduled for one moment, outside the daily pipeline. */
export interface ScheduledPost {
  pipelineId: string;
  postId: string;
  platform: 'x' | 'typefully';
  parts: string[];
  /** Local `YYYY-MM-DD HH:MM` in `timeZone`, as the user gave it, and the instant it names (ISO). */
  localAt: string;
  timeZone: string;
  at: string;
  status: ScheduledPostStatus;
  createdAt: string;
  /** Where the text came from: `text`, `file <path>`, `run <runId>`. */
  source: string;
  postUrl?: string;
  publishedAt?: string;
  error?: string;
  /** When it was cancelled, and why. */
  cancelledAt?: string;
}

export interface ScheduledPostStore {
  /** Store a new pending post; a post id that exists is refused. */
  create(post: ScheduledPost): Promise<void>;
  get(pipelineId: string, postId: string): Promise<ScheduledPost | undefined>;
  /** The pipeline's posts, by time (`at`), optionally of some statuses only. */
  list(pipelineId: string, statuses?: readonly ScheduledPostStatus[]): Promise<ScheduledPost[]>;
  /**
   * Move a post from one status to the next only if it still has `from`
   * (pending → publishing is how one firing, and only one, claims it).
   * Returns the post as stored afterwards, or undefined when it did not have `from`.
   */
  transition(
    pipelineId: string,
    postId: string,
    from: ScheduledPostStatus,
    to: ScheduledPostStatus,
    facts?: Partial<Pick<ScheduledPost, 'postUrl' | 'publishedAt' | 'error' | 'cancelledAt'>>,
  ): Promise<ScheduledPost | undefined>;
}

// ─── Destinations for the digest (Discord webhook, generic webhook, email, file) ─

/** One run's digest, as every destination receives it. */
export interface DigestMessage {
  pipelineId: string;
  runId: string;
  title: string;
  /** The draft's parts, in order. */
  parts: string[];
  /** Links of the posts featured. */
  links: string[];
  /** ISO time the digest was written: rendering never reads the clock, so a retry renders the same bytes. */
  createdAt: string;
}

export interface DeliveryReceipt {
  destination: string;
  /** An id the receiver gave back (message id, SES MessageId, S3 key), if any. */
  id?: string;
  /** Every id, when one delivery took several messages (a long digest on Discord). */
  ids?: string[];
  detail?: string;
}

/**
 * A delivery made of several messages (Discord) that failed half-way: the caller
 * keeps what `confirm` reported and passes it back as `confirmed`, so a retry
 * sends only the rest.
 */
export interface DeliveryProgress {
  /** Ids of the pieces confirmed on earlier attempts, in order. */
  confirmed: readonly string[];
  /** Called after each piece is confirmed, before the next one is sent. */
  confirm(index: number, id: string): Promise<void>;
}

export interface Destination {
  readonly kind: 'discord' | 'webhook' | 'email' | 'file';
  readonly name: string;
  /**
   * Deliver the digest once. `idempotencyKey` is the same on every retry of the
   * same delivery (the receiver or the adapter uses it to drop a repeat).
   */
  deliver(
    message: DigestMessage,
    idempotencyKey: string,
    progress?: DeliveryProgress,
  ): Promise<DeliveryReceipt>;
}

// ─── Review before publishing ───────────────────────────────────────────────

export type ReviewDecision = 'approve' | 'reject';

/** A draft waiting for (or given) a person's decision; the task token is what resumes the execution. */
export interface ReviewRecord {
  pipelineId: string;
  runId: string;
  /** Step Functions' token for the waiting task (a fixed local token when run locally). */
  taskToken: string;
  requestedAt: string;
  /** After this the decision is refused and the task times out (ISO). Not `expiresAt`: that is the table's TTL. */
  deadline: string;
  /** The execution that asked: a retry of its task keeps the request, a new execution asks anew. */
  executionName?: string;
  status: 'pending' | 'approved' | 'rejected';
  decidedBy?: string;
  decidedAt?: string;
  reason?: string;
}

export interface ReviewStore {
  /** Store the pending request; a second request for the run (a retried invocation) replaces the token. */
  request(record: Omit<ReviewRecord, 'status'>): Promise<void>;
  get(pipelineId: string, runId: string): Promise<ReviewRecord | undefined>;
  /**
   * Record the decision only if the review is still pending and not expired at `at`: of two
   * decisions, one wins. Returns the stored record, or undefined when nothing pending was there.
   */
  decide(
    pipelineId: string,
    runId: string,
    decision: { decision: ReviewDecision; by: string; at: string; reason?: string },
  ): Promise<ReviewRecord | undefined>;
}

/** Resume a task waiting on its token (Step Functions SendTaskSuccess / SendTaskFailure). */
export interface TaskCallback {
  succeed(taskToken: string, output: unknown): Promise<void>;
  fail(taskToken: string, error: string, cause: string): Promise<void>;
}

/**
 * One delivery (a digest to one destination, or one notification) as journalled,
 * so a retry never delivers twice: recorded before the call, confirmed after.
 */
export interface DeliveryRecord {
  pipelineId: string;
  /** `<runId>#<purpose>#<destination>`: the same on every retry of this delivery. */
  key: string;
  destination: string;
  /**
   * `attempting`: a call was started and not confirmed (a crash, a lost answer);
   * `unknown`: it may have arrived and the receiver gives no way to tell, so it is
   * not sent again; `failed`: the receiver refused it (nothing arrived), a retry may send it.
   */
  status: 'attempting' | 'delivered' | 'unknown' | 'failed';
  /** Ids of the pieces confirmed so far (a long digest on Discord is several messages). */
  confirmed: string[];
  attempts: number;
  receipt?: DeliveryReceipt;
  error?: string;
}

export interface DeliveryJournal {
  get(pipelineId: string, key: string): Promise<DeliveryRecord | undefined>;
  /**
   * Mark an attempt: creates the record (conditional put) or moves a `failed` one back to
   * `attempting`. Returns the record as it was before, or undefined when this is the first attempt.
   */
  beginAttempt(pipelineId: string, key: string, destination: string): Promise<DeliveryRecord | undefined>;
  confirmPiece(pipelineId: string, key: string, index: number, id: string): Promise<void>;
  complete(pipelineId: string, key: string, receipt: DeliveryReceipt): Promise<void>;
  fail(pipelineId: string, key: string, error: string): Promise<void>;
  markUnknown(pipelineId: string, key: string, reason: string): Promise<void>;
  /**
   * The operator's word that an `unknown` delivery did not arrive: it becomes `failed`, so the
   * next attempt sends it (the pieces confirmed stay confirmed). False when it was not unknown.
   */
  releaseUnknown(pipelineId: string, key: string): Promise<boolean>;
}
