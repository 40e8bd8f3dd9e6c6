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
import { type SheetsSandbox, startSheetsSandbox } from '../../infra/local/sandbox/sheets-server';
import { weightedLength } from '../../shared/domain/tweet-length';
import type { bucketNames, exercise, uploadWithoutType, weightsOf } from '../support/bundled-adapters';
import { message } from '../support/messages';

const CHANNEL = '1200000000000000000';
let aws: EmbeddedAws;
let discord: DiscordSandbox;
let gemini: GeminiSandbox;
let sheets: SheetsSandbox;
const saved = { ...process.env };
type Bundled = {
  exercise: typeof exercise;
  bucketNames: typeof bucketNames;
  weightsOf: typeof weightsOf;
  uploadWithoutType: typeof uploadWithoutType;
};
let bundled: Bundled;

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
  sheets = await startSheetsSandbox({ token: 'sheet-token', spreadsheets: ['book-1'], quotas: false });
  Object.assign(process.env, aws.env);
  const outfile = join(mkdtempSync(join(tmpdir(), 'bundle-runtime-')), 'index.mjs');
  await build({
    ...BUNDLE_OPTIONS,
    entryPoints: ['test/support/bundled-adapters.ts'],
    outfile,
    logLevel: 'error',
  });
  bundled = (await import(pathToFileURL(outfile).href)) as Bundled;
}, 60_000);
afterAll(async () => {
  process.env = saved;
  await Promise.all([aws?.close(), discord?.close(), gemini?.close(), sheets?.close()]);
});

describe('a bundle built with the functions’ options', () => {
  it('sends through its aliased packages and builtins', async () => {
    // Act
    const answer = await bundled.exercise({
      discordUrl: discord.url,
      discordToken: 'bot-token',
      channelId: CHANNEL,
      geminiUrl: gemini.url,
      geminiKey: 'gem-key',
      sheetsUrl: sheets.url,
      sheetsToken: 'sheet-token',
      spreadsheetId: 'book-1',
    });

    // Assess
    expect(answer).toEqual({
      buckets: [aws.bucket],
      tables: [aws.table],
      messages: 2,
      discordQuotas: [
        { api: 'discord', quota: 'route-bucket', used: expect.any(Number), limit: expect.any(Number) },
        { api: 'discord', quota: 'route-bucket', used: expect.any(Number), limit: expect.any(Number) },
      ],
      unknownChannel: ['ConfigError', 'discord has no channel 1 (code 10003): check discord.channelId'],
      analysed: ['1'],
      headers: ['message_id', 'summary'],
    });
  }, 60_000);

  it('refuses, before sending, a Discord upload whose type it would have to sniff', async () => {
    // Act
    const refused = await bundled.uploadWithoutType(discord.url, CHANNEL).catch((error: unknown) => error);

    // Assess: refused by the shim while REST builds the body, not by the sandbox (which would answer a
    // DiscordAPIError).
    expect((refused as Error).message).toMatch(/magic-bytes\.js is not bundled/);
  });

  it('weighs posts as twitter-text does unbundled, without its polyfills and with its own punycode', () => {
    // Prepare: URLs (an internationalised domain goes through punycode), CJK, emoji with ZWJ, and a long text.
    const texts = [
      'gm https://x.com/a/status/1 and acme.xyz.',
      'Neu: https://bücher.example/über 🚀 点击这里',
      '👩🏽‍💻👨‍👩‍👧 family.dev',
      `${'long '.repeat(70)}https://münchen.de/`,
    ];

    // Act
    const weights = bundled.weightsOf(texts);

    // Assess
    expect(weights).toEqual(texts.map(weightedLength));
  });

  it('signs with the environment’s AWS credentials, and names them when they are missing', async () => {
    // Prepare: the embedded S3 knows one account, S3RVER, whose keys aws.env put in process.env.
    const listed = await bundled.bucketNames();
    const { AWS_ACCESS_KEY_ID } = process.env;

    // Act: the client is built from process.env, so one without the key is a new client.
    delete process.env.AWS_ACCESS_KEY_ID;
    const missing = await bundled.bucketNames().catch((error: unknown) => error);
    process.env.AWS_ACCESS_KEY_ID = AWS_ACCESS_KEY_ID;

    // Assess: refused at once by the bundles' provider (infra/bundle-shims/aws-credentials.mjs), not after
    // the default chain's shared-file and metadata-service links.
    expect(listed).toEqual([aws.bucket]);
    expect(missing).toBeInstanceOf(Error);
    expect((missing as Error).message).toMatch(
      /no AWS credentials in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/,
    );
  }, 10_000);
});
