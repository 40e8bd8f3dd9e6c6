/**
 * Benchmark: N seeded messages through the whole local pipeline (the real
 * state machine, handlers, clients, embedded AWS and sandbox servers). Prints
 * the time, the peak memory and the requests made to each API next to the
 * minimum issue 10 sets. Run with `npm run bench:pipeline -- 10000`.
 *
 * The sandboxes answer with the realistic latency and the free-tier quotas of
 * each service (`--fast` answers at once; `--tier tier1` plays Gemini's paid
 * tier 1); the run's Wait states really wait, so a quota that resets within
 * the run is waited out, and one that resets later leaves the run partial.
 */
import './quiet';
import { pathToFileURL } from 'node:url';
import { startLocalEnvironment } from '../infra/local/environment';
import { applyEnvironment, runDigestLocally } from '../infra/local/runner';
import { geminiQuotasFromEnv } from '../infra/local/sandbox/gemini-server';
import { createDynamoDocumentClient, createS3Client } from '../shared/adapters/aws-clients';
import { loadConfigFile } from '../shared/config/load';
import { configSchema } from '../shared/config/schema';
import { MAX_REQUESTS_IN_FLIGHT } from '../shared/domain/analysis-fan-out';
import { WaitForRateLimitError } from '../shared/errors';
import { memoryMbOf, modelRunCost, usageOfRun } from './cost-model';

/** The config's own ceiling on discord.fetchLimit (shared/config/schema.ts). */
const MAX_FETCH_LIMIT = 100_000;

import type { RunReport } from '../shared/pipeline/finish-run';

export interface PipelineBenchOptions {
  /** Answer at once instead of with each service's realistic latency. */
  fast: boolean;
  /** Gemini quota tier the sandbox plays (`free` by default). */
  tier?: string;
}

export interface ApiRequests {
  made: number;
  minimum: number;
}

export interface PipelineBench {
  count: number;
  kept: number;
  status: string;
  seconds: number;
  peakRssMiB: number;
  report: RunReport | undefined;
  /** Wall time of each task invocation, by state name (what Lambda would bill). */
  taskMs: Record<string, number[]>;
  /** The most invocations of each state at once: the containers a cold run starts for it. */
  containers: Record<string, number>;
  stateTransitions: number;
  /** Requests each state's invocations made to the Sheets sandbox (where a run's Sheets budget goes). */
  sheetsByState: Record<string, number>;
  /** AWS requests the handlers sent, by command name (for the cost model). */
  awsCommands: { s3: Record<string, number>; dynamodb: Record<string, number> };
  requests: Record<'discord' | 'sheets' | 'gemini' | 'x', ApiRequests>;
  waits: string[];
  failures: string[];
  latency: string;
}

/** Issue 10's Sheets budget: at most 8 requests a run whatever N. */
export const SHEETS_MAX_REQUESTS = 8;

export async function benchPipeline(count: number, options: PipelineBenchOptions): Promise<PipelineBench> {
  // Set before any sandbox starts: each reads its latency profile and quotas when it is created.
  process.env.DIGEST_SANDBOX_LATENCY = options.fast ? 'fast' : 'realistic';
  if (options.tier) process.env.DIGEST_GEMINI_TIER = options.tier;
  const base = loadConfigFile('digest.config.json');
  const pipeline = base.pipelines[0];
  if (!pipeline) throw new Error('the sample config has no pipeline');
  // The project's requests per minute are those of the tier the sandbox plays: they size the Map's concurrency.
  const quotas = geminiQuotasFromEnv();
  const requestsPerMinute = quotas
    ? quotas[pipeline.gemini.model]?.requestsPerMinute
    : MAX_REQUESTS_IN_FLIGHT * 60;
  // Read the whole seeded span (three days) and every message in it.
  const config = configSchema.parse({
    pipelines: [
      {
        ...pipeline,
        gemini: {
          ...pipeline.gemini,
          ...(requestsPerMinute ? { requestsPerMinute: Math.min(requestsPerMinute, 30_000) } : {}),
        },
        discord: {
          ...pipeline.discord,
          window: { mode: 'hours', hours: 96 },
          fetchLimit: Math.min(count + 100, MAX_FETCH_LIMIT),
        },
      },
    ],
  });

  const now = new Date();
  const environment = await startLocalEnvironment({ config, secretsEnv: {}, now, seedCount: count });
  // The handlers' clients are the per-container ones these factories return: count what they send.
  applyEnvironment(config, environment);
  const awsCommands = { s3: {} as Record<string, number>, dynamodb: {} as Record<string, number> };
  const counting =
    (into: Record<string, number>) =>
    // biome-ignore lint/suspicious/noExplicitAny: the SDK's middleware types differ per client
    (next: any, context: { commandName?: string }) =>
    async (args: unknown) => {
      const name = context.commandName ?? 'unknown';
      into[name] = (into[name] ?? 0) + 1;
      return next(args);
    };
  createS3Client().middlewareStack.add(counting(awsCommands.s3), {
    step: 'initialize',
    name: 'benchCountS3',
  });
  createDynamoDocumentClient().middlewareStack.add(counting(awsCommands.dynamodb), {
    step: 'initialize',
    name: 'benchCountDynamo',
  });
  let peakRss = 0;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 50);
  try {
    const started = performance.now();
    const waits: string[] = [];
    const failures: string[] = [];
    const taskMs: Record<string, number[]> = {};
    const containers: Record<string, number> = {};
    const running: Record<string, number> = {};
    const sheetsByState: Record<string, number> = {};
    const sheetCalls = () => environment.sandboxes.sheets?.faults.calls.length ?? 0;
    const result = await runDigestLocally({
      config,
      environment,
      interceptTask: async (state, payload, invoke) => {
        const began = performance.now();
        const sheetsBefore = sheetCalls();
        running[state] = (running[state] ?? 0) + 1;
        containers[state] = Math.max(containers[state] ?? 0, running[state]);
        try {
          return await invoke(payload);
        } catch (error) {
          const e = error as Error;
          const seconds = ((performance.now() - began) / 1000).toFixed(1);
          // The state machine waits until the time the error names, then runs the task again.
          if (e instanceof WaitForRateLimitError) waits.push(`${state} until ${e.message}`);
          else failures.push(`${state} after ${seconds} s: ${e.name}: ${e.message}`);
          throw error;
        } finally {
          running[state] = (running[state] ?? 1) - 1;
          taskMs[state] = [...(taskMs[state] ?? []), performance.now() - began];
          sheetsByState[state] = (sheetsByState[state] ?? 0) + sheetCalls() - sheetsBefore;
        }
      },
      input: {
        pipelineId: pipeline.id,
        trigger: 'schedule',
        scheduleName: 'morning',
        scheduledTime: now.toISOString(),
      },
    });
    const seconds = (performance.now() - started) / 1000;
    const report = result.report;
    const kept = report?.steps.collect?.counts.postsKept ?? 0;
    const calls = (name: keyof typeof environment.sandboxes, method?: string) =>
      environment.sandboxes[name]?.faults.calls.filter((c) => !method || c.method === method).length ?? 0;
    const batch = config.pipelines[0]?.gemini.batchSize ?? 100;
    return {
      count,
      kept,
      status: report?.status ?? result.status,
      seconds,
      peakRssMiB: peakRss / 2 ** 20,
      report,
      taskMs,
      containers,
      stateTransitions: result.stateTransitions,
      sheetsByState,
      awsCommands,
      requests: {
        discord: { made: calls('discord', 'GET'), minimum: Math.ceil(count / 100) },
        sheets: { made: calls('sheets'), minimum: SHEETS_MAX_REQUESTS },
        gemini: { made: calls('gemini', 'POST'), minimum: Math.ceil(kept / batch) + 1 },
        x: { made: calls('x', 'POST'), minimum: report?.steps.publish?.counts.partsPublished ?? 0 },
      },
      waits,
      failures,
      latency: Object.values(environment.sandboxes)
        .map((s) => `${s.name} ${s.latency}`)
        .join(', '),
    };
  } finally {
    clearInterval(sampler);
    await environment.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const count = Number(args.find((a) => /^\d+$/.test(a)) ?? 10_000);
  const tier = args[args.indexOf('--tier') + 1];
  const bench = await benchPipeline(count, {
    fast: args.includes('--fast'),
    ...(args.includes('--tier') && tier ? { tier } : {}),
  });
  console.log(`latency: ${bench.latency}`);
  console.log(`messages seeded: ${count}; kept posts: ${bench.kept}; run status: ${bench.status}`);
  if (bench.report?.reason) console.log(`why: ${bench.report.reason}`);
  for (const [step, record] of Object.entries(bench.report?.steps ?? {})) {
    const counts = Object.entries(record?.counts ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    console.log(`  ${step.padEnd(8)} ${record?.status.padEnd(9)} ${counts}`);
  }
  console.log(`state machine waits for rate limits: ${bench.waits.length ? bench.waits.join(', ') : 'none'}`);
  for (const failure of bench.failures) console.log(`task failed: ${failure}`);
  console.log(`time: ${bench.seconds.toFixed(1)} s; peak RSS ${bench.peakRssMiB.toFixed(0)} MiB`);
  console.log('requests (made / minimum):');
  for (const [api, r] of Object.entries(bench.requests))
    console.log(`  ${api.padEnd(8)} ${r.made} / ${r.minimum}`);
  const byStep = Object.entries(bench.sheetsByState).map(
    ([state, n]) => `${state} ${n} (${bench.taskMs[state]?.length ?? 0} invocations)`,
  );
  console.log(`sheets by step: ${byStep.join(', ')}`);
  const taskTimes = Object.entries(bench.taskMs).map(
    ([state, times]) =>
      `${state} ${(times.reduce((a, b) => a + b, 0) / 1000).toFixed(1)} s in ${times.length}`,
  );
  console.log(`task time by step: ${taskTimes.join(', ')}`);
  console.log(`state transitions: ${bench.stateTransitions}`);
  // npm run bench measures each bundle's cold load; here every INIT is taken at the 150 ms ceiling.
  const cost = modelRunCost(usageOfRun(bench, memoryMbOf, () => 150));
  console.log(
    `modelled AWS cost (INIT at 150 ms): $${cost.total.toFixed(6)} (Lambda $${cost.lambda.toFixed(6)}, Step Functions $${cost.stepFunctions.toFixed(6)}, S3 $${cost.s3.toFixed(7)}, DynamoDB $${cost.dynamodb.toFixed(7)})`,
  );
  for (const [service, commands] of Object.entries(bench.awsCommands))
    console.log(
      `${service} requests: ${Object.entries(commands)
        .map(([c, n]) => `${c} ${n}`)
        .join(', ')}`,
    );
}
