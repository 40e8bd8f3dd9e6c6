/**
 * @discordjs/rest's REST extends this package's AsyncEventEmitter, whose dist inlines a browser copy of
 * Node's util.inspect (node-inspect-extracted, 81 KiB, run at import) only to word an 'error' event nobody
 * listens to (@vladfrangu/async_event_emitter dist/index.mjs, emit). REST itself only emits and counts
 * listeners (@discordjs/rest dist/web.mjs: emit, listenerCount), and our one listener is synchronous
 * (shared/adapters/discord.ts), so Node's own EventEmitter does the same job with the real util.inspect.
 */
export { EventEmitter as AsyncEventEmitter } from 'node:events';
