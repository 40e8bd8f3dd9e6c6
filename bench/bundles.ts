/**
 * Benchmark: each function's bundle, built with the options the CDK construct
 * uses, its size, and how long a fresh Node process takes to load it (the
 * cold-start share we control). Run with `npm run bench:bundles`.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { BUNDLE_OPTIONS } from '../infra/bundling';
import { TASK_STATES } from '../shared/config/resources';

const OUT = resolve('.local/bench/bundles');
const LOADS = 7;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function loadTimeMs(file: string): number {
  const samples: number[] = [];
  for (let i = 0; i < LOADS; i += 1) {
    // A fresh process each time: nothing cached, as in a new Lambda container.
    const out = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const t=performance.now();await import(${JSON.stringify(file)});console.log(performance.now()-t)`,
      ],
      { encoding: 'utf8', env: { ...process.env, AWS_REGION: 'us-east-1' } },
    );
    samples.push(Number(out.trim()));
  }
  return median(samples);
}

const rows: string[] = [];
for (const { dir } of Object.values(TASK_STATES)) {
  const outfile = join(OUT, dir, 'index.mjs');
  mkdirSync(join(OUT, dir), { recursive: true });
  await build({
    ...BUNDLE_OPTIONS,
    entryPoints: [`functions/${dir}/handler.ts`],
    outfile,
    logLevel: 'error',
  });
  const kib = statSync(outfile).size / 1024;
  rows.push(
    `${dir.padEnd(11)} ${kib.toFixed(0).padStart(6)} KiB   load ${loadTimeMs(outfile).toFixed(0).padStart(4)} ms`,
  );
}
console.log(`node ${process.version}; median of ${LOADS} cold loads in fresh processes`);
console.log(rows.join('\n'));
