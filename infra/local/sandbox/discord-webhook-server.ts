import { type SandboxRequest, type SandboxResponse, type SandboxServer, startSandboxServer } from './http';
import { type Clock, Quota } from './quota';

/** A message as the channel holds it after an Execute Webhook call. */
export interface WebhookMessage {
  id: string;
  webhookId: string;
  content: string;
  embeds: { title?: string; description?: string }[];
  /** True when the message would have pinged @everyone/@here (allowed_mentions missing or allowing it). */
  mentionEveryone: boolean;
  timestamp: string;
}

export interface DiscordWebhookSandbox extends SandboxServer {
  messages(webhookId?: string): WebhookMessage[];
  /** The per-webhook bucket: `exhaust(webhookId)` makes the next call a 429. */
  bucket: Quota;
  /** Delete a webhook: its URL answers 404 Unknown Webhook from now on. */
  deleteWebhook(webhookId: string): void;
}

export interface DiscordWebhookSandboxOptions {
  /** Webhook id → token, as in https://discord.com/api/webhooks/{id}/{token}. */
  webhooks: Record<string, string>;
  channelId?: string;
  /**
   * Requests per window per webhook. Discord says never to hard-code limits and
   * to read the headers (discord-api-docs developers/topics/rate-limits.mdx);
   * 5 per 2 s is what webhook buckets commonly report: an estimate.
   */
  bucketLimit?: number;
  bucketWindowMs?: number;
  now?: Clock;
  port?: number;
}

type FieldErrors = Record<string, unknown>;

/** discord-api-docs developers/reference.mdx (Error Messages): 50035 Invalid Form Body, errors nested by field path. */
const invalidForm = (errors: FieldErrors): SandboxResponse => ({
  status: 400,
  body: { code: 50035, errors, message: 'Invalid Form Body' },
});
const maxLength = (limit: number) => ({
  _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: `Must be ${limit} or fewer in length.` }],
});

/** message.mdx (Embed Limits): "Leading and trailing whitespace characters are not included (they are trimmed automatically)". */
const measured = (text: unknown) => (typeof text === 'string' ? [...text.trim()].length : 0);

/**
 * Discord's Execute Webhook (REST v10): `POST /api/v10/webhooks/{id}/{token}`,
 * no Authorization header (the token in the path is the credential), JSON body
 * with `content` or `embeds`, `?wait=true` for the created message.
 */
export async function startDiscordWebhookSandbox(
  options: DiscordWebhookSandboxOptions,
): Promise<DiscordWebhookSandbox> {
  const webhooks = new Map(Object.entries(options.webhooks));
  const channelId = options.channelId ?? '1187654321098765432';
  const messages: WebhookMessage[] = [];
  const now = options.now ?? Date.now;
  const windowMs = options.bucketWindowMs ?? 2000;
  const bucket = new Quota({ limit: options.bucketLimit ?? 5, windowMs, now });
  // Snowflakes: milliseconds since the Discord epoch (2015-01-01) shifted left 22 bits, plus an increment.
  let increment = 0n;
  const snowflake = () => {
    increment = (increment + 1n) & 0xfffn;
    return String(((BigInt(now()) - 1420070400000n) << 22n) | increment);
  };

  /** rate-limits.mdx (Header Format): the route bucket's headers, on every answer. */
  const rateHeaders = (webhookId: string, limit: number, remaining: number, resetAt: number) => ({
    'x-ratelimit-limit': String(limit),
    'x-ratelimit-remaining': String(remaining),
    'x-ratelimit-reset': (resetAt / 1000).toFixed(3),
    'x-ratelimit-reset-after': (Math.max(0, resetAt - now()) / 1000).toFixed(3),
    'x-ratelimit-bucket': `webhook-${webhookId.slice(-6)}`,
  });

  /** rate-limits.mdx (Exceeding A Rate Limit): 429, `Retry-After` header and a JSON body with `retry_after` in seconds. */
  const tooMany = (seconds: number, headers: Record<string, string>): SandboxResponse => ({
    status: 429,
    headers: {
      ...headers,
      'x-ratelimit-remaining': '0',
      'retry-after': String(Math.ceil(seconds)),
      'x-ratelimit-scope': 'shared',
    },
    body: { message: 'You are being rate limited.', retry_after: seconds, global: false },
  });

  function validate(body: Record<string, unknown>): SandboxResponse | undefined {
    const content = body.content;
    const embeds = body.embeds;
    if (content !== undefined && typeof content !== 'string')
      return invalidForm({
        content: { _errors: [{ code: 'STRING_TYPE_CONVERT', message: 'Could not interpret as string.' }] },
      });
    if (embeds !== undefined && !Array.isArray(embeds))
      return invalidForm({
        embeds: {
          _errors: [{ code: 'LIST_TYPE_CONVERT', message: 'Only iterables may be used in a ListType' }],
        },
      });
    const list = (embeds ?? []) as Record<string, unknown>[];
    // opcodes-and-status-codes.mdx: 50006 Cannot send an empty message.
    if (!(typeof content === 'string' && content.trim()) && list.length === 0)
      return { status: 400, body: { message: 'Cannot send an empty message', code: 50006 } };
    // webhook.mdx: content up to 2000 characters; up to 10 embeds.
    if (typeof content === 'string' && [...content].length > 2000)
      return invalidForm({ content: maxLength(2000) });
    if (list.length > 10) return invalidForm({ embeds: maxLength(10) });
    let total = 0;
    for (const [i, embed] of list.entries()) {
      if (measured(embed.title) > 256) return invalidForm({ embeds: { [i]: { title: maxLength(256) } } });
      if (measured(embed.description) > 4096)
        return invalidForm({ embeds: { [i]: { description: maxLength(4096) } } });
      total += measured(embed.title) + measured(embed.description);
    }
    // message.mdx: title, description, fields, footer and author of all embeds ≤ 6000 characters together.
    if (total > 6000)
      return invalidForm({
        embeds: {
          _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: 'Embed size exceeds maximum size of 6000' }],
        },
      });
    return undefined;
  }

  function execute(request: SandboxRequest, webhookId: string): SandboxResponse {
    const verdict = bucket.take(webhookId);
    const headers = rateHeaders(webhookId, verdict.limit, verdict.remaining, verdict.resetAt);
    if (!verdict.allowed) return tooMany(Math.max(0.001, (verdict.resetAt - now()) / 1000), headers);
    const contentType = String(request.headers['content-type'] ?? '');
    if (
      !contentType.startsWith('application/json') ||
      typeof request.body !== 'object' ||
      request.body === null
    )
      return { status: 400, headers, body: { message: 'Cannot send an empty message', code: 50006 } };
    const body = request.body as Record<string, unknown>;
    const invalid = validate(body);
    if (invalid) return { ...invalid, headers };
    const content = typeof body.content === 'string' ? body.content : '';
    // message.mdx (Allowed Mentions): without `allowed_mentions` mentions are parsed from the content.
    const parse = (body.allowed_mentions as { parse?: string[] } | undefined)?.parse;
    const mentionEveryone =
      /@(everyone|here)\b/.test(content) && (parse === undefined || parse.includes('everyone'));
    const message: WebhookMessage = {
      id: snowflake(),
      webhookId,
      content,
      embeds: ((body.embeds ?? []) as { title?: string; description?: string }[]).map((e) => ({
        ...(e.title !== undefined ? { title: e.title } : {}),
        ...(e.description !== undefined ? { description: e.description } : {}),
      })),
      mentionEveryone,
      timestamp: new Date(now()).toISOString(),
    };
    messages.push(message);
    // webhook.mdx (Execute Webhook): `wait=true` returns the message, otherwise 204 No Content.
    if (request.query.get('wait') !== 'true') return { status: 204, headers };
    return {
      status: 200,
      headers,
      body: {
        id: message.id,
        type: 0,
        channel_id: channelId,
        webhook_id: webhookId,
        author: { id: webhookId, username: 'Digest', avatar: null, bot: true, discriminator: '0000' },
        content,
        embeds: message.embeds.map((e) => ({ type: 'rich', ...e })),
        mentions: [],
        mention_roles: [],
        mention_everyone: mentionEveryone,
        attachments: [],
        tts: false,
        pinned: false,
        flags: 0,
        timestamp: message.timestamp,
        edited_timestamp: null,
      },
    };
  }

  const server = await startSandboxServer({
    name: 'discord-webhook',
    ...(options.port ? { port: options.port } : {}),
    // Estimate: a webhook post answers in about 150-300 ms from Europe/US.
    realisticLatency: () => 150 + Math.floor(Math.random() * 150),
    faultResponse: (fault, request) =>
      fault.kind === 'rate-limit'
        ? tooMany(
            fault.retryAfterSeconds,
            rateHeaders(request.path.split('/')[4] ?? '', 5, 0, now() + fault.retryAfterSeconds * 1000),
          )
        : { status: 500, body: { message: '500: Internal Server Error', code: 0 } },
    route: (request) => {
      const match = request.path.match(/^\/api\/v10\/webhooks\/(\d+)\/([^/]+)$/);
      if (!match) return { status: 404, body: { message: '404: Not Found', code: 0 } };
      const [, webhookId = '', token = ''] = match;
      if (request.method !== 'POST')
        return { status: 405, body: { message: '405: Method Not Allowed', code: 0 } };
      const expected = webhooks.get(webhookId);
      // opcodes-and-status-codes.mdx: 10015 Unknown Webhook, 50027 Invalid Webhook Token.
      if (expected === undefined) return { status: 404, body: { message: 'Unknown Webhook', code: 10015 } };
      if (token !== expected) return { status: 401, body: { message: 'Invalid Webhook Token', code: 50027 } };
      return execute(request, webhookId);
    },
  });
  return {
    ...server,
    bucket,
    messages: (webhookId) =>
      messages.filter((m) => webhookId === undefined || m.webhookId === webhookId).map((m) => ({ ...m })),
    deleteWebhook: (webhookId) => {
      webhooks.delete(webhookId);
    },
  };
}
