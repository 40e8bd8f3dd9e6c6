import { createHmac } from 'node:crypto';
import {
  errorForStatus,
  InvalidResponseError,
  PermanentError,
  TransientError,
  UnknownOutcomeError,
} from '../../errors';
import type { DeliveryReceipt, Destination, DigestMessage } from '../../ports';
import { defaultSleep, type RetryOptions, retryTransient } from '../retry';
import { postJson, retryAfterMs } from './http';

/** Header names of the scheme (see `signWebhook`). */
export const WEBHOOK_HEADERS = {
  signature: 'digest-signature',
  timestamp: 'digest-timestamp',
  idempotencyKey: 'idempotency-key',
} as const;

/**
 * Stripe's signing scheme: HMAC-SHA256, keyed with the endpoint's secret, over
 * `<unix seconds>.<raw body>`, hex-encoded, sent as `t=<ts>,v1=<hex>`
 * (stripe/stripe-ruby lib/stripe/webhook.rb `compute_signature`;
 * https://docs.stripe.com/webhooks#verify-manually). The timestamp is signed,
 * so a receiver can refuse a replay older than its tolerance (Stripe: 300 s).
 */
export function signWebhook(secret: string, timestampSeconds: number, body: string): string {
  const hex = createHmac('sha256', secret).update(`${timestampSeconds}.${body}`, 'utf8').digest('hex');
  return `t=${timestampSeconds},v1=${hex}`;
}

export interface WebhookOptions {
  name: string;
  url: string;
  secret: string;
  timeoutMs?: number;
  retry?: Partial<RetryOptions>;
  /** Epoch ms; injectable so a test can sign with an old timestamp. */
  now?: () => number;
}

/** The JSON the receiver gets: the digest, plus what identifies this delivery. */
export function webhookBody(message: DigestMessage, idempotencyKey: string): string {
  return JSON.stringify({
    type: 'digest.published',
    idempotencyKey,
    pipelineId: message.pipelineId,
    runId: message.runId,
    title: message.title,
    parts: message.parts,
    links: message.links,
    createdAt: message.createdAt,
  });
}

/**
 * A generic JSON webhook. Each attempt is signed afresh (a new timestamp) and
 * carries the same `Idempotency-Key`, an RFC 8941 string as the IETF draft
 * writes it (draft-ietf-httpapi-idempotency-key-header §2.1:
 * `Idempotency-Key: "8e03978e-…"`), so a receiver that honours it turns a
 * repeat into the first answer (§2.6) and a lost answer may be retried.
 */
export function createWebhookDestination(options: WebhookOptions): Destination {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const retry: RetryOptions = { maxAttempts: 4, baseDelayMs: 500, maxWaitMs: 10_000, ...options.retry };
  const now = options.now ?? Date.now;
  const where = `webhook ${options.name}`;

  async function attempt(body: string, idempotencyKey: string): Promise<DeliveryReceipt> {
    const timestamp = Math.floor(now() / 1000);
    const answer = await postJson(
      where,
      options.url,
      body,
      {
        [WEBHOOK_HEADERS.idempotencyKey]: `"${idempotencyKey}"`,
        [WEBHOOK_HEADERS.timestamp]: String(timestamp),
        [WEBHOOK_HEADERS.signature]: signWebhook(options.secret, timestamp, body),
      },
      timeoutMs,
    );
    if (answer.status >= 200 && answer.status < 300) {
      let id: unknown;
      try {
        id = answer.text ? (JSON.parse(answer.text) as { id?: unknown }).id : undefined;
      } catch {
        throw new InvalidResponseError(`${where} answered ${answer.status} with a body that is not JSON`);
      }
      return {
        destination: options.name,
        ...(typeof id === 'string' ? { id } : {}),
        detail:
          answer.headers.get('idempotent-replayed') === 'true' ? 'already delivered (replayed)' : 'delivered',
      };
    }
    const detail = answer.text.slice(0, 300);
    // draft-ietf-httpapi-idempotency-key-header §2.7: 409 while the first request with this key is still in progress.
    if (answer.status === 409) throw new TransientError(`${where} answered 409: ${detail}`);
    throw errorForStatus(
      where,
      answer.status,
      detail,
      retryAfterMs(answer.headers.get('retry-after'), now()),
    );
  }

  return {
    kind: 'webhook',
    name: options.name,
    async deliver(message, idempotencyKey) {
      if (!/^[\x21\x23-\x5b\x5d-\x7e]{1,255}$/.test(idempotencyKey))
        throw new PermanentError(`${where}: idempotency key must be 1-255 visible ASCII characters`);
      const body = webhookBody(message, idempotencyKey);
      // A lost answer is retried too: the same key makes the repeat harmless for a receiver that honours it.
      const sleep = retry.sleep ?? defaultSleep;
      for (let lost = 1; ; lost += 1) {
        try {
          return await retryTransient(() => attempt(body, idempotencyKey), retry);
        } catch (error) {
          if (!(error instanceof UnknownOutcomeError) || lost >= retry.maxAttempts) throw error;
          await sleep(Math.floor((retry.random ?? Math.random)() * retry.baseDelayMs * 2 ** (lost - 1)));
        }
      }
    },
  };
}
