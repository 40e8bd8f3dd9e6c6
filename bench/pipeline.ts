/**
 * Benchmark: N seeded messages through the whole local pipeline (the real
 * state machine, handlers, clients, embedded AWS and sandbox servers). Prints
 * the time, the peak memory and the requests made to each API next to the
 * minimum design.md sets. Run with `npm run bench:pipeline -- 10000`.
 */

import { startLocalEnvironment } from '../infra/local/environment';
import { runDigestLocally } from '../infra/local/runner';
import { loadConfigFile } from '../shared/config/load';
import { configSchema } from '../shared/config/schema';

const count = Number(process.argv[2] ?? 10_000);
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
  const result = await runDigestLocally({
    config,
    environment,
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
    `messages seeded: ${count}; kept posts: ${kept}; run status: ${report?.status ?? result.status}`,
  );
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
