import { createS3Client } from '../../../shared/adapters/aws-clients';
import { createObjectStore } from '../../../shared/adapters/s3-object-store';
import { loadDraft } from '../../../shared/pipeline/analyze';
import type { StartRunInput } from '../../../shared/pipeline/begin-run';
import { startLocalEnvironment } from '../environment';
import { formatRunSummary } from '../report';
import { runDigestLocally } from '../runner';
import type { CliContext, LocalCommand } from './command';

/** Run the state machine locally once and print the run report; exit 1 unless the run succeeded. */
async function runAndReport(context: CliContext, input: StartRunInput): Promise<number> {
  const { config, dataDir } = context;
  const started = Date.now();
  const environment = await startLocalEnvironment({
    config,
    dataDir,
    secretsEnv: process.env,
    now: new Date(),
  });
  try {
    console.log(`running pipeline ${input.pipelineId} locally (data in ${dataDir})…`);
    const result = await runDigestLocally({ config, environment, input });
    const store = createObjectStore({ client: createS3Client(), bucket: environment.aws.bucket });
    const draft = result.report ? await loadDraft(store, input.pipelineId, result.report.runId) : undefined;
    console.log(
      formatRunSummary({
        executionStatus: result.status,
        ...(result.error ? { executionError: `${result.error}: ${result.cause ?? ''}` } : {}),
        durationMs: Date.now() - started,
        ...(result.report ? { report: result.report } : {}),
        ...(draft ? { draft } : {}),
        dataDir,
        bucket: environment.aws.bucket,
        services: environment.services,
      }),
    );
    const status = result.report?.status;
    return result.status === 'SUCCEEDED' && status !== 'failed' && status !== 'partial' ? 0 : 1;
  } finally {
    await environment.close();
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
