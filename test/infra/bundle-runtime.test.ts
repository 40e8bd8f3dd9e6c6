/**
 * The bundles alias packages and builtins (infra/bundling.ts) that the other tests import as they are: a
 * bundle of the S3, DynamoDB, Discord and Gemini adapters, built with the functions' options, must still
 * reach embedded AWS and the sandboxes. (An alias that sent node:http's shim back to itself once loaded
 * fine and failed at the first request.)
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_OPTIONS } from '../../infra/bundling';
import { type EmbeddedAws, startEmbeddedAws } from '../../infra/local/embedded-aws';
import { type DiscordSandbox, startDiscordSandbox } from '../../infra/local/sandbox/discord-server';
import { type GeminiSandbox, startGeminiSandbox } from '../../infra/local/sandbox/gemini-server';
import type { exercise } from '../support/bundled-adapters';
import { message } from '../support/messages';

const CHANNEL = '1200000000000000000';
let aws: EmbeddedAws;
let discord: DiscordSandbox;
let gemini: GeminiSandbox;
const saved = { ...process.env };

beforeAll(async () => {
  aws = await startEmbeddedAws({});
  discord = await startDiscordSandbox({
    token: 'bot-token',
    channels: {
      [CHANNEL]: [
        message('2026-11-24T09:00:00.000Z', 5, 'gm'),
        message('2026-11-24T09:00:00.000Z', 4, 'hi', 1),
      ],
    },
  });
  gemini = await startGeminiSandbox({ apiKey: 'gem-key', quotas: false });
  Object.assign(process.env, aws.env);
});
afterAll(async () => {
  process.env = saved;
  await Promise.all([aws?.close(), discord?.close(), gemini?.close()]);
});

describe('a bundle built with the functions’ options', () => {
  it('sends through its aliased packages and builtins', async () => {
    // Prepare
    const outfile = join(mkdtempSync(join(tmpdir(), 'bundle-runtime-')), 'index.mjs');
    await build({
      ...BUNDLE_OPTIONS,
      entryPoints: ['test/support/bundled-adapters.ts'],
      outfile,
      logLevel: 'error',
    });
    const bundled = (await import(pathToFileURL(outfile).href)) as { exercise: typeof exercise };

    // Act
    const answer = await bundled.exercise({
      discordUrl: discord.url,
      discordToken: 'bot-token',
      channelId: CHANNEL,
      geminiUrl: gemini.url,
      geminiKey: 'gem-key',
    });

    // Assess
    expect(answer).toEqual({
      buckets: [aws.bucket],
      tables: [aws.table],
      messages: 2,
      analysed: ['1'],
    });
  }, 60_000);
});
