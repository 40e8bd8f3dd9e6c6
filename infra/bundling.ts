import type { BuildOptions } from 'esbuild';

/**
 * The core-js 2 polyfills twitter-text's ES5 build imports (`grep -rho "core-js/modules/[^\"']*"
 * node_modules/twitter-text/dist/esm`): on Node 22 they polyfill nothing (infra/bundle-shims/no-polyfill.cjs).
 * One that twitter-text adds later is bundled as before, harmless.
 */
const CORE_JS_POLYFILLS = [
  'es6.array.filter',
  'es6.array.for-each',
  'es6.array.from',
  'es6.array.index-of',
  'es6.array.is-array',
  'es6.array.iterator',
  'es6.array.reduce',
  'es6.array.sort',
  'es6.date.to-string',
  'es6.object.assign',
  'es6.object.define-properties',
  'es6.object.define-property',
  'es6.object.keys',
  'es6.object.to-string',
  'es6.regexp.constructor',
  'es6.regexp.match',
  'es6.regexp.replace',
  'es6.regexp.split',
  'es6.regexp.to-string',
  'es6.string.iterator',
  'es6.symbol',
  'es7.object.get-own-property-descriptors',
  'web.dom.iterable',
];

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
    // REST's event base without its bundled copy of util.inspect (the shim says why).
    '@vladfrangu/async_event_emitter': './infra/bundle-shims/async-event-emitter.mjs',
    // @discordjs/rest takes APIVersion and CDNRoutes from discord-api-types/v10, which re-exports the gateway,
    // payload, RPC and voice enums too (88 KiB of CommonJS esbuild cannot shake); the same two objects come
    // from its REST part ("you may also import just certain parts of the module… rest/v*": the package's
    // README), whose ESM wrapper names every export, so esbuild refuses a build that asks it for one it lacks.
    'discord-api-types/v10': './node_modules/discord-api-types/rest/v10/index.mjs',
    // REST sniffs an uploaded file's type with it; nothing here uploads (the shim says why).
    'magic-bytes.js': './infra/bundle-shims/no-file-type-sniffing.mjs',
    // Node 22's ESM wrapper of a builtin reads every export, and node:http's WebSocket, CloseEvent and
    // MessageEvent getters then load Node's own undici, tens of ms at each cold start, fetch unused
    // (nodejs/node#57649, #59686; lib/http.js lazyUndici). Through require() nothing reads them.
    http: './infra/bundle-shims/http.cjs',
    'node:http': './infra/bundle-shims/http.cjs',
    // The AWS clients' default credential chain, cut to its first link, the environment: Lambda's (the shim says why).
    '@aws-sdk/credential-provider-node': './infra/bundle-shims/aws-credentials.mjs',
    'web-streams-polyfill/dist/ponyfill.es2018.js': './infra/bundle-shims/web-streams.cjs',
    // twitter-text's own dependency (punycode 1.4.1, the same toASCII) rather than Node's deprecated builtin,
    // which esbuild leaves external for platform node and which prints DEP0040 at every cold start outside
    // node_modules (nodejs.org/api/deprecations.html#DEP0040).
    punycode: './node_modules/punycode/punycode.js',
    ...Object.fromEntries(
      CORE_JS_POLYFILLS.map((name) => [`core-js/modules/${name}`, './infra/bundle-shims/no-polyfill.cjs']),
    ),
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
