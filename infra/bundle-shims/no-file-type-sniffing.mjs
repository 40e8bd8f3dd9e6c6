/**
 * magic-bytes.js builds its whole signature tree at import (dist/model/tree.js; 2-4 ms of each Collect cold
 * load in a CPU profile) for one use in @discordjs/rest: guessing the type of an uploaded file sent without
 * `contentType` (dist/web.mjs, resolveBody). Our Discord adapter only reads (shared/adapters/discord.ts:
 * GET), so no bundle uploads files; one that ever did stops here, loudly, before anything is sent.
 */
export function filetypeinfo() {
  throw new Error(
    'magic-bytes.js is not bundled (infra/bundling.ts): give each uploaded file its contentType',
  );
}
