import type { StoredDraft } from '../../shared/pipeline/analyze';
import type { RunReport } from '../../shared/pipeline/finish-run';
import { type AutoResumeRecord, type RunRecord, STEP_NAMES } from '../../shared/ports';

export interface LocalRunSummary {
  executionStatus: string;
  executionError?: string;
  durationMs: number;
  report?: RunReport;
  draft?: StoredDraft;
  dataDir: string;
  bucket: string;
  services: Record<string, string>;
  sheetUrl?: string;
  /** A line said before the report, e.g. that this start was a duplicate and the report is the stored one. */
  notice?: string;
}

const pad = (text: string, width: number) => text.padEnd(width);

/** The run's automatic resume, as FinishRun planned it and BeginRun took it (shared/pipeline/auto-resume.ts). */
export function describeAutoResume(plan: AutoResumeRecord): string {
  const where = plan.scheduleName
    ? ` by Scheduler schedule ${plan.scheduleName}`
    : ' by the local daemon (npm run digest -- daemon)';
  const what =
    plan.error !== undefined
      ? `could not be scheduled (${plan.error}): resume it by hand`
      : plan.state === 'scheduled'
        ? `due ${plan.at}${where}`
        : `started (was due ${plan.at})`;
  return `automatic resume ${plan.attempt}: ${what}; ${plan.reason}`;
}

/** The run report `npm start` prints: what each step did, and where to look. */
export function formatRunSummary(summary: LocalRunSummary): string {
  const lines: string[] = [];
  const { report } = summary;
  lines.push('', '━━ discord-digest run report ━━');
  // First, whether each service was real or a sandbox: a sandbox run must never pass for a real one.
  for (const [service, where] of Object.entries(summary.services)) {
    lines.push(`${pad(service, 10)} ${where.startsWith('real') ? 'REAL   ' : 'SANDBOX'} ${where}`);
  }
  lines.push('');
  if (summary.notice) lines.push(summary.notice);
  if (!report) {
    lines.push(
      `execution ${summary.executionStatus}: ${summary.executionError ?? 'the run was not opened (see the error above)'}`,
    );
    return lines.join('\n');
  }
  lines.push(`pipeline ${report.pipelineId}   run ${report.runId}   status ${report.status.toUpperCase()}`);
  if (report.reason) lines.push(`reason: ${report.reason}`);
  if (report.autoResume) lines.push(describeAutoResume(report.autoResume));
  lines.push(`execution ${summary.executionStatus} in ${(summary.durationMs / 1000).toFixed(1)} s`, '');
  for (const step of STEP_NAMES) {
    const record = report.steps[step];
    // Only a pipeline with publisher.review: approve has a review step.
    if (!record && step === 'review') continue;
    if (!record) {
      lines.push(`  ${pad(step, 8)} not run`);
      continue;
    }
    const duration = record.durationMs === undefined ? '' : `${record.durationMs} ms`;
    const counts = Object.entries(record.counts)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    lines.push(`  ${pad(step, 8)} ${pad(record.status, 9)} ${pad(duration, 9)} ${counts}`);
    if (record.error) lines.push(`           ${record.error.name}: ${record.error.message}`);
    if (record.notes?.reason) lines.push(`           ${record.notes.reason}`);
  }
  const archive = report.steps.archive?.notes?.processedPrefix;
  const collect = report.steps.collect?.notes?.csvKey;
  lines.push('');
  if (archive) {
    lines.push(`CSV:        s3://${summary.bucket}/${archive}posts.csv (raw messages beside it)`);
  } else if (collect) {
    lines.push(`CSV:        s3://${summary.bucket}/${collect}`);
  }
  // Archive moves the run's chunks beside its CSV.
  const chunks =
    archive && report.steps.archive?.status === 'succeeded'
      ? `${archive}chunks/`
      : report.steps.collect?.notes?.chunksPrefix;
  if (chunks) {
    lines.push(
      `chunks:     s3://${summary.bucket}/${chunks} (${report.steps.collect?.counts.chunks} of ≤ 1,000 messages)`,
    );
  }
  const analysis = report.steps.analyze?.notes?.analysisPrefix;
  if (analysis) {
    lines.push(
      `analysis:   s3://${summary.bucket}/${analysis} (${report.steps.analyze?.counts.batches} batch result(s))`,
    );
  }
  const archived = report.steps.archive;
  if (archived?.status === 'succeeded') {
    lines.push(
      `archived:   ${archived.counts.rowsArchived} row(s) to the ${archived.notes?.archiveTab ?? 'Archive'} tab as ${archived.notes?.processingStatus}`,
    );
  } else if (archived) {
    lines.push(
      `archived:   nothing (${archived.notes?.reason ?? archived.error?.message ?? archived.status})`,
    );
  }
  const publish = report.steps.publish;
  if (publish?.status === 'succeeded') {
    lines.push(
      `published:  ${publish.notes?.postUrl} (${publish.notes?.parts} part(s) via ${publish.notes?.via})`,
    );
  } else if (publish) {
    lines.push(`published:  nothing (${publish.notes?.reason ?? publish.error?.message ?? publish.status})`);
  }
  const deliver = report.steps.deliver;
  if (deliver && (deliver.status === 'skipped' || !deliver.notes)) {
    lines.push(`delivered:  nothing (${deliver.notes?.reason ?? deliver.error?.message ?? deliver.status})`);
  } else if (deliver?.notes) {
    for (const [key, value] of Object.entries(deliver.notes)) {
      if (key.startsWith('deliver.')) lines.push(`delivered:  ${key.slice('deliver.'.length)}: ${value}`);
    }
  }
  const linksRemoved = report.steps.analyze?.counts.linksRemoved;
  if (linksRemoved)
    lines.push(
      `links:      ${linksRemoved} link(s) removed from the draft (not a post of this run): ${report.steps.analyze?.notes?.linksRemoved ?? ''}`,
    );
  if (summary.draft) {
    lines.push('', `draft (${summary.draft.parts.length} part(s)):`);
    for (const [i, part] of summary.draft.parts.entries()) {
      lines.push(`  ── ${i + 1} ──`, ...part.split('\n').map((l) => `  ${l}`));
    }
  }
  lines.push(
    '',
    `local data: ${summary.dataDir} (S3 objects and the DynamoDB ledger; sandboxes live for one command)`,
  );
  return lines.join('\n');
}

/**
 * The history's last line. The success rate counts only runs that did work:
 * succeeded / (succeeded + partial + failed); duplicates, skips, missed slots
 * and runs still going are shown apart, never as failures.
 */
export function historySummary(runs: readonly Pick<RunRecord, 'status'>[]): string {
  const count = (status: RunRecord['status']) => runs.filter((r) => r.status === status).length;
  const succeeded = count('succeeded');
  const worked = succeeded + count('partial') + count('failed');
  const rate = worked ? `${Math.round((100 * succeeded) / worked)}%` : 'n/a';
  const apart = (['skipped', 'duplicate', 'missed', 'running'] as const)
    .map((status) => [status, count(status)] as const)
    .filter(([, n]) => n > 0)
    .map(([status, n]) => `${n} ${status}`);
  return `${runs.length} run(s); success rate ${rate} (${succeeded} of ${worked} that did work)${
    apart.length ? `; not counted: ${apart.join(', ')}` : ''
  }`;
}

/** Nearest-rank percentile (p in 0..100) of numbers; undefined for none. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const seconds = (ms: number | undefined) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`);

/** A run's wall time, start to close; none while it is running or when it never ran (skipped, duplicate). */
export function runDurationMs(run: Pick<RunRecord, 'status' | 'startedAt' | 'endedAt'>): number | undefined {
  if (!run.endedAt || !['succeeded', 'partial', 'failed'].includes(run.status)) return undefined;
  const ms = Date.parse(run.endedAt) - Date.parse(run.startedAt);
  return Number.isNaN(ms) || ms < 0 ? undefined : ms;
}

/** One line per run: when, status, how long, each step's status and duration. */
export function runLine(run: RunRecord): string {
  const steps = STEP_NAMES.filter((s) => run.steps[s])
    .map(
      (s) =>
        `${s}:${run.steps[s]?.status}${run.steps[s]?.durationMs === undefined ? '' : `/${seconds(run.steps[s]?.durationMs)}`}`,
    )
    .join(' ');
  const took = runDurationMs(run);
  // The history's own prefix (time, status, run id), then how long and each step.
  const head = `${run.startedAt}  ${run.status.padEnd(9)} ${run.runId}${took === undefined ? '' : `  ${seconds(took)}`}`;
  return `${head}${steps ? `  ${steps}` : ''}${run.reason ? `  (${run.reason})` : ''}`;
}

/**
 * The lines under the history: p50/p90 of the runs that did work, start to close, and of each step.
 * Skipped and duplicate runs did nothing, so their zero durations would only flatter the figures.
 */
export function durationSummary(runs: readonly RunRecord[]): string[] {
  const totals = runs.map(runDurationMs).filter((ms): ms is number => ms !== undefined);
  const lines = [
    `run duration: p50 ${seconds(percentile(totals, 50))}, p90 ${seconds(percentile(totals, 90))} over ${totals.length} run(s) that did work`,
  ];
  for (const step of STEP_NAMES) {
    const values = runs.map((r) => r.steps[step]?.durationMs).filter((ms): ms is number => ms !== undefined);
    if (values.length === 0) continue;
    lines.push(
      `  ${step.padEnd(8)} p50 ${seconds(percentile(values, 50))}, p90 ${seconds(percentile(values, 90))} (${values.length})`,
    );
  }
  return lines;
}
