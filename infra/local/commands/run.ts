import { randomUUID } from 'node:crypto';
import { createDynamoDocumentClient, createS3Client } from '../../../shared/adapters/aws-clients';
import { createRunLedger } from '../../../shared/adapters/dynamo-ledger';
import { createObjectStore } from '../../../shared/adapters/s3-object-store';
import { TASK_STATES, type TaskStateName } from '../../../shared/config/resources';
import { loadDraft } from '../../../shared/pipeline/analyze';
import type { StartRunInput } from '../../../shared/pipeline/begin-run';
import type { RunReport } from '../../../shared/pipeline/finish-run';
import { type RunLedger, STEP_NAMES, type StepName } from '../../../shared/ports';
import { type LocalEnvironment, startLocalEnvironment } from '../environment';
import { listenForInterrupt } from '../interrupt';
import { formatRunSummary } from '../report';
import { type RunProgress, runDigestLocally } from '../runner';
import type { CliContext, LocalCommand } from './command';

/** How long an interrupted step may take to finish what it is doing before it is recorded as interrupted. */
const INTERRUPT_GRACE_MS = 3_000;

const stepOf = (state: string | undefined): StepName | undefined => {
  const task: { dir: string; partOf?: StepName } | undefined = state
    ? TASK_STATES[state as TaskStateName]
    : undefined;
  return task?.partOf ?? STEP_NAMES.find((s) => s === task?.dir);
};

/**
 * Ctrl-C or SIGTERM stopped the execution: close the run as StopExecution and
 * CloseAbandonedRun do in AWS. The step under way is recorded (its own record
 * if it finished within the grace time, else `failed: Interrupted`), the run
 * is closed `failed` with reason `interrupted…`, and the lock is released.
 */
export async function closeInterruptedRun(
  ledger: RunLedger,
  progress: RunProgress,
  signal: NodeJS.Signals,
): Promise<string> {
  const current = progress.current;
  const before = current?.endedAt !== undefined;
  const finished = current
    ? await Promise.race([
        current.settled.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), INTERRUPT_GRACE_MS).unref()),
      ])
    : true;
  const run = progress.run;
  if (!run) return `interrupted (${signal}) before the run was opened`;
  if (!run.proceed)
    return `interrupted (${signal}); run ${run.runId} was not running here (duplicate or skipped)`;
  const step = stepOf(current?.state);
  const record = await ledger.getRun(run.pipelineId, run.runId);
  if (record?.status !== 'running')
    return `interrupted (${signal}) after run ${run.runId} closed (${record?.status})`;
  const at = new Date();
  if (step && current && (!finished || record.steps[step] === undefined)) {
    // A step that had already failed keeps its own error (FinishRun would have recorded it); else it was cut short.
    const failure =
      finished && progress.lastFailure?.state === current.state ? progress.lastFailure : undefined;
    await ledger.recordStep(run.pipelineId, run.runId, step, {
      status: 'failed',
      endedAt: new Date(current.endedAt ?? at.getTime()).toISOString(),
      durationMs: (current.endedAt ?? at.getTime()) - current.startedAt,
      counts: {},
      error: failure
        ? { name: failure.name, message: failure.message }
        : { name: 'Interrupted', message: `${signal} stopped the command during ${step}` },
    });
  }
  const name = step ?? current?.state;
  const where = name ? ` ${before ? 'after' : 'during'} ${name}` : '';
  await ledger.finishRun(run.pipelineId, run.runId, {
    status: 'failed',
    endedAt: at.toISOString(),
    reason: `interrupted: ${signal}${where}`,
  });
  await ledger.releaseLock(run.pipelineId, run.runId);
  return `interrupted (${signal}): run ${run.runId} closed as failed${where}, lock released`;
}

/**
 * The report of a run whose execution produced none (a duplicate, a skipped
 * run, BeginRun failing): the record stored in the ledger, so the command
 * always says what happened.
 */
async function storedReport(
  ledger: RunLedger,
  progress: RunProgress,
): Promise<{ report: RunReport; notice?: string } | undefined> {
  const run = progress.run;
  if (!run) return undefined;
  const record = await ledger.getRun(run.pipelineId, run.runId);
  if (!record) return undefined;
  const ours = record.executionId === progress.executionId;
  const report: RunReport = {
    pipelineId: record.pipelineId,
    runId: record.runId,
    status: record.status,
    ...(record.reason ? { reason: record.reason } : {}),
    steps: record.steps,
  };
  if (ours || run.proceed) return { report };
  return {
    report,
    notice: `duplicate: run ${run.runId} already exists (${record.status}); nothing was done, its stored report follows`,
  };
}

/** Run the state machine locally once and print the run report; exit 1 unless the run succeeded. */
/**
 * `secretsEnv` is the environment as the user gave it: a command running several
 * runs passes the one it started with, since each run points process.env at its
 * own sandboxes, which a later run must not take for real credentials.
 */
export async function runAndReport(
  context: CliContext,
  input: StartRunInput,
  secretsEnv: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const { config, dataDir } = context;
  const started = Date.now();
  const interrupt = listenForInterrupt();
  let environment: LocalEnvironment | undefined;
  try {
    environment = await startLocalEnvironment({ config, dataDir, secretsEnv, now: new Date() });
    console.log(`running pipeline ${input.pipelineId} locally (data in ${dataDir})…`);
    const progress: RunProgress = {};
    const result = await runDigestLocally({
      config,
      environment,
      input,
      executionName: randomUUID(),
      signal: interrupt.signal,
      progress,
    });
    const ledger = createRunLedger({
      client: createDynamoDocumentClient(),
      tableName: environment.aws.table,
    });
    const interrupted = interrupt.received();
    if (interrupted) {
      console.error(await closeInterruptedRun(ledger, progress, interrupted));
      return interrupt.exitCode(interrupted);
    }
    const stored = result.report ? undefined : await storedReport(ledger, progress);
    const report = result.report ?? stored?.report;
    const store = createObjectStore({ client: createS3Client(), bucket: environment.aws.bucket });
    const draft = report ? await loadDraft(store, input.pipelineId, report.runId) : undefined;
    console.log(
      formatRunSummary({
        executionStatus: result.status,
        ...(result.error
          ? {
              // The state machine's own cause is generic ("could not be opened"); the task's error says why.
              executionError: `${result.error}: ${result.cause ?? ''}${
                progress.lastFailure
                  ? ` (${progress.lastFailure.state}: ${progress.lastFailure.name}: ${progress.lastFailure.message})`
                  : ''
              }`,
            }
          : {}),
        durationMs: Date.now() - started,
        ...(report ? { report } : {}),
        ...(stored?.notice ? { notice: stored.notice } : {}),
        ...(draft ? { draft } : {}),
        dataDir,
        bucket: environment.aws.bucket,
        services: environment.services,
      }),
    );
    // As in AWS, a duplicate or skipped start is a succeeded execution that did nothing.
    const status = result.report?.status;
    return result.status === 'SUCCEEDED' && status !== 'failed' && status !== 'partial' ? 0 : 1;
  } finally {
    interrupt.release();
    await environment?.close();
  }
}

const dryRun = { 'dry-run': { type: 'boolean', default: false } } as const;

export const runCommand: LocalCommand = {
  name: 'run',
  synopsis: 'run                 run a pipeline now (what npm start does)',
  optionHelp: [
    '--run-id <id>       name the run yourself; with --resume, continue that run',
    '--resume            continue a failed or partial run (with --run-id)',
    '--dry-run           produce the draft without publishing it',
  ],
  options: { 'run-id': { type: 'string' }, resume: { type: 'boolean', default: false }, ...dryRun },
  run: (context) =>
    runAndReport(context, {
      pipelineId: context.pipelineId(),
      trigger: 'manual',
      dryRun: context.values['dry-run'] === true,
      resume: context.values.resume === true,
      ...(typeof context.values['run-id'] === 'string' ? { runId: context.values['run-id'] } : {}),
    }),
};

export const replayCommand: LocalCommand = {
  name: 'replay',
  synopsis: "replay <runId>      process an earlier run's stored CSV again (idempotent)",
  options: { ...dryRun },
  run: (context) =>
    runAndReport(context, {
      pipelineId: context.pipelineId(),
      trigger: 'replay',
      dryRun: context.values['dry-run'] === true,
      sourceRunId: context.positionals[0] ?? '',
    }),
};
