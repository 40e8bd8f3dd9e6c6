// web-streams-polyfill's ponyfill for the bundles: Node's own web streams. fetch-blob (node-fetch's, under
// gaxios) requires the ponyfill only where globalThis.ReadableStream is missing, never on Node 22, yet the
// bundle carried its 60 KiB (fetch-blob streams.cjs). node:stream/web exports the same classes
// (nodejs.org/api/webstreams.html), should the branch ever run.
module.exports = process.getBuiltinModule('node:stream/web');
