/**
 * Peak memory of each step's handler at N messages: the synthesized state
 * machine runs locally (aws-local-stepfunctions) against embedded S3 and
 * DynamoDB and the sandbox servers answering at once, and every Task state is
 * bound to a process of its own (bench/step-process.ts) running that step's
 * real handler bundled as it ships, as a Lambda container does. Each figure is that
 * process's peak RSS in MiB over every invocation it ran (AnalyzeBatch: all
 * the Map's items, one at a time, in one warm container).
 *
 * `npx tsx bench/step-memory.ts 1000 10000 100000` prints the figures. Each
 * process gets the heap flags Lambda's Node.js runtime gives a function of its
 * memory setting (lambdaHeapFlags, TASK_STATES' memoryMB), so V8 collects as it
 * would there; `--node-heap` leaves node's default instead, which grows towards
 * this machine's multi-GB limit before it collects.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { BUNDLE_OPTIONS } from '../infra/bundling';
import { synthesizeDefinition } from '../infra/definition';
import { startLocalEnvironment } from '../infra/local/environment';
import { executeLocally } from '../infra/local/local-execution';
import { CONFIG_ENV, loadConfigFile } from '../shared/config/load';
import { TASK_STATES, type TaskStateName } from '../shared/config/resources';
import { configSchema } from '../shared/config/schema';

type Reply =
  | { kind: 'ready' }
  | { kind: 'peak'; maxRssMiB: number }
  | { kind: 'result'; id: number; ok: true; result: unknown }
  | { kind: 'result'; id: number; ok: false; name: string; message: string };

const BUNDLES = resolve('.local/bench/step-memory');

/**
 * The flags the Lambda Node.js runtime starts node with for a function of `memoryMB`: a tenth for the
 * young generation (half of it a semi-space), the rest for the old one (the nodejs image's
 * /var/runtime/bootstrap, as printed in "Custom Binaries on AWS Lambda + Poking Around", 2023).
 */
export function lambdaHeapFlags(memoryMB: number): string[] {
  const newSpace = Math.floor(memoryMB / 10);
  return [`--max-semi-space-size=${Math.floor(newSpace / 2)}`, `--max-old-space-size=${memoryMB - newSpace}`];
}

/** The step's handler and the invocation loop, bundled as the function ships (infra/bundling.ts). */
async function bundleStep(state: TaskStateName): Promise<string> {
  const { dir, timeoutSeconds } = TASK_STATES[state];
  const outfile = join(BUNDLES, `${dir}.mjs`);
  mkdirSync(BUNDLES, { recursive: true });
  await build({
    ...BUNDLE_OPTIONS,
    stdin: {
      contents: [
        `import { handler } from './functions/${dir}/handler.ts';`,
        "import { serveInvocations } from './bench/step-process.ts';",
        `serveInvocations(handler, ${JSON.stringify(dir)}, ${timeoutSeconds});`,
      ].join('\n'),
      resolveDir: process.cwd(),
      loader: 'ts',
    },
    outfile,
    logLevel: 'error',
  });
  return outfile;
}

/** A step's process: invocations are queued and run one at a time, as one container takes them. */
class StepProcess {
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private next = 1;
  private queue: Promise<unknown> = Promise.resolve();
  readonly ready: Promise<void>;
  private peak: ((mib: number) => void) | undefined;

  constructor(bundle: string, env: NodeJS.ProcessEnv, execArgv: string[]) {
    this.child = fork(bundle, [], {
      // STEP_EXEC_ARGV (e.g. `--max-old-space-size=128`) tells a step's garbage from what it holds.
      execArgv: [...execArgv, ...(process.env.STEP_EXEC_ARGV?.split(' ').filter(Boolean) ?? [])],
      env,
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    this.ready = new Promise((resolve, reject) => {
      this.child.once('error', reject);
      this.child.on('message', (reply: Reply) => {
        if (reply.kind === 'ready') resolve();
        else if (reply.kind === 'peak') this.peak?.(reply.maxRssMiB);
        else {
          const waiter = this.pending.get(reply.id);
          this.pending.delete(reply.id);
          if (reply.ok) waiter?.resolve(reply.result);
          else {
            // The error's name is what Retry and Catch match on, as from a Lambda.
            const error = new Error(reply.message);
            error.name = reply.name;
            waiter?.reject(error);
          }
        }
      });
    });
  }

  invoke(payload: unknown): Promise<unknown> {
    const run = this.queue.then(async () => {
      await this.ready;
      const id = this.next++;
      return new Promise((resolve, reject) => {
        this.pending.set(id, { resolve, reject });
        this.child.send({ kind: 'invoke', id, payload });
      });
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Stop the process and answer its peak RSS in MiB. */
  async close(): Promise<number> {
    await this.queue;
    await this.ready;
    const peak = new Promise<number>((resolve) => {
      this.peak = resolve;
    });
    this.child.send({ kind: 'exit' });
    return peak;
  }
}

/**
 * Peak RSS in MiB of each step's handler process for one run of
 * `messageCount` seeded messages, keyed by state name (BeginRun, Collect, …).
 */
export async function measureStepMemory(
  messageCount: number,
  options: { lambdaHeap?: boolean } = { lambdaHeap: true },
): Promise<Record<string, number>> {
  // Set before any sandbox starts: each reads its profile when it is created.
  process.env.DIGEST_SANDBOX_LATENCY = 'fast';
  // Memory, not quotas, is measured: a day's free-tier Gemini quota would stop 100,000 messages midway.
  process.env.DIGEST_GEMINI_TIER = 'none';
  const base = loadConfigFile('digest.config.json');
  const pipeline = base.pipelines[0];
  if (!pipeline) throw new Error('the sample config has no pipeline');
  // Read the whole seeded span (three days) and every message in it.
  const config = configSchema.parse({
    pipelines: [
      {
        ...pipeline,
        discord: {
          ...pipeline.discord,
          window: { mode: 'hours', hours: 96 },
          fetchLimit: Math.min(100_000, messageCount + 100),
        },
      },
    ],
  });
  const now = new Date();
  const environment = await startLocalEnvironment({ config, secretsEnv: {}, now, seedCount: messageCount });
  const env = {
    ...process.env,
    ...environment.env,
    [CONFIG_ENV]: JSON.stringify(config),
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    POWERTOOLS_METRICS_DISABLED: 'true',
  };
  const states = Object.keys(TASK_STATES) as TaskStateName[];
  const bundles = await Promise.all(states.map(bundleStep));
  const processes = Object.fromEntries(
    states.map((state, i) => {
      const { memoryMB } = TASK_STATES[state];
      return [
        state,
        new StepProcess(bundles[i] ?? '', env, options.lambdaHeap ? lambdaHeapFlags(memoryMB) : []),
      ];
    }),
  ) as Record<TaskStateName, StepProcess>;
  const definition = synthesizeDefinition(config).definition;
  const input = {
    pipelineId: pipeline.id,
    trigger: 'schedule',
    scheduleName: 'morning',
    scheduledTime: now.toISOString(),
  };
  const handlers = Object.fromEntries(
    Object.entries(processes).map(([state, step]) => [state, (payload: unknown) => step.invoke(payload)]),
  );
  let peaks: Record<string, number> = {};
  try {
    // A window of 100,000 messages meets the largest fetch limit the config allows: the run ends partial
    // at it and is resumed, as an operator would, by the same warm processes.
    let outcome = '';
    for (let attempt = 0; attempt < 3 && outcome !== 'succeeded'; attempt += 1) {
      const result = await executeLocally({
        definition,
        executionName: `step-memory-${messageCount}-${now.getTime()}-${attempt}`,
        input: { ...input, resume: attempt > 0 },
        handlers,
      });
      const report = (result.output as { report?: { status?: string; reason?: string } } | undefined)?.report;
      outcome = report?.status ?? result.status;
      if (outcome !== 'succeeded' && outcome !== 'partial') {
        throw new Error(
          `the run at ${messageCount} messages ended ${outcome}: ${report?.reason ?? result.cause ?? ''}`,
        );
      }
    }
    if (outcome !== 'succeeded') throw new Error(`the run at ${messageCount} messages did not finish`);
  } finally {
    // Every process is stopped, even after a failed run, so none outlives the measurement.
    peaks = Object.fromEntries(
      await Promise.all(
        Object.entries(processes).map(
          async ([state, step]) => [state, Math.round(await step.close())] as const,
        ),
      ),
    );
    await environment.close();
  }
  return peaks;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const lambdaHeap = !args.includes('--node-heap');
  const counts = args.map(Number).filter(Number.isFinite);
  for (const count of counts.length > 0 ? counts : [1_000]) {
    const started = performance.now();
    const peaks = await measureStepMemory(count, { lambdaHeap });
    const seconds = ((performance.now() - started) / 1000).toFixed(0);
    console.log(
      `${count} messages (${seconds} s): ${Object.entries(peaks)
        .map(([s, mib]) => `${s} ${mib} MiB`)
        .join(', ')}`,
    );
  }
}
