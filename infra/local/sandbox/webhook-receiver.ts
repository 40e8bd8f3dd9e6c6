import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import { FaultInjector } from './faults';
import { type LatencyProfile, latencyProfile, listenOnLoopback, type SandboxServer } from './http';
import { type Clock, Quota } from './quota';

export interface ReceivedDelivery {
  id: string;
  idempotencyKey: string;
  body: unknown;
  receivedAt: string;
}

export interface WebhookReceiver extends SandboxServer {
  /** The full URL to deliver to (`url` + the path). */
  endpoint: string;
  /** Deliveries acted on, once per idempotency key. */
  deliveries(): ReceivedDelivery[];
  /** Requests refused or replayed, and why (`bad-signature`, `stale-timestamp`, `replayed`, …). */
  refusals(): { reason: string; status: number }[];
  /** Limit per window (requests, all keys together): `exhaust()` makes the next call a 429 with Retry-After. */
  quota: Quota;
}

export interface WebhookReceiverOptions {
  secret: string;
  /** Path the receiver listens on. */
  path?: string;
  /** How old (or how far ahead) a signed timestamp may be; Stripe's default is 300 s (stripe-node Webhooks.js DEFAULT_TOLERANCE). */
  toleranceSeconds?: number;
  /** Requests allowed per window before answering 429 with Retry-After. */
  limit?: number;
  windowMs?: number;
  now?: Clock;
  latency?: LatencyProfile;
  port?: number;
}

/** Signature header `t=<ts>,v1=<hex>[,v1=<hex>…]` → its parts (Stripe's format; several v1 during a secret rotation). */
function parseSignature(header: string): { t: string | undefined; v1: string[] } {
  let t: string | undefined;
  const v1: string[] = [];
  for (const item of header.split(',')) {
    const [key, value] = item.split('=', 2).map((s) => s.trim());
    if (key === 't') t = value;
    if (key === 'v1' && value) v1.push(value);
  }
  return { t, v1 };
}

/** draft-ietf-httpapi-idempotency-key-header §2.1: an RFC 8941 string, quoted; a bare value is taken as the same key. */
const unquote = (value: string) => value.replace(/^"(.*)"$/, '$1');

/**
 * A receiver of signed webhooks, as a careful integrator writes one: it checks
 * the HMAC over `<timestamp>.<raw body>` in constant time (401 when it does not
 * match), refuses a timestamp outside its tolerance (400: a replay), answers a
 * repeated `Idempotency-Key` with the first answer and no second delivery, 422
 * when a key comes back with a different body, 409 while the first is still in
 * progress (draft-ietf-httpapi-idempotency-key-header §2.6-2.7), and 429 with
 * `Retry-After` past its rate.
 */
export async function startWebhookReceiver(options: WebhookReceiverOptions): Promise<WebhookReceiver> {
  const path = options.path ?? '/hooks/digest';
  const tolerance = options.toleranceSeconds ?? 300;
  const now = options.now ?? Date.now;
  const quota = new Quota({ limit: options.limit ?? 60, windowMs: options.windowMs ?? 60_000, now });
  const faults = new FaultInjector();
  const profile = options.latency ?? latencyProfile();
  const deliveries: ReceivedDelivery[] = [];
  const refusals: { reason: string; status: number }[] = [];
  /** Idempotency key → fingerprint of the body and the answer given (undefined while in progress). */
  const seen = new Map<string, { fingerprint: string; answer?: { id: string } }>();
  let next = 0;

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  const refuse = (
    res: ServerResponse,
    status: number,
    reason: string,
    headers: Record<string, string> = {},
  ) => {
    refusals.push({ reason, status });
    send(res, status, { error: reason }, headers);
  };

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    // The signature is over the bytes as sent: never re-serialise the body before checking it.
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://receiver');
    const method = req.method ?? 'GET';
    const fault = faults.next(method, url.pathname);
    if (fault?.kind === 'timeout') return;
    if (fault?.kind === 'rate-limit')
      return refuse(res, 429, 'rate-limited', { 'retry-after': String(fault.retryAfterSeconds) });
    if (fault?.kind === 'server-error') return refuse(res, 500, 'server-error');
    // Estimate: a receiver behind a load balancer answers in 50-150 ms.
    if (profile === 'realistic')
      await new Promise((r) => setTimeout(r, 50 + Math.floor(Math.random() * 100)));
    if (url.pathname !== path) return refuse(res, 404, 'not-found');
    if (method !== 'POST') return refuse(res, 405, 'method-not-allowed');

    const verdict = quota.take();
    if (!verdict.allowed) {
      const seconds = Math.max(1, Math.ceil((verdict.resetAt - now()) / 1000));
      return refuse(res, 429, 'rate-limited', { 'retry-after': String(seconds) });
    }
    const header = String(req.headers['digest-signature'] ?? '');
    const { t, v1 } = parseSignature(header);
    if (!t || !/^\d+$/.test(t) || v1.length === 0) return refuse(res, 401, 'missing-signature');
    if (req.headers['digest-timestamp'] !== t) return refuse(res, 400, 'timestamp-mismatch');
    const expected = createHmac('sha256', options.secret).update(`${t}.${raw}`, 'utf8').digest();
    const matches = v1.some((hex) => {
      const given = Buffer.from(hex, 'hex');
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
    if (!matches) return refuse(res, 401, 'bad-signature');
    if (Math.abs(Math.floor(now() / 1000) - Number(t)) > tolerance)
      return refuse(res, 400, 'stale-timestamp');

    const keyHeader = req.headers['idempotency-key'];
    if (typeof keyHeader !== 'string' || !unquote(keyHeader))
      return refuse(res, 400, 'missing-idempotency-key');
    const key = unquote(keyHeader);
    const fingerprint = createHash('sha256').update(raw).digest('hex');
    const previous = seen.get(key);
    if (previous) {
      if (previous.fingerprint !== fingerprint) return refuse(res, 422, 'idempotency-key-reused');
      if (!previous.answer) return refuse(res, 409, 'in-progress');
      refusals.push({ reason: 'replayed', status: 200 });
      return send(res, 200, previous.answer, { 'idempotent-replayed': 'true' });
    }
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return refuse(res, 400, 'not-json');
    }
    const entry: { fingerprint: string; answer?: { id: string } } = { fingerprint };
    seen.set(key, entry);
    next += 1;
    const answer = { id: `dlv_${String(next).padStart(6, '0')}` };
    deliveries.push({ id: answer.id, idempotencyKey: key, body, receivedAt: new Date(now()).toISOString() });
    entry.answer = answer;
    if (fault?.kind === 'drop-after-effect') {
      req.socket.destroy();
      return;
    }
    send(res, 200, answer);
  });
  const { url, close } = await listenOnLoopback(server, options.port ?? 0);
  return {
    name: 'webhook-receiver',
    latency: profile,
    url,
    endpoint: `${url}${path}`,
    faults,
    close,
    quota,
    deliveries: () => deliveries.map((d) => ({ ...d })),
    refusals: () => refusals.map((r) => ({ ...r })),
  };
}
