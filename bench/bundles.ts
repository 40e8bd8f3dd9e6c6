/**
 * Benchmark: each function's bundle, built with the options the CDK construct
 * uses, its size, and how long a fresh Node process takes to load it (the
 * cold-start share we control), next to a naive bundle of the SDKs the
 * project chose not to use. Run with `npm run bench:bundles`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { BUNDLE_OPTIONS } from '../infra/bundling';
import { TASK_STATES } from '../shared/config/resources';

const OUT = resolve('.local/bench/bundles');
/** Where the naive bundle's packages are installed: never the project's own node_modules. */
const NAIVE_DIR = resolve('.local/bench/naive');
const LOADS = 7;

/**
 * What a first version would bundle: the full discord.js, googleapis, the
 * deprecated @google/generative-ai and the S3 and DynamoDB clients (design.md,
 * "Chosen dependencies"). Installed with `npm install --prefix` at bench time.
 */
export const NAIVE_PACKAGES = [
  'discord.js',
  'googleapis',
  '@google/generative-ai',
  '@aws-sdk/client-s3',
  '@aws-sdk/client-dynamodb',
] as const;

export interface BundleMeasure {
  name: string;
  bytes: number;
  loadMs: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** One cold load: a fresh process each time, nothing cached, as in a new Lambda container. */
function loadOnceMs(file: string): number {
  const out = execFileSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const t=performance.now();await import(${JSON.stringify(pathToFileURL(file).href)});console.log(performance.now()-t)`,
    ],
    {
      encoding: 'utf8',
      env: { ...process.env, AWS_REGION: 'us-east-1' },
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  return Number(out.trim());
}

interface BuiltBundle {
  name: string;
  file: string;
  bytes: number;
}

/**
 * Median load of each bundle, the bundles taken in turn round after round (ours and the naive one side by
 * side): a machine whose load drifts during the run slows every bundle's samples alike, so the ratios
 * compare like with like.
 */
function loadSideBySide(bundles: readonly BuiltBundle[]): BundleMeasure[] {
  const samples = bundles.map(() => [] as number[]);
  for (let round = 0; round < LOADS; round += 1)
    for (const [i, bundle] of bundles.entries()) samples[i]?.push(loadOnceMs(bundle.file));
  return bundles.map((bundle, i) => ({
    name: bundle.name,
    bytes: bundle.bytes,
    loadMs: median(samples[i] ?? []),
  }));
}

/** Build every function's bundle; the metafile says what each one holds. */
async function buildFunctionBundles(): Promise<BuiltBundle[]> {
  const built: BuiltBundle[] = [];
  for (const { dir } of Object.values(TASK_STATES)) {
    const outfile = join(OUT, dir, 'index.mjs');
    mkdirSync(join(OUT, dir), { recursive: true });
    const result = await build({
      ...BUNDLE_OPTIONS,
      entryPoints: [`functions/${dir}/handler.ts`],
      outfile,
      metafile: true,
      logLevel: 'error',
    });
    writeFileSync(join(OUT, dir, 'meta.json'), JSON.stringify(result.metafile));
    built.push({ name: dir, file: outfile, bytes: statSync(outfile).size });
  }
  return built;
}

/** Every function's bundle and the naive one, built, then loaded side by side. */
export async function measureBundles(): Promise<{
  functions: BundleMeasure[];
  naive: BundleMeasure | { skipped: string };
}> {
  const functions = await buildFunctionBundles();
  const naive = await buildNaiveBundle();
  const measured = loadSideBySide('file' in naive ? [...functions, naive] : functions);
  return {
    functions: measured.slice(0, functions.length),
    naive: 'file' in naive ? (measured[functions.length] as BundleMeasure) : naive,
  };
}

/**
 * The naive bundle, built with the same options, or a reason it could not be
 * (offline: the packages cannot be installed).
 */
async function buildNaiveBundle(): Promise<BuiltBundle | { skipped: string }> {
  if (!NAIVE_PACKAGES.every((p) => existsSync(join(NAIVE_DIR, 'node_modules', p, 'package.json')))) {
    mkdirSync(NAIVE_DIR, { recursive: true });
    writeFileSync(
      join(NAIVE_DIR, 'package.json'),
      '{"name":"naive-bundle","private":true,"type":"module"}\n',
    );
    try {
      execFileSync('npm', ['install', '--prefix', NAIVE_DIR, '--no-audit', '--no-fund', ...NAIVE_PACKAGES], {
        stdio: 'ignore',
        timeout: 600_000,
      });
    } catch (error) {
      return {
        skipped: `npm install of ${NAIVE_PACKAGES.join(', ')} failed (${(error as Error).message.split('\n')[0]})`,
      };
    }
  }
  const entry = join(NAIVE_DIR, 'entry.mjs');
  // Each package imported whole, as a handler that reaches for `Client`, `google.sheets` and `GoogleGenerativeAI` would.
  writeFileSync(
    entry,
    [
      "import * as discord from 'discord.js';",
      "import { google } from 'googleapis';",
      "import * as gemini from '@google/generative-ai';",
      "import * as s3 from '@aws-sdk/client-s3';",
      "import * as dynamodb from '@aws-sdk/client-dynamodb';",
      'export const used = [discord.Client, google.sheets, gemini.GoogleGenerativeAI, s3.S3Client, dynamodb.DynamoDBClient];',
    ].join('\n'),
  );
  const outfile = join(NAIVE_DIR, 'out', 'index.mjs');
  await build({
    ...BUNDLE_OPTIONS,
    entryPoints: [entry],
    outfile,
    absWorkingDir: NAIVE_DIR,
    // discord.js's optional native speed-ups are not installed; it loads without them.
    external: ['zlib-sync', 'bufferutil', 'utf-8-validate', 'erlpack'],
    // The aliases are this project's trims of its own packages (paths under its root): not the naive bundle's.
    alias: {},
    logLevel: 'error',
  });
  return { name: 'naive', file: outfile, bytes: statSync(outfile).size };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { functions, naive } = await measureBundles();
  console.log(`node ${process.version}; median of ${LOADS} cold loads in fresh processes, taken in turn`);
  for (const f of functions) {
    const ratio = 'loadMs' in naive ? ` ${(naive.loadMs / f.loadMs).toFixed(1)}× faster than naive` : '';
    console.log(
      `${f.name.padEnd(11)} ${(f.bytes / 1024).toFixed(0).padStart(6)} KiB   load ${f.loadMs.toFixed(0).padStart(4)} ms${ratio}`,
    );
  }
  if ('loadMs' in naive)
    console.log(
      `naive       ${(naive.bytes / 1024).toFixed(0).padStart(6)} KiB   load ${naive.loadMs.toFixed(0).padStart(4)} ms`,
    );
  else console.log(`naive bundle skipped: ${naive.skipped}`);
}
