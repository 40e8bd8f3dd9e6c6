import type { BuildOptions } from 'esbuild';

/**
 * How every function is bundled: one ESM file for Node 22, minified, the AWS
 * SDK included. Bundling the SDK rather than taking the runtime's copy loads
 * faster (begin-run: 100 ms against 164 ms, measured by bench/bundles.ts) and
 * pins the version we test. The CDK construct and the benchmark both use
 * these options, so what is measured is what ships.
 */
export const BUNDLE_OPTIONS = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  minify: true,
  sourcemap: false,
  mainFields: ['module', 'main'],
  external: [] as string[],
  // Some dependencies still call require(); give ESM bundles one.
  banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
} satisfies BuildOptions;
