import type { BuildOptions } from 'esbuild';

/**
 * How every function is bundled: one ESM file for Node 22, minified, with the
 * AWS SDK v3 left to the Lambda runtime that ships it. The CDK construct and
 * the bundle benchmark both use these, so what is measured is what ships.
 */
export const BUNDLE_OPTIONS = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  minify: true,
  sourcemap: false,
  mainFields: ['module', 'main'],
  external: ['@aws-sdk/*'],
  // Some dependencies still call require(); give ESM bundles one.
  banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
} satisfies BuildOptions;
