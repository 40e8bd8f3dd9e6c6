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
  // The map ships beside the bundle, unlinked: a minified trace (index.mjs:1:123456) is read back with it.
  // Linked, Node's --enable-source-maps reads and parses it at every cold start (+10 ms of finish-run's
  // load here, its 1.2 MB map); inline, it would triple the bundle to parse.
  sourcemap: 'external',
  sourcesContent: false,
  mainFields: ['module', 'main'],
  external: [] as string[],
  // Licence comments stay in node_modules; the bundle only has to run.
  legalComments: 'none',
  // "replacing a node-only package with a browser-friendly package in third-party code" (esbuild docs, Alias;
  // resolved from the working directory, the project root). @discordjs/rest's web build is its Node build
  // without undici: it sends through global fetch, as shared/adapters/discord.ts asks both builds to
  // (@discordjs/rest package.json "exports": "default" -> dist/web.mjs).
  alias: {
    '@discordjs/rest': './node_modules/@discordjs/rest/dist/web.mjs',
    // Node 22's ESM wrapper of a builtin reads every export, and node:http's WebSocket, CloseEvent and
    // MessageEvent getters then load Node's own undici, tens of ms at each cold start, fetch unused
    // (nodejs/node#57649, #59686; lib/http.js lazyUndici). Through require() nothing reads them.
    http: './infra/bundle-shims/http.cjs',
    'node:http': './infra/bundle-shims/http.cjs',
    // The AWS clients' default credential chain, cut to its first link, the environment: Lambda's (the shim says why).
    '@aws-sdk/credential-provider-node': './infra/bundle-shims/aws-credentials.mjs',
  } as Record<string, string>,
  // Some dependencies still call require(); give ESM bundles one.
  banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
} satisfies BuildOptions;

/**
 * The options above that NodejsFunction has no property of its own for, as its `esbuildArgs`. Repeated
 * options go as arrays: `{ "--alias": ["first=./first", "second=./second"] }` (aws-cdk-lib
 * aws-lambda-nodejs BundlingOptions.esbuildArgs); esbuild runs in the project root there too.
 */
export const CDK_ESBUILD_ARGS = {
  '--legal-comments': BUNDLE_OPTIONS.legalComments,
  '--alias': Object.entries(BUNDLE_OPTIONS.alias).map(([from, to]) => `${from}=${to}`),
};
