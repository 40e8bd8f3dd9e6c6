import { describe, expect, it } from 'vitest';
import { checkedGoogleCredential } from '../../shared/config/google-key';
import { ConfigError } from '../../shared/errors';

// A made-up key: its values must never show up in a message.
const PRIVATE_KEY =
  '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDqSecretBody\n-----END PRIVATE KEY-----\n';
const EMAIL = 'digest-bot@zq-project-7781.iam.gserviceaccount.com';
const key = (fields: Record<string, unknown>) =>
  JSON.stringify({
    type: 'service_account',
    project_id: 'zq-project-7781',
    private_key_id: 'kid0f3a9',
    ...fields,
  });

function refusal(value: string): string {
  const started = Date.now();
  try {
    checkedGoogleCredential(value);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).name).toBe('ConfigError');
    expect(Date.now() - started).toBeLessThan(1000);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

/** Every run of 5 characters of the secret's values (field names aside) must be absent from the message. */
function expectNoFragment(message: string, value: string) {
  const parsed = (() => {
    try {
      return JSON.parse(value) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  })();
  const secrets = parsed ? Object.values(parsed).filter((v): v is string => typeof v === 'string') : [value];
  for (const secret of secrets) {
    for (let i = 0; i + 5 <= secret.length; i += 1) {
      const fragment = secret.slice(i, i + 5);
      if (/^[-\s]+$/.test(fragment) || 'service_account'.includes(fragment)) continue;
      expect(message, `fragment "${fragment}"`).not.toContain(fragment);
    }
  }
}

describe('the Google credential', () => {
  it('accepts a service account key and an access token unchanged', () => {
    // Prepare
    const good = key({ client_email: EMAIL, private_key: PRIVATE_KEY });

    // Act + Assess
    expect(checkedGoogleCredential(good)).toBe(good);
    expect(checkedGoogleCredential('ya29.a0AfH6SMBtoken')).toBe('ya29.a0AfH6SMBtoken');
  });

  it.each([
    ['without private_key', key({ client_email: EMAIL }), 'has no private_key'],
    ['without client_email', key({ private_key: PRIVATE_KEY }), 'has no client_email'],
    ['with neither', JSON.stringify({ type: 'service_account' }), 'has no client_email and no private_key'],
    [
      'of another credential type',
      JSON.stringify({
        type: 'authorized_user',
        client_id: 'cid-77x',
        client_secret: 'shh-secret-9',
        refresh_token: '1//0gRefreshTok',
      }),
      'its "type" is not "service_account"',
    ],
    ['that is an array', `[${JSON.stringify(PRIVATE_KEY)}]`, 'is not a service account key (a JSON object)'],
    [
      'that is not JSON',
      `{"type":"service_account","private_key":"${PRIVATE_KEY.slice(0, 40)}`,
      'starts like a key file but is not valid JSON',
    ],
    [
      'with a bad email',
      key({ client_email: 'nobody-at-nowhere', private_key: PRIVATE_KEY }),
      'client_email that is not an email address',
    ],
    [
      'with a key that is not PEM',
      key({ client_email: EMAIL, private_key: 'MIIEvQIBADANBgkq' }),
      'private_key that is not a PEM private key',
    ],
    [
      'with line breaks escaped twice',
      key({ client_email: EMAIL, private_key: PRIVATE_KEY.replaceAll('\n', '\\n') }),
      'without line breaks',
    ],
  ])('refuses a key %s as a ConfigError within a second, quoting nothing of it', (_, value, expected) => {
    // Act
    const message = refusal(value);

    // Assess
    expect(message).toContain('GOOGLE_SERVICE_ACCOUNT_JSON');
    expect(message).toContain(expected);
    expectNoFragment(message, value);
  });

  it('refuses a value with spaces that is neither a key nor a token', () => {
    // Act
    const message = refusal('path/to my key.json');

    // Assess
    expect(message).toContain('neither a service account key (JSON) nor an access token');
    expectNoFragment(message, 'path/to my key.json');
  });
});
