import { TransientError, UnknownOutcomeError } from '../../errors';

export interface HttpAnswer {
  status: number;
  headers: Headers;
  text: string;
}

/** Failures where the request never left: nothing can have been delivered, so a retry is safe. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

function causeCode(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause;
  return typeof cause?.code === 'string' ? cause.code : undefined;
}

/**
 * POST with a deadline. A refused connection is a TransientError (nothing was
 * sent); a timeout or a connection dropped after the request went out is an
 * UnknownOutcomeError: the receiver may have acted on it.
 */
export async function postJson(
  service: string,
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<HttpAnswer> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const code = causeCode(error);
    const message = `${service} request failed: ${(error as Error).message}${code ? ` (${code})` : ''}`;
    if (code && NOT_SENT_CODES.has(code)) throw new TransientError(message, { cause: error });
    throw new UnknownOutcomeError(`${message}; it may have been delivered`, { cause: error });
  }
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    // The status line came back but the body was cut: the receiver did answer, we cannot read how.
    throw new UnknownOutcomeError(`${service} answer cut off: ${(error as Error).message}`, { cause: error });
  }
  return { status: response.status, headers: response.headers, text };
}

/**
 * `Retry-After` in milliseconds: delay-seconds or an HTTP-date
 * (RFC 9110 §10.2.3, https://www.rfc-editor.org/rfc/rfc9110#field.retry-after).
 */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.ceil(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
