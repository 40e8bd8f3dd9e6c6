import type { StoredDraft } from '../../shared/pipeline/analyze';
import type { RunReport } from '../../shared/pipeline/finish-run';
import { type RunRecord, STEP_NAMES } from '../../shared/ports';

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
  lines.push(`execution ${summary.executionStatus} in ${(summary.durationMs / 1000).toFixed(1)} s`, '');
  for (const step of STEP_NAMES) {
    const record = report.steps[step];
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
  const chunks = report.steps.collect?.notes?.chunksPrefix;
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
      `archived:   ${archived.counts.rowsArchived} row(s) to the Archive tab as ${archived.notes?.processingStatus}`,
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
 * succeeded / (succeeded + partial + failed); duplicates, skips and runs still
 * going are shown apart, never as failures.
 */
export function historySummary(runs: readonly Pick<RunRecord, 'status'>[]): string {
  const count = (status: RunRecord['status']) => runs.filter((r) => r.status === status).length;
  const succeeded = count('succeeded');
  const worked = succeeded + count('partial') + count('failed');
  const rate = worked ? `${Math.round((100 * succeeded) / worked)}%` : 'n/a';
  const apart = (['skipped', 'duplicate', 'running'] as const)
    .map((status) => [status, count(status)] as const)
    .filter(([, n]) => n > 0)
    .map(([status, n]) => `${n} ${status}`);
  return `${runs.length} run(s); success rate ${rate} (${succeeded} of ${worked} that did work)${
    apart.length ? `; not counted: ${apart.join(', ')}` : ''
  }`;
}
