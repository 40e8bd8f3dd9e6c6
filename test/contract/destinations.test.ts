/**
 * Each digest destination's real client against its sandbox on loopback:
 * Discord's Execute Webhook (fetch), a signed generic webhook (fetch), Amazon
 * SES v2 (@aws-sdk/client-sesv2) and files (the ObjectStore port, a local
 * folder): request shapes, limits, auth failures, 429 with the receiver's
 * wait, 5xx, lost answers, repeats.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DiscordWebhookSandbox,
  startDiscordWebhookSandbox,
} from '../../infra/local/sandbox/discord-webhook-server';
import { type SesSandbox, startSesSandbox } from '../../infra/local/sandbox/ses-server';
import { startWebhookReceiver, type WebhookReceiver } from '../../infra/local/sandbox/webhook-receiver';
import { createDiscordWebhookDestination } from '../../shared/adapters/destinations/discord-webhook';
import { createLocalFileDestination, createS3FileDestination } from '../../shared/adapters/destinations/file';
import { createSesEmailDestination, createSesV2Client } from '../../shared/adapters/destinations/ses-email';
import { createWebhookDestination } from '../../shared/adapters/destinations/webhook';
import { renderDiscordMessages, renderMarkdownFile } from '../../shared/domain/digest-render';
import {
  AuthError,
  ConfigError,
  PermanentError,
  RateLimitedError,
  TransientError,
  UnknownOutcomeError,
} from '../../shared/errors';
import type { DigestMessage } from '../../shared/ports';
import { FakeObjectStore } from '../support/fakes';

const fast = { baseDelayMs: 5, maxWaitMs: 2_000 };
const HOOK_ID = '1300000000000000001';
const HOOK_TOKEN = 'hook-token_abc';
const OTHER_HOOK = '1300000000000000002';
const RAW_HOOK = '1300000000000000003';

let runCounter = 0;
const digest = (overrides: Partial<DigestMessage> = {}): DigestMessage => {
  runCounter += 1;
  return {
    pipelineId: 'demo',
    runId: `2026-11-24T08-00-${runCounter}`,
    title: 'AI digest — 24 Nov',
    parts: ['@everyone First item https://x.com/a_b/status/1', 'Second item <b>bold</b> & more'],
    links: ['https://x.com/a_b/status/1'],
    createdAt: '2026-11-24T08:05:00.000Z',
    ...overrides,
  };
};
const longDigest = (parts: number) =>
  digest({
    parts: [
      '@everyone, today:',
      ...Array.from({ length: parts }, (_, i) => `Item ${i}: ${'lorem ipsum '.repeat(25)}`.trim()),
    ],
  });

let discord: DiscordWebhookSandbox;
let receiver: WebhookReceiver;
let ses: SesSandbox;

beforeAll(async () => {
  discord = await startDiscordWebhookSandbox({
    webhooks: { [HOOK_ID]: HOOK_TOKEN, [OTHER_HOOK]: 'other-token', [RAW_HOOK]: 'raw-token' },
    bucketLimit: 5,
    bucketWindowMs: 1000,
  });
  receiver = await startWebhookReceiver({ secret: 'whsec_test', limit: 1000, windowMs: 1000 });
  ses = await startSesSandbox({
    accessKeyIds: ['AKIDSANDBOX'],
    verifiedIdentities: ['digest@example.com', 'team.example.org'],
    maxSendRate: 1,
    max24HourSend: 200,
  });
});
afterAll(async () => {
  await Promise.all([discord, receiver, ses].map((s) => s?.close()));
});

describe('discord webhook', () => {
  const destination = (options: { token?: string; id?: string; retry?: object; format?: 'embeds' } = {}) =>
    createDiscordWebhookDestination({
      name: 'team-channel',
      webhookId: options.id ?? HOOK_ID,
      token: options.token ?? HOOK_TOKEN,
      baseUrl: `${discord.url}/api`,
      timeoutMs: 1_000,
      retry: { ...fast, ...options.retry },
      ...(options.format ? { format: options.format } : {}),
    });

  it('posts a long digest as several messages in order, records each message id, pings no one', async () => {
    // Prepare
    const message = longDigest(12);
    const expected = renderDiscordMessages(message);
    const before = discord.messages(HOOK_ID).length;

    // Act
    const receipt = await destination().deliver(message, 'key-1');

    // Assess
    const posted = discord.messages(HOOK_ID).slice(before);
    expect(expected.length).toBeGreaterThan(1);
    expect(posted.map((m) => m.content)).toEqual(expected.map((p) => p.content));
    expect(receipt.ids).toEqual(posted.map((m) => m.id));
    expect(receipt.id).toBe(posted[0]?.id);
    expect(posted.every((m) => !m.mentionEveryone)).toBe(true);
    expect(posted[0]?.content).toContain('@everyone');
  });

  it('posts embeds within the limits the sandbox enforces', async () => {
    // Prepare
    const before = discord.messages(HOOK_ID).length;

    // Act
    const receipt = await destination({ format: 'embeds' }).deliver(longDigest(40), 'key-embeds');

    // Assess
    const posted = discord.messages(HOOK_ID).slice(before);
    expect(receipt.ids).toHaveLength(posted.length);
    expect(posted[0]?.embeds[0]?.title).toBe('AI digest — 24 Nov');
    expect(posted.flatMap((m) => m.embeds).length).toBeGreaterThan(1);
  });

  it('the sandbox refuses what Discord refuses: 2001 characters, 11 embeds, nothing at all', async () => {
    // Prepare
    const url = `${discord.url}/api/v10/webhooks/${RAW_HOOK}/raw-token?wait=true`;
    const post = (body: unknown) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });

    // Act
    const tooLong = await post({ content: 'x'.repeat(2001) });
    const tooMany = await post({ embeds: Array.from({ length: 11 }, () => ({ description: 'd' })) });
    const tooBig = await post({
      embeds: [{ description: 'd'.repeat(4000) }, { description: 'd'.repeat(2001) }],
    });
    const empty = await post({ content: '   ' });

    // Assess
    expect(tooLong.status).toBe(400);
    expect(await tooLong.json()).toMatchObject({
      code: 50035,
      errors: { content: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH' }] } },
    });
    expect(tooMany.status).toBe(400);
    expect(tooBig.status).toBe(400);
    expect(await empty.json()).toMatchObject({ code: 50006 });
  });

  it('a wrong token is an AuthError (50027); an unknown webhook is a ConfigError (10015)', async () => {
    // Act
    const badToken = await destination({ token: 'wrong' })
      .deliver(digest(), 'k')
      .catch((e: unknown) => e);
    const unknown = await destination({ id: '1399999999999999999' })
      .deliver(digest(), 'k')
      .catch((e: unknown) => e);

    // Assess
    expect(badToken).toBeInstanceOf(AuthError);
    expect(unknown).toBeInstanceOf(ConfigError);
    expect((unknown as Error).message).toMatch(/10015/);
  });

  it("waits out the webhook bucket's 429 (retry_after), and hands a longer wait back as RateLimitedError", async () => {
    // Prepare
    discord.bucket.exhaust(OTHER_HOOK);
    const started = Date.now();

    // Act
    const receipt = await createDiscordWebhookDestination({
      name: 'other',
      webhookId: OTHER_HOOK,
      token: 'other-token',
      baseUrl: `${discord.url}/api`,
      retry: fast,
    }).deliver(digest(), 'k-429');
    discord.faults.add({ kind: 'rate-limit', path: `/webhooks/${HOOK_ID}`, retryAfterSeconds: 30 });
    const error = await destination()
      .deliver(digest(), 'k-429b')
      .catch((e: unknown) => e);

    // Assess
    expect(receipt.id).toMatch(/^\d+$/);
    expect(discord.faults.count('POST', OTHER_HOOK)).toBe(2);
    expect(Date.now() - started).toBeLessThanOrEqual(2_000);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAfterMs).toBe(30_000);
  });

  it('retries a 500, and reports a lasting one as TransientError; a retry resumes after the confirmed messages', async () => {
    // Prepare
    const message = longDigest(12);
    const count = renderDiscordMessages(message).length;
    const confirmed: string[] = [];
    const progress = {
      get confirmed() {
        return [...confirmed];
      },
      confirm: async (index: number, id: string) => {
        confirmed[index] = id;
      },
    };
    const before = discord.messages(HOOK_ID).length;
    discord.faults.add({ kind: 'server-error', path: `/webhooks/${HOOK_ID}`, nth: 1 });
    discord.faults.add({ kind: 'server-error', path: `/webhooks/${HOOK_ID}`, nth: 3, times: 10 });

    // Act
    const failed = await destination()
      .deliver(message, 'k-500', progress)
      .catch((e: unknown) => e);
    discord.faults.clear();
    const receipt = await destination().deliver(message, 'k-500', progress);

    // Assess
    expect(failed).toBeInstanceOf(TransientError);
    const posted = discord.messages(HOOK_ID).slice(before);
    expect(posted).toHaveLength(count);
    expect(receipt.ids).toEqual(posted.map((m) => m.id));
  });

  it('reads the bucket headers: waits for the reset before the next message instead of taking a 429', async () => {
    // Prepare
    const small = await startDiscordWebhookSandbox({
      webhooks: { [HOOK_ID]: HOOK_TOKEN },
      bucketLimit: 2,
      bucketWindowMs: 500,
    });
    const message = longDigest(30);
    const count = renderDiscordMessages(message).length;

    // Act
    const receipt = await createDiscordWebhookDestination({
      name: 'small',
      webhookId: HOOK_ID,
      token: HOOK_TOKEN,
      baseUrl: `${small.url}/api`,
      retry: fast,
    }).deliver(message, 'k-bucket');
    await small.close();

    // Assess
    expect(count).toBeGreaterThan(2);
    expect(receipt.ids).toHaveLength(count);
    expect(small.faults.calls).toHaveLength(count);
  });

  it('a lost answer is an UnknownOutcomeError: the message was posted, nothing was sent twice', async () => {
    // Prepare
    const before = discord.messages(HOOK_ID).length;
    discord.faults.add({ kind: 'drop-after-effect', path: `/webhooks/${HOOK_ID}` });

    // Act
    const lost = await destination()
      .deliver(digest(), 'k-lost')
      .catch((e: unknown) => e);

    // Assess
    expect(lost).toBeInstanceOf(UnknownOutcomeError);
    expect(discord.messages(HOOK_ID).length - before).toBe(1);
  });
});

describe('generic webhook', () => {
  const destination = (
    options: { secret?: string; now?: () => number; retry?: object; timeoutMs?: number } = {},
  ) =>
    createWebhookDestination({
      name: 'ops-hook',
      url: receiver.endpoint,
      secret: options.secret ?? 'whsec_test',
      timeoutMs: options.timeoutMs ?? 1_000,
      retry: { ...fast, ...options.retry },
      ...(options.now ? { now: options.now } : {}),
    });

  it('delivers a signed JSON digest once; the same key again is answered without a second delivery', async () => {
    // Prepare
    const message = digest();
    const before = receiver.deliveries().length;

    // Act
    const first = await destination().deliver(message, 'run-1:webhook');
    const again = await destination().deliver(message, 'run-1:webhook');

    // Assess
    const delivered = receiver.deliveries().slice(before);
    expect(delivered).toHaveLength(1);
    expect(delivered[0]).toMatchObject({
      idempotencyKey: 'run-1:webhook',
      body: { type: 'digest.published', runId: message.runId, parts: message.parts, links: message.links },
    });
    expect(again.id).toBe(first.id);
    expect(again.detail).toMatch(/replayed/);
  });

  it('a wrong secret is refused 401 (AuthError); a stale timestamp 400 (PermanentError)', async () => {
    // Act
    const badSecret = await destination({ secret: 'wrong' })
      .deliver(digest(), 'k-secret')
      .catch((e: unknown) => e);
    const error = await destination({ now: () => Date.now() - 10 * 60_000 })
      .deliver(digest(), 'k-stale')
      .catch((e: unknown) => e);

    // Assess
    expect(badSecret).toBeInstanceOf(AuthError);
    expect(error).toBeInstanceOf(PermanentError);
    expect(error).not.toBeInstanceOf(AuthError);
    expect(receiver.refusals().map((r) => r.reason)).toEqual(
      expect.arrayContaining(['bad-signature', 'stale-timestamp']),
    );
  });

  it('the same key with a different body is refused (422), never delivered', async () => {
    // Prepare
    await destination().deliver(digest({ title: 'one' }), 'k-reused');
    const before = receiver.deliveries().length;

    // Act
    const reused = await destination()
      .deliver(digest({ title: 'two' }), 'k-reused')
      .catch((e: unknown) => e);

    // Assess
    expect(reused).toBeInstanceOf(PermanentError);
    expect(receiver.deliveries().length).toBe(before);
  });

  it("waits out a 429's Retry-After, and hands a longer one back as RateLimitedError", async () => {
    // Prepare
    receiver.quota.exhaust();
    const started = Date.now();

    // Act
    const receipt = await destination().deliver(digest(), 'k-429');
    receiver.faults.add({ kind: 'rate-limit', retryAfterSeconds: 120 });
    const refused = await destination()
      .deliver(digest(), 'k-429b')
      .catch((e: unknown) => e);

    // Assess
    expect(receipt.id).toMatch(/^dlv_/);
    expect(receiver.refusals().filter((r) => r.reason === 'rate-limited').length).toBeGreaterThanOrEqual(2);
    expect(Date.now() - started).toBeLessThanOrEqual(2_500);
    expect(refused).toBeInstanceOf(RateLimitedError);
    expect((refused as RateLimitedError).retryAfterMs).toBe(120_000);
  });

  it('retries a 500; a lost answer is retried with the same key and delivered once', async () => {
    // Prepare
    const before = receiver.deliveries().length;
    receiver.faults.add({ kind: 'server-error' });

    // Act
    const afterError = await destination().deliver(digest(), 'k-500');
    receiver.faults.add({ kind: 'drop-after-effect' });
    const afterLoss = await destination().deliver(digest(), 'k-lost');

    // Assess
    expect(afterError.detail).toBe('delivered');
    expect(afterLoss.detail).toMatch(/replayed/);
    expect(receiver.deliveries().length - before).toBe(2);
  });

  it('no answer at all, every time, is an UnknownOutcomeError', async () => {
    // Prepare
    receiver.faults.add({ kind: 'timeout', times: 5 });

    // Act
    const hung = await destination({ timeoutMs: 200, retry: { maxAttempts: 2 } })
      .deliver(digest(), 'k-hung')
      .catch((e: unknown) => e);

    // Assess
    expect(hung).toBeInstanceOf(UnknownOutcomeError);
    receiver.faults.clear();
  });
});

describe('email (SES v2)', () => {
  const client = (accessKeyId = 'AKIDSANDBOX') =>
    createSesV2Client({
      region: 'eu-west-1',
      endpoint: ses.url,
      credentials: { accessKeyId, secretAccessKey: 'sandbox-secret' },
      timeoutMs: 1_000,
    });
  const destination = (options: { from?: string; accessKeyId?: string; retry?: object } = {}) =>
    createSesEmailDestination({
      name: 'team-mail',
      client: client(options.accessKeyId),
      from: options.from ?? 'Digest <digest@example.com>',
      to: ['alice@team.example.org'],
      retry: { ...fast, ...options.retry },
    });

  it('sends Simple content with an escaped HTML body and a text body, and returns the MessageId', async () => {
    // Prepare
    const message = digest({ title: 'Digest <script>' });

    // Act
    const receipt = await destination().deliver(message, 'run:1/email');

    // Assess
    const sent = ses.sent().at(-1);
    expect(receipt.id).toBe(sent?.messageId);
    expect(sent).toMatchObject({
      from: 'Digest <digest@example.com>',
      to: ['alice@team.example.org'],
      region: 'eu-west-1',
    });
    expect(sent?.subject).toBe('Digest <script>');
    expect(sent?.html).toContain('<h1>Digest &lt;script&gt;</h1>');
    expect(sent?.html).toContain('&lt;b&gt;bold&lt;/b&gt; &amp; more');
    expect(sent?.text).toContain('Second item <b>bold</b> & more');
    expect(sent?.tags).toContainEqual({ Name: 'idempotency-key', Value: 'run_1_email' });
  });

  it('an unverified sender is MessageRejected, permanent; an unknown key is an AuthError', async () => {
    // Act
    const rejected = await destination({ from: 'someone@elsewhere.test' })
      .deliver(digest(), 'k')
      .catch((e) => e);
    const unknownKey = await destination({ accessKeyId: 'AKIDUNKNOWN' })
      .deliver(digest(), 'k')
      .catch((e: unknown) => e);

    // Assess
    expect(rejected).toBeInstanceOf(PermanentError);
    expect((rejected as Error).message).toMatch(/MessageRejected: Email address is not verified/);
    expect(((rejected as Error).cause as { name?: string }).name).toBe('MessageRejected');
    expect(unknownKey).toBeInstanceOf(AuthError);
  });

  it('a suspended account is AccountSuspendedException, permanent', async () => {
    // Prepare
    ses.suspend();

    // Act
    const refused = await destination()
      .deliver(digest(), 'k')
      .catch((e) => e);
    ses.suspend(false);

    // Assess
    expect(refused).toBeInstanceOf(PermanentError);
    expect(
      ((refused as Error).cause as { name?: string; $metadata?: { httpStatusCode?: number } }).name,
    ).toBe('AccountSuspendedException');
  });

  it('the sending rate (TooManyRequestsException, 429) is waited out; the daily quota ends the step with its reset', async () => {
    // Prepare
    const before = ses.sent().length;
    const calls = ses.faults.calls.length;
    ses.rate.exhaust();

    // Act
    const receipt = await destination().deliver(digest(), 'k-rate');
    ses.daily.exhaust();
    const daily = await destination()
      .deliver(digest(), 'k-daily')
      .catch((e: unknown) => e);

    // Assess
    expect(receipt.id).toBeDefined();
    expect(ses.sent().length - before).toBe(1);
    // One refused with 429, one sent after the wait, one refused for the day and not retried.
    expect(ses.faults.calls.length - calls).toBe(3);
    expect(daily).toBeInstanceOf(RateLimitedError);
    expect((daily as Error).message).toMatch(/daily sending quota exhausted; it resets at/);
    expect((daily as RateLimitedError).retryAfterMs).toBeGreaterThan(23 * 3_600_000);
  });

  it('a 500 is retried; a lost answer is an UnknownOutcomeError and the SDK does not send it again', async () => {
    // Prepare
    const fresh = await startSesSandbox({
      accessKeyIds: ['AKIDSANDBOX'],
      verifiedIdentities: ['example.com', 'team.example.org'],
      maxSendRate: 100,
    });
    const to = (url: string) =>
      createSesEmailDestination({
        name: 'fresh',
        client: createSesV2Client({
          region: 'eu-west-1',
          endpoint: url,
          credentials: { accessKeyId: 'AKIDSANDBOX', secretAccessKey: 's' },
          timeoutMs: 1_000,
        }),
        from: 'digest@example.com',
        to: ['bob@team.example.org'],
        retry: fast,
      });
    fresh.faults.add({ kind: 'server-error', path: '/v2/email/outbound-emails' });

    // Act
    const afterError = await to(fresh.url).deliver(digest(), 'k-500');
    fresh.faults.add({ kind: 'drop-after-effect', path: '/v2/email/outbound-emails' });
    const lost = await to(fresh.url)
      .deliver(digest(), 'k-lost')
      .catch((e: unknown) => e);
    fresh.faults.add({ kind: 'server-error', path: '/v2/email/outbound-emails', times: 10 });
    const down = await to(fresh.url)
      .deliver(digest(), 'k-down')
      .catch((e: unknown) => e);
    await fresh.close();

    // Assess
    expect(afterError.id).toBeDefined();
    expect(lost).toBeInstanceOf(UnknownOutcomeError);
    expect(down).toBeInstanceOf(TransientError);
    expect(down).not.toBeInstanceOf(UnknownOutcomeError);
    expect(fresh.sent()).toHaveLength(2);
    expect(fresh.faults.count('POST', '/v2/email/outbound-emails')).toBe(2 + 1 + 3);
  });
});

describe('file', () => {
  let directory: string;
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'digest-files-'));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('to S3: written once with putIfAbsent; a retry finds it; a different digest is never written over it', async () => {
    // Prepare
    const store = new FakeObjectStore();
    const destination = createS3FileDestination({ name: 'archive', store });
    const message = digest();

    // Act
    const first = await destination.deliver(message, 'k');
    const again = await destination.deliver(message, 'k');
    const changed = await destination.deliver({ ...message, title: 'changed' }, 'k').catch((e: unknown) => e);

    // Assess
    expect(first).toMatchObject({ id: `digests/demo/${message.runId}.md`, detail: 'written' });
    expect(again.detail).toBe('already there');
    expect(changed).toBeInstanceOf(PermanentError);
    expect(store.objects.get(first.id ?? '')).toBe(renderMarkdownFile(message));
  });

  it('to a folder: whole file, no temp file left, no overwrite, no path outside the folder', async () => {
    // Prepare
    const destination = createLocalFileDestination({ name: 'local', directory });
    const message = digest();

    // Act
    const first = await destination.deliver(message, 'k');
    const again = await destination.deliver(message, 'k');
    const refused = (m: DigestMessage) => destination.deliver(m, 'k').catch((e: unknown) => e);
    const changed = await refused({ ...message, parts: ['other'] });
    const dotDot = await refused({ ...message, pipelineId: '..' });
    const nested = await refused({ ...message, runId: '../../etc/passwd' });

    // Assess
    expect(first.id).toBe(join(directory, 'demo', `${message.runId}.md`));
    expect(await readFile(first.id ?? '', 'utf8')).toBe(renderMarkdownFile(message));
    expect(again.detail).toBe('already there');
    expect(changed).toBeInstanceOf(PermanentError);
    expect(dotDot).toBeInstanceOf(PermanentError);
    expect(nested).toBeInstanceOf(PermanentError);
    expect((await readdir(join(directory, 'demo'))).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
