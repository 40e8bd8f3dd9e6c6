/**
 * `npm run bench`: one table of what issue 10 asks to measure. Per function:
 * bundle size and cold load next to the naive bundle; per N (1k, 10k, 100k;
 * `--quick`: 1k and 10k): wall time with realistic latency (`--fast`: none),
 * peak memory, requests per API against the minimum, sheet cells used and
 * the modelled AWS cost of the run. `--tier tier1` plays Gemini's paid tier.
 */
import './quiet';
import { cpus, totalmem } from 'node:os';
import { TASK_STATES } from '../shared/config/resources';
import { measureBundles } from './bundles';
import { memoryMbOf, modelRunCost, usageOfRun } from './cost-model';
import { benchPipeline } from './pipeline';
import { measureStepMemory } from './step-memory';

const args = process.argv.slice(2);
const fast = args.includes('--fast');
const tierIndex = args.indexOf('--tier');
const tier = tierIndex >= 0 ? args[tierIndex + 1] : undefined;
const sizes = args.includes('--quick') ? [1_000, 10_000] : [1_000, 10_000, 100_000];

const lines: string[] = [];
const out = (line = '') => {
  lines.push(line);
  console.log(line);
};
const cpu = cpus()[0]?.model ?? 'unknown CPU';
out(
  `machine: ${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB; node ${process.version}; ${new Date().toISOString()}`,
);
out(`latency: ${fast ? 'fast (none)' : 'realistic'}; Gemini tier: ${tier ?? 'free'}`);
out();

const { functions, naive } = await measureBundles();
out('| function | bundle | cold load | naive cold load | naive / ours |');
out('|---|---:|---:|---:|---:|');
for (const f of functions) {
  const ratio = 'loadMs' in naive ? `${(naive.loadMs / f.loadMs).toFixed(1)}×` : 'n/a';
  const naiveLoad = 'loadMs' in naive ? `${naive.loadMs.toFixed(0)} ms` : 'n/a';
  out(
    `| ${f.name} | ${(f.bytes / 1024).toFixed(0)} KiB | ${f.loadMs.toFixed(0)} ms | ${naiveLoad} | ${ratio} |`,
  );
}
if ('loadMs' in naive)
  out(`| naive bundle | ${(naive.bytes / 1024).toFixed(0)} KiB | ${naive.loadMs.toFixed(0)} ms | | |`);
else out(`naive bundle skipped: ${naive.skipped}`);
out();

const loadByDir = new Map(functions.map((f) => [f.name, f.loadMs]));
const initMsOf = (state: string) => {
  const dir = (TASK_STATES[state as keyof typeof TASK_STATES] as { dir?: string } | undefined)?.dir;
  return dir ? (loadByDir.get(dir) ?? 0) : 0;
};

out(
  '| N | status | wall time | peak memory | Discord GETs (min) | Sheets requests (max 8) | Gemini POSTs (min) | X posts (parts) | sheet cells | state transitions | AWS cost |',
);
out('|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
const costs: string[] = [];
for (const n of sizes) {
  const run = await benchPipeline(n, { fast, ...(tier ? { tier } : {}) });
  const memory = await measureStepMemory(n);
  const usage = usageOfRun(run, memoryMbOf, initMsOf);
  const cost = modelRunCost(usage);
  const r = run.requests;
  const cells =
    run.report?.steps.archive?.counts.sheetCellsUsed ?? run.report?.steps.upload?.counts.sheetCellsUsed;
  const memoryText = Object.entries(memory)
    .map(([k, v]) => `${k} ${v.toFixed(0)} MiB`)
    .join(', ');
  out(
    `| ${n.toLocaleString('en-US')} | ${run.status} | ${run.seconds.toFixed(1)} s | ${memoryText} | ${r.discord.made} (${r.discord.minimum}) | ${r.sheets.made} | ${r.gemini.made} (${r.gemini.minimum}) | ${r.x.made} (${r.x.minimum}) | ${cells?.toLocaleString('en-US') ?? 'n/a'} | ${run.stateTransitions} | $${cost.total.toFixed(6)} |`,
  );
  const gbSeconds = usage.invocations.reduce((s, i) => s + (i.memoryMb / 1024) * (i.billedMs / 1000), 0);
  costs.push(
    `N=${n}: Lambda $${cost.lambda.toFixed(6)} (${usage.invocations.length} invocations, ${gbSeconds.toFixed(2)} GB-s), Step Functions $${cost.stepFunctions.toFixed(6)} (${usage.stateTransitions} transitions), S3 $${cost.s3.toFixed(7)} (${usage.s3Writes} writes, ${usage.s3Reads} reads), DynamoDB $${cost.dynamodb.toFixed(7)} (${usage.dynamoWriteUnits} WRU, ${usage.dynamoReadUnits} RRU), Scheduler $${cost.scheduler.toFixed(7)}`,
  );
  costs.push(
    `  N=${n} Sheets requests by step: ${Object.entries(run.sheetsByState)
      .map(([state, count]) => `${state} ${count} in ${run.taskMs[state]?.length ?? 0} invocation(s)`)
      .join(', ')}`,
  );
  for (const failure of run.failures) costs.push(`  N=${n} task failed: ${failure}`);
  if (run.report?.reason) costs.push(`  N=${n} run ${run.status}: ${run.report.reason}`);
}
out();
out(`cost breakdown (US East prices, no free tier; each function at its TASK_STATES memoryMB):`);
for (const c of costs) out(`- ${c}`);
