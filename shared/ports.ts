/**
 * Ports: what the use cases in `pipeline/` need from the outside world.
 * Adapters in `adapters/` implement them, one module per external API.
 */
import type { PostAnalysis } from './domain/post';

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

export interface ArchiveMove {
  /** The row in the main tab to delete. */
  rowNumber: number;
  /** The row to append to the archive tab, or undefined when it is already there. */
  archiveValues: Record<string, string> | undefined;
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
  /** Append rows in one request, each value placed under the header of its key. */
  appendRows(tab: string, headers: readonly string[], rows: readonly Record<string, string>[]): Promise<void>;
  /** Write some cells of existing rows, in one request. */
  updateRows(tab: string, headers: readonly string[], updates: readonly RowUpdate[]): Promise<void>;
  /**
   * Append rows to the archive tab and delete rows of the main tab in one
   * atomic batchUpdate: either both happen or neither does.
   */
  moveRows(
    mainTab: string,
    archiveTab: string,
    archiveHeaders: readonly string[],
    moves: readonly ArchiveMove[],
  ): Promise<void>;
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
  /** Write only if the key does not exist yet; returns false (and writes nothing) if it does. */
  putIfAbsent(key: string, body: string, contentType: string): Promise<boolean>;
  /** The object's text, or undefined if there is none. */
  getText(key: string): Promise<string | undefined>;
  /** Copy then delete; a no-op when `from` is gone and `to` exists (a re-run). */
  move(from: string, to: string): Promise<void>;
}

// ─── DynamoDB: run ledger, locks, publication journal ───────────────────────

export const STEP_NAMES = ['collect', 'upload', 'analyze', 'publish', 'archive'] as const;
export type StepName = (typeof STEP_NAMES)[number];

export type RunStatus = 'running' | 'succeeded' | 'partial' | 'failed' | 'skipped' | 'duplicate';
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
}

export interface RunRecord {
  pipelineId: string;
  runId: string;
  trigger: RunTrigger;
  /** For scheduled runs, the time the schedule fired for (ISO). */
  scheduledTime?: string;
  startedAt: string;
  endedAt?: string;
  status: RunStatus;
  /** Why the run is skipped, partial or failed. */
  reason?: string;
  steps: Partial<Record<StepName, StepRecord>>;
  executionId?: string;
}

export type LockResult =
  | { acquired: true; takenOverFrom?: { runId: string; leaseUntil: number } }
  | { acquired: false; heldBy: string; leaseUntil: number };

export interface RunLedger {
  /** Create the run record unless one with this run id exists; returns the existing one then. */
  createRun(record: RunRecord): Promise<{ created: true } | { created: false; existing: RunRecord }>;
  getRun(pipelineId: string, runId: string): Promise<RunRecord | undefined>;
  recordStep(pipelineId: string, runId: string, step: StepName, record: StepRecord): Promise<void>;
  finishRun(
    pipelineId: string,
    runId: string,
    result: { status: RunStatus; endedAt: string; reason?: string },
  ): Promise<void>;
  /** Newest first. */
  listRuns(pipelineId: string, limit: number): Promise<RunRecord[]>;
  /** One run per pipeline at a time; a lock past its lease may be taken over. */
  acquireLock(pipelineId: string, runId: string, nowMs: number, leaseMs: number): Promise<LockResult>;
  /** Release only if `runId` still holds it. */
  releaseLock(pipelineId: string, runId: string): Promise<void>;
  /** Who holds the pipeline's lock now, if anyone. */
  getLock(pipelineId: string): Promise<{ holder: string; leaseUntil: number } | undefined>;
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
