/**
 * Benchmark: N seeded messages through the whole local pipeline (the real
 * state machine, handlers, clients, embedded AWS and sandbox servers). Prints
 * the time, the peak memory and the requests made to each API next to the
 * minimum design.md sets. Run with `npm run bench:pipeline -- 10000`.
 *
 * The sandboxes answer with the realistic latency and the free-tier quotas of
 * each service (`--fast` answers at once); the run's Wait states really wait,
 * so a quota that resets within the run is waited out, and one that resets
 * later leaves the run partial, naming the reset.
 */

import { startLocalEnvironment } from '../infra/local/environment';
import { runDigestLocally } from '../infra/local/runner';
import { loadConfigFile } from '../shared/config/load';
import { configSchema } from '../shared/config/schema';

const args = process.argv.slice(2);
const count = Number(args.find((a) => /^\d+$/.test(a)) ?? 10_000);
// Set before any sandbox starts: each reads its latency profile when it is created.
process.env.DIGEST_SANDBOX_LATENCY = args.includes('--fast') ? 'fast' : 'realistic';
const base = loadConfigFile('digest.config.json');
const pipeline = base.pipelines[0];
if (!pipeline) throw new Error('the sample config has no pipeline');
// Read the whole seeded span (three days) and every message in it.
const config = configSchema.parse({
  pipelines: [
    {
      ...pipeline,
      discord: { ...pipeline.discord, window: { mode: 'hours', hours: 96 }, fetchLimit: count + 100 },
    },
  ],
});
process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';
process.env.POWERTOOLS_METRICS_DISABLED = 'true';

const now = new Date();
const environment = await startLocalEnvironment({ config, secretsEnv: {}, now, seedCount: count });
let peakRss = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 50);
const rssBefore = process.memoryUsage().rss;
try {
  const started = performance.now();
  const waits: string[] = [];
  const failures: string[] = [];
  const result = await runDigestLocally({
    config,
    environment,
    interceptTask: async (state, payload, invoke) => {
      const began = performance.now();
      try {
        const answer = (await invoke(payload)) as { waitSeconds?: number } | undefined;
        if (answer?.waitSeconds) waits.push(`${state} ${answer.waitSeconds} s`);
        return answer;
      } catch (error) {
        const e = error as Error;
        const seconds = ((performance.now() - began) / 1000).toFixed(1);
        failures.push(
          `${state} after ${seconds} s: ${e.name}: ${e.message} ${(e.stack ?? '').split('\n').slice(1, 4).join(' ')}`,
        );
        throw error;
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
  clearInterval(sampler);
  const report = result.report;
  const kept = report?.steps.collect?.counts.postsKept ?? 0;
  const calls = (name: keyof typeof environment.sandboxes, method: string) =>
    environment.sandboxes[name]?.faults.calls.filter((c) => c.method === method).length ?? 0;
  const parts = report?.steps.publish?.counts.partsPublished ?? 0;
  console.log(
    `latency profile: ${process.env.DIGEST_SANDBOX_LATENCY} (sandboxes: ${Object.values(environment.sandboxes)
      .map((s) => `${s.name} ${s.latency}`)
      .join(', ')})`,
  );
  console.log(
    `messages seeded: ${count}; kept posts: ${kept}; run status: ${report?.status ?? result.status}`,
  );
  if (report?.reason) console.log(`why: ${report.reason}`);
  for (const [step, record] of Object.entries(report?.steps ?? {})) {
    const counts = Object.entries(record?.counts ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    console.log(`  ${step.padEnd(8)} ${record?.status.padEnd(9)} ${counts}`);
  }
  console.log(`state machine waits for rate limits: ${waits.length ? waits.join(', ') : 'none'}`);
  for (const failure of failures) console.log(`task failed: ${failure}`);
  console.log(
    `time: ${seconds.toFixed(1)} s; peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB (start ${(rssBefore / 2 ** 20).toFixed(0)} MiB)`,
  );
  console.log('requests (made / minimum per design.md):');
  console.log(`  discord GET   ${calls('discord', 'GET')} / ${Math.ceil(count / 100)}`);
  console.log(
    `  sheets  GET   ${calls('sheets', 'GET')}   POST/PUT ${calls('sheets', 'POST') + calls('sheets', 'PUT')}`,
  );
  console.log(`  gemini  POST  ${calls('gemini', 'POST')} / ${Math.ceil(kept / 100) + 1}`);
  console.log(`  x       POST  ${calls('x', 'POST')} / ${parts} (one per thread part)`);
} finally {
  clearInterval(sampler);
  await environment.close();
}
