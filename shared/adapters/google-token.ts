import { createSign } from 'node:crypto';
import { AuthError, errorForStatus, TransientError } from '../errors';

/**
 * The access tokens Google's APIs take, from a service-account key by the
 * OAuth 2.0 JWT bearer flow, as google-auth-library's JWT client (through
 * gtoken) does it: an RS256-signed assertion {iss, scope, aud, iat, exp: iat +
 * 3600} posted as `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`,
 * answered `{access_token, expires_in, token_type}`. Without the library: its
 * 190 KiB (gaxios, node-fetch, gcp-metadata, bignumber.js) were parsed at every
 * cold start of each Sheets function for this one POST.
 * Sources: https://developers.google.com/identity/protocols/oauth2/service-account#httprest,
 * RFC 7523 §2.1, gtoken build/esm/src/index.js (#requestToken).
 */
export interface AccessTokens {
  getAccessToken(): Promise<{ token: string }>;
}

/** Where a key without `token_uri` gets its tokens (gtoken's GOOGLE_TOKEN_URL). */
export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';
/** A token is renewed this long before it expires (google-auth-library's eagerRefreshThresholdMillis). */
const RENEW_BEFORE_MS = 5 * 60_000;

export interface ServiceAccountKey {
  client_email: string;
  private_key: string;
  /** Every key file Google issues names its token endpoint; the sandboxes' keys name theirs. */
  token_uri?: string;
}

const base64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');

/** The signed assertion: header.claims.signature, each base64url (RFC 7515 compact form). */
export function signedAssertion(key: ServiceAccountKey, scope: string, nowMs: number): string {
  const iat = Math.floor(nowMs / 1000);
  const header = base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }));
  const claims = base64url(
    JSON.stringify({
      iss: key.client_email,
      scope,
      aud: key.token_uri ?? GOOGLE_TOKEN_URL,
      iat,
      exp: iat + 3600,
    }),
  );
  const signature = createSign('RSA-SHA256').update(`${header}.${claims}`).sign(key.private_key);
  return `${header}.${claims}.${base64url(signature)}`;
}

/** Tokens for a service account, each kept until five minutes before it expires. */
export function serviceAccountTokens(
  key: ServiceAccountKey,
  scope: string,
  options: { now?: () => number; timeoutMs?: number } = {},
): AccessTokens {
  const now = options.now ?? Date.now;
  let cached: { token: string; expiresAt: number } | undefined;
  let pending: Promise<{ token: string }> | undefined;
  const request = async () => {
    const issuedAt = now();
    let response: Response;
    try {
      response = await fetch(key.token_uri ?? GOOGLE_TOKEN_URL, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({
          grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
          assertion: signedAssertion(key, scope, issuedAt),
        }),
        signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
      });
    } catch (error) {
      throw new TransientError(`google token request failed: ${(error as Error).message}`, { cause: error });
    }
    const body = (await response.json().catch(() => ({}))) as {
      access_token?: string;
      expires_in?: number;
      error?: string;
      error_description?: string;
    };
    if (!response.ok) {
      // RFC 6749 §5.2: {error, error_description}; invalid_grant is a key Google does not take (deleted,
      // disabled, or a clock far off), never worth retrying.
      const detail = `token: ${body.error ?? 'error'}${body.error_description ? `: ${body.error_description}` : ''}`;
      if (response.status === 400 || response.status === 401)
        throw new AuthError(`google answered ${response.status} ${detail}`);
      throw errorForStatus('google', response.status, detail);
    }
    if (!body.access_token) throw new AuthError('google answered a token request without an access_token');
    cached = { token: body.access_token, expiresAt: issuedAt + (body.expires_in ?? 3600) * 1000 };
    return { token: body.access_token };
  };
  return {
    async getAccessToken() {
      if (cached && cached.expiresAt - RENEW_BEFORE_MS > now()) return { token: cached.token };
      // Requests that need a token at once share one token request.
      pending ??= request().finally(() => {
        pending = undefined;
      });
      return pending;
    },
  };
}

/** An access token given as it is (tests, sandboxes, a quick `gcloud auth print-access-token`). */
export function staticToken(token: string): AccessTokens {
  return { getAccessToken: async () => ({ token }) };
}
