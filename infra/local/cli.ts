/**
 * The local command line: `npm start` runs one whole pipeline on this machine
 * with the state machine `cdk deploy` ships. See README for every command.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createDynamoDocumentClient, createS3Client } from '../../shared/adapters/aws-clients';
import { createRunLedger } from '../../shared/adapters/dynamo-ledger';
import { createObjectStore } from '../../shared/adapters/s3-object-store';
import { loadConfigFile } from '../../shared/config/load';
import type { DigestConfig } from '../../shared/config/schema';
import { DigestError } from '../../shared/errors';
import { loadDraft } from '../../shared/pipeline/analyze';
import type { StartRunInput } from '../../shared/pipeline/begin-run';
import { startLocalEnvironment } from './environment';
import { formatRunSummary } from './report';
import { applyEnvironment, runDigestLocally } from './runner';

const USAGE = `usage: npm run digest -- <command> [options]

commands:
  run                 run a pipeline now (what npm start does)
  replay <runId>      process an earlier run's stored CSV again (idempotent)
  history             list the pipeline's runs, newest first
  validate            check the config file and exit

options:
  --pipeline <id>     which pipeline (default: the first in the config)
  --config <file>     config file (default: $DIGEST_CONFIG_FILE or digest.config.json)
  --run-id <id>       name the run yourself (run); with --resume, continue that run
  --resume            continue a failed or partial run (with --run-id)
  --dry-run           produce the draft without publishing it
  --limit <n>         how many runs history lists (default 20)
  --verbose           print the functions' structured logs`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    pipeline: { type: 'string' },
    config: { type: 'string' },
    'run-id': { type: 'string' },
    resume: { type: 'boolean', default: false },
    'dry-run': { type: 'boolean', default: false },
    limit: { type: 'string', default: '20' },
    verbose: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

const DATA_DIR = resolve(process.env.DIGEST_LOCAL_DIR ?? '.local');

function loadDotEnv(): void {
  // Secrets live in .env locally, never in the config file.
  if (existsSync('.env')) process.loadEnvFile('.env');
}

function pipelineIdOf(config: DigestConfig): string {
  const id = values.pipeline ?? config.pipelines[0]?.id;
  if (!id || !config.pipelines.some((p) => p.id === id)) {
    throw new DigestError(
      `unknown pipeline "${id}" (configured: ${config.pipelines.map((p) => p.id).join(', ')})`,
    );
  }
  return id;
}

async function main(): Promise<number> {
  const [command = 'run', ...rest] = positionals;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  loadDotEnv();
  const configFile = values.config ?? process.env.DIGEST_CONFIG_FILE ?? 'digest.config.json';
  const config = loadConfigFile(configFile);
  if (command === 'validate') {
    console.log(
      `${configFile}: ${config.pipelines.length} pipeline(s) valid: ${config.pipelines.map((p) => p.id).join(', ')}`,
    );
    return 0;
  }
  const pipelineId = pipelineIdOf(config);
  if (!values.verbose) {
    process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
    process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  }

  const started = Date.now();
  const environment = await startLocalEnvironment({
    config,
    dataDir: DATA_DIR,
    secretsEnv: process.env,
    now: new Date(),
  });
  try {
    if (command === 'history') {
      applyEnvironment(config, environment);
      const ledger = createRunLedger({
        client: createDynamoDocumentClient(),
        tableName: environment.aws.table,
      });
      const runs = await ledger.listRuns(pipelineId, Number(values.limit));
      for (const run of runs) {
        console.log(
          `${run.startedAt}  ${run.status.padEnd(9)} ${run.runId}${run.reason ? `  (${run.reason})` : ''}`,
        );
      }
      const done = runs.filter((r) => r.status !== 'running');
      const ok = done.filter((r) => r.status === 'succeeded').length;
      console.log(
        `${runs.length} run(s); success rate ${done.length ? Math.round((100 * ok) / done.length) : 0}%`,
      );
      return 0;
    }
    if (command !== 'run' && command !== 'replay') {
      console.error(USAGE);
      return 2;
    }
    const input: StartRunInput = {
      pipelineId,
      trigger: command === 'replay' ? 'replay' : 'manual',
      dryRun: values['dry-run'],
      resume: values.resume,
      ...(values['run-id'] ? { runId: values['run-id'] } : {}),
      ...(command === 'replay' ? { sourceRunId: rest[0] ?? '' } : {}),
    };
    console.log(`running pipeline ${pipelineId} locally (data in ${DATA_DIR})…`);
    const result = await runDigestLocally({ config, environment, input });
    const store = createObjectStore({ client: createS3Client(), bucket: environment.aws.bucket });
    const draft = result.report ? await loadDraft(store, pipelineId, result.report.runId) : undefined;
    console.log(
      formatRunSummary({
        executionStatus: result.status,
        ...(result.error ? { executionError: `${result.error}: ${result.cause ?? ''}` } : {}),
        durationMs: Date.now() - started,
        ...(result.report ? { report: result.report } : {}),
        ...(draft ? { draft } : {}),
        dataDir: DATA_DIR,
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

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    // Known errors (bad config, missing secret) are one clear line; anything else keeps its stack.
    console.error(error instanceof DigestError ? `error: ${error.message}` : error);
    process.exit(1);
  },
);
