import {
  type DiscordWebhookPayload,
  renderDiscordEmbeds,
  renderDiscordMessages,
} from '../../domain/digest-render';
import { AuthError, ConfigError, errorForStatus, InvalidResponseError, RateLimitedError } from '../../errors';
import type { DeliveryReceipt, Destination } from '../../ports';
import { defaultSleep, type RetryOptions, retryTransient } from '../retry';
import { postJson, retryAfterMs } from './http';

export interface DiscordWebhookOptions {
  name: string;
  webhookId: string;
  token: string;
  /** e.g. https://discord.com/api (the default); the adapter appends /v10/webhooks/{id}/{token}. */
  baseUrl?: string;
  /** `content`: plain messages (≤ 2000 characters each); `embeds`: rich embeds. */
  format?: 'content' | 'embeds';
  /** Overrides the webhook's name in the channel. */
  username?: string;
  timeoutMs?: number;
  retry?: Partial<RetryOptions>;
}

/** `https://discord.com/api/webhooks/{id}/{token}` as Discord shows it → id and token. */
export function parseDiscordWebhookUrl(url: string): { webhookId: string; token: string } {
  const match = url.match(/\/webhooks\/(\d+)\/([^/?#]+)/);
  if (!match?.[1] || !match[2])
    throw new ConfigError('not a Discord webhook URL: expected …/webhooks/{id}/{token}');
  return { webhookId: match[1], token: match[2] };
}

interface DiscordErrorBody {
  message?: string;
  code?: number;
  retry_after?: number;
  errors?: unknown;
}

const parse = (text: string): unknown => {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
};

/**
 * A Discord channel through a webhook, over plain fetch. Why not
 * @discordjs/rest (used for reading the channel): its queue retries and waits
 * on its own, and here every send must be classified precisely — a lost answer
 * is an unknown outcome (Execute Webhook takes no nonce, so a blind retry could
 * post twice), a 404 Unknown Webhook means "never use this URL again"
 * (discord-api-docs developers/topics/rate-limits.mdx) — and the token sits in
 * the path, so the client's auth handling has nothing to do.
 */
export function createDiscordWebhookDestination(options: DiscordWebhookOptions): Destination {
  const base = (options.baseUrl ?? 'https://discord.com/api').replace(/\/$/, '');
  // webhook.mdx (Execute Webhook): `wait=true` returns the created message, whose id we record.
  const url = `${base}/v10/webhooks/${encodeURIComponent(options.webhookId)}/${encodeURIComponent(options.token)}?wait=true`;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const retry: RetryOptions = { maxAttempts: 4, baseDelayMs: 500, maxWaitMs: 10_000, ...options.retry };
  const sleep = retry.sleep ?? defaultSleep;
  const render = options.format === 'embeds' ? renderDiscordEmbeds : renderDiscordMessages;
  const where = `discord webhook ${options.name}`;

  // The token is a credential inside the URL: no error message below ever includes the URL.
  async function post(payload: DiscordWebhookPayload): Promise<{ id: string; waitMs: number }> {
    const body = JSON.stringify(options.username ? { ...payload, username: options.username } : payload);
    const answer = await postJson(where, url, body, {}, timeoutMs);
    const json = parse(answer.text) as DiscordErrorBody | undefined;
    if (answer.status >= 200 && answer.status < 300) {
      const id = (json as { id?: unknown } | undefined)?.id;
      if (typeof id !== 'string')
        throw new InvalidResponseError(`${where} answered ${answer.status} without a message id`);
      // rate-limits.mdx (Header Format): remaining 0 means the bucket is empty until reset-after seconds.
      const remaining = answer.headers.get('x-ratelimit-remaining');
      const resetAfter = Number(answer.headers.get('x-ratelimit-reset-after'));
      const waitMs = remaining === '0' && resetAfter > 0 ? Math.ceil(resetAfter * 1000) : 0;
      return { id, waitMs };
    }
    const detail = json?.message
      ? `${json.message}${json.code ? ` (code ${json.code})` : ''}${json.errors ? ` ${JSON.stringify(json.errors).slice(0, 300)}` : ''}`
      : answer.text.slice(0, 300);
    if (answer.status === 429) {
      // rate-limits.mdx (Exceeding A Rate Limit): `retry_after` (seconds, float) in the body, or the Retry-After header.
      const wait =
        typeof json?.retry_after === 'number'
          ? Math.ceil(json.retry_after * 1000)
          : (retryAfterMs(answer.headers.get('retry-after')) ?? 1000);
      throw new RateLimitedError(`${where} answered 429: ${detail}`, wait);
    }
    // opcodes-and-status-codes.mdx: 10015 Unknown Webhook (deleted or wrong id), 50027 Invalid Webhook Token.
    if (answer.status === 404 && json?.code === 10015)
      throw new ConfigError(
        `${where}: Unknown Webhook (10015): it was deleted or the id is wrong; not retrying it`,
      );
    if (json?.code === 50027) throw new AuthError(`${where}: Invalid Webhook Token (50027)`);
    throw errorForStatus(where, answer.status, detail);
  }

  return {
    kind: 'discord',
    name: options.name,
    async deliver(message, _idempotencyKey, progress): Promise<DeliveryReceipt> {
      // Execute Webhook takes no idempotency key or nonce (webhook.mdx): `progress` is what prevents a repeat.
      // Rendering is pure, so the same digest splits the same way on every attempt and indexes line up.
      const payloads = render(message);
      const ids = [...(progress?.confirmed ?? [])];
      let waitMs = 0;
      for (let index = ids.length; index < payloads.length; index += 1) {
        const payload = payloads[index] as DiscordWebhookPayload;
        // The bucket is empty: wait for it here if that is short, else hand the wait to the state machine.
        if (waitMs > retry.maxWaitMs)
          throw new RateLimitedError(
            `${where}: bucket empty after ${index} of ${payloads.length} messages`,
            waitMs,
          );
        if (waitMs > 0) await sleep(waitMs);
        const sent = await retryTransient(() => post(payload), retry);
        ids.push(sent.id);
        await progress?.confirm(index, sent.id);
        waitMs = sent.waitMs;
      }
      return {
        destination: options.name,
        ...(ids[0] ? { id: ids[0] } : {}),
        ids,
        detail: `${ids.length} message${ids.length === 1 ? '' : 's'} in the channel`,
      };
    },
  };
}
