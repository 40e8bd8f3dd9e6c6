/**
 * The entry test/infra/bundle-runtime.test.ts bundles with the functions' options: the adapters whose
 * bundled form differs from what the other tests import (aliased packages and builtins), each making a
 * real request.
 */

import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { REST } from '@discordjs/rest';
import { createDynamoDocumentClient, createS3Client } from '../../shared/adapters/aws-clients';
import { createDiscordChannelSource } from '../../shared/adapters/discord';
import { createGeminiAnalyzer } from '../../shared/adapters/gemini';
import { createGoogleAuth, createSheetStore } from '../../shared/adapters/sheets';
import { weightedLength } from '../../shared/domain/tweet-length';
import type { QuotaUse } from '../../shared/ports';

export interface Endpoints {
  discordUrl: string;
  discordToken: string;
  channelId: string;
  geminiUrl: string;
  geminiKey: string;
  sheetsUrl: string;
  sheetsToken: string;
  spreadsheetId: string;
}

/** X's weight of each text, by twitter-text as bundled (its polyfills and punycode are aliased). */
export const weightsOf = (texts: readonly string[]) => texts.map(weightedLength);

/** The buckets S3 lists, through the client the functions build from `process.env` (credentials included). */
export async function bucketNames() {
  const answer = await createS3Client().send(new ListBucketsCommand({}));
  return answer.Buckets?.map((b) => b.Name);
}

/**
 * A file sent to Discord without its contentType, through REST as bundled: its type would be sniffed by
 * magic-bytes.js, which the bundles leave out (infra/bundle-shims/no-file-type-sniffing.mjs).
 */
export async function uploadWithoutType(discordUrl: string, channelId: string) {
  const rest = new REST({ api: `${discordUrl}/api`, version: '10', retries: 0, makeRequest: fetch }).setToken(
    't',
  );
  return rest.post(`/channels/${channelId}/messages`, {
    files: [{ name: 'a.png', data: Buffer.from([0x89, 0x50, 0x4e, 0x47]) }],
  });
}

export async function exercise(endpoints: Endpoints) {
  const buckets = await bucketNames();
  const tables = await createDynamoDocumentClient().send(new ListTablesCommand({}));
  // REST's events go through the bundles' emitter (infra/bundle-shims/async-event-emitter.mjs): the quota
  // listener hears each answer; its error codes come from discord-api-types' REST part.
  const discordQuotas: QuotaUse[] = [];
  const channel = createDiscordChannelSource({
    token: endpoints.discordToken,
    baseUrl: `${endpoints.discordUrl}/api`,
    timeoutMs: 5_000,
    onQuota: (reading) => discordQuotas.push(reading),
  });
  const page = await channel.fetchPage({ channelId: endpoints.channelId, after: '0', limit: 100 });
  const unknownChannel = await channel
    .fetchPage({ channelId: '1', after: '0', limit: 100 })
    .catch((error: unknown) => error as Error);
  const analyses = await createGeminiAnalyzer({
    apiKey: endpoints.geminiKey,
    baseUrl: endpoints.geminiUrl,
    timeoutMs: 5_000,
  }).analyzePosts(
    [
      {
        messageId: '1',
        content: 'Launching our agent today',
        postLink: 'https://x.com/a/status/1',
        author: '@a',
      },
    ],
    { model: 'gemini-2.5-flash', topic: 'AI', language: 'English', temperature: 0.2 },
  );
  const headers = await createSheetStore({
    spreadsheetId: endpoints.spreadsheetId,
    auth: createGoogleAuth(endpoints.sheetsToken),
    rootUrl: `${endpoints.sheetsUrl}/`,
    timeoutMs: 5_000,
  }).ensureTab('Posts', ['message_id', 'summary']);
  return {
    buckets,
    tables: tables.TableNames,
    messages: page.length,
    discordQuotas,
    unknownChannel: unknownChannel instanceof Error ? [unknownChannel.name, unknownChannel.message] : [],
    analysed: analyses.map((a) => a.messageId),
    headers,
  };
}
