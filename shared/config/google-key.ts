import { ConfigError } from '../errors';

/**
 * `GOOGLE_SERVICE_ACCOUNT_JSON` holds either a service account key file's JSON or an OAuth access token
 * (shared/adapters/sheets.ts `createGoogleAuth` decides by the leading `{`). A value that clearly tried to be
 * a key but is not one must fail at once as a ConfigError (never retried), not later inside the auth
 * library as an error the step might retry. Messages name fields only, never any part of the value.
 *
 * What a key needs: the JWT bearer flow (shared/adapters/google-token.ts, as google-auth-library's
 * `JWT.fromJSON` in build/src/auth/jwtclient.js) signs with `private_key` as `client_email`; Google's other
 * credential files differ by `type` (`authorized_user`, `external_account`, `impersonated_service_account`…,
 * google-auth-library build/src/auth/googleauth.js), which this adapter cannot use: only `service_account`
 * (or no type) is a key here.
 */
const KEY_NAME = 'GOOGLE_SERVICE_ACCOUNT_JSON';

const refuse = (why: string) => new ConfigError(`${KEY_NAME} ${why}`);

/** The credential, unchanged, when it is a well-formed key or a plausible access token; else a ConfigError. */
export function checkedGoogleCredential(value: string): string {
  const text = value.trim();
  if (!/^[[{]/.test(text)) {
    // An access token is one opaque word; a pasted file path or a half-pasted key is not.
    if (text === '' || /\s/.test(text)) {
      throw refuse('is neither a service account key (JSON) nor an access token (one word)');
    }
    return value;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    // JSON.parse's message quotes the text around the mistake: keep only where it is.
    const at = /position \d+/.exec((error as Error).message)?.[0];
    throw refuse(`starts like a key file but is not valid JSON${at ? ` (at ${at})` : ''}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw refuse('is not a service account key (a JSON object)');
  }
  const key = parsed as Record<string, unknown>;
  if (key.type !== undefined && key.type !== 'service_account') {
    throw refuse('is not a service account key: its "type" is not "service_account"');
  }
  const missing = ['client_email', 'private_key'].filter(
    (field) => typeof key[field] !== 'string' || (key[field] as string).trim() === '',
  );
  if (missing.length > 0) {
    throw refuse(`is not a service account key: it has no ${missing.join(' and no ')}`);
  }
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(key.client_email as string)) {
    throw refuse('has a client_email that is not an email address');
  }
  const privateKey = key.private_key as string;
  if (
    !/-----BEGIN (RSA )?PRIVATE KEY-----/.test(privateKey) ||
    !/-----END (RSA )?PRIVATE KEY-----/.test(privateKey)
  ) {
    throw refuse('has a private_key that is not a PEM private key');
  }
  if (!privateKey.includes('\n')) {
    throw refuse('has a private_key without line breaks (were its \\n escaped twice?)');
  }
  return value;
}
