/**
 * A service-account key's tokens by the JWT bearer flow, against the Sheets
 * sandbox's token endpoint, which checks the assertion as Google documents
 * it (RS256 signature, audience, lifetime, scope): the store gets one token
 * and uses it until five minutes before it expires; a key Google does not
 * take is an AuthError, never retried.
 */
import { createVerify, generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { type SheetsSandbox, startSheetsSandbox } from '../../infra/local/sandbox/sheets-server';
import { serviceAccountTokens, signedAssertion } from '../../shared/adapters/google-token';
import { createGoogleAuth, createSheetStore } from '../../shared/adapters/sheets';
import { AuthError } from '../../shared/errors';

const EMAIL = 'digest@project.iam.gserviceaccount.com';
const SCOPE = 'https://www.googleapis.com/auth/spreadsheets';
const keyPair = () =>
  generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
const registered = keyPair();

let sandbox: SheetsSandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

async function start(now?: () => number): Promise<SheetsSandbox> {
  sandbox = await startSheetsSandbox({
    ...(now ? { now } : {}),
    spreadsheets: ['book'],
    // Only the tokens it issued (or this one) open the spreadsheets.
    token: 'not-this-one',
    serviceAccounts: { [EMAIL]: registered.publicKey },
    quotas: false,
  });
  return sandbox;
}

/** A key file as Google issues one (fields this flow reads), pointing at the sandbox's token endpoint. */
const keyFile = (tokenUri: string, privateKey = registered.privateKey) =>
  JSON.stringify({
    type: 'service_account',
    client_email: EMAIL,
    private_key: privateKey,
    token_uri: tokenUri,
  });

const tokenCalls = (s: SheetsSandbox) => s.faults.calls.filter((c) => c.path === '/token').length;

describe('a service account’s tokens', () => {
  it('sign {iss, scope, aud, iat, exp: iat + 1 h} with RS256 for the key’s token endpoint', () => {
    // Act
    const assertion = signedAssertion(
      { client_email: EMAIL, private_key: registered.privateKey, token_uri: 'https://tokens.example/token' },
      SCOPE,
      Date.parse('2026-12-02T10:00:00Z'),
    );

    // Assess
    const [header, claims, signature] = assertion.split('.');
    const json = (part = '') => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    expect(json(header)).toEqual({ alg: 'RS256', typ: 'JWT' });
    const iat = Date.parse('2026-12-02T10:00:00Z') / 1000;
    expect(json(claims)).toEqual({
      iss: EMAIL,
      scope: SCOPE,
      aud: 'https://tokens.example/token',
      iat,
      exp: iat + 3600,
    });
    const valid = createVerify('RSA-SHA256')
      .update(`${header}.${claims}`)
      .verify(registered.publicKey, Buffer.from(signature ?? '', 'base64url'));
    expect(valid).toBe(true);
  });

  it('open the spreadsheet: one token request for every Sheets request while the token lasts', async () => {
    // Prepare
    const s = await start();
    const sheet = createSheetStore({
      spreadsheetId: 'book',
      auth: createGoogleAuth(keyFile(s.tokenUrl)),
      rootUrl: `${s.url}/`,
    });

    // Act
    await sheet.ensureTab('Posts', ['message_id', 'content']);
    await sheet.appendRows('Posts', ['message_id', 'content'], [{ message_id: '1', content: 'a' }]);
    const column = await sheet.readColumn(['Posts'], 'message_id');

    // Assess
    expect(column.get('Posts')).toEqual(['1']);
    expect(tokenCalls(s)).toBe(1);
    expect(s.faults.calls.filter((c) => c.path.startsWith('/v4/')).length).toBeGreaterThanOrEqual(3);
  });

  it('are asked for again five minutes before the token expires, and once for requests at the same time', async () => {
    // Prepare
    // One clock for the account and Google, which refuses an assertion from the future.
    const clock = { now: Date.now() };
    const s = await start(() => clock.now);
    const tokens = serviceAccountTokens(JSON.parse(keyFile(s.tokenUrl)), SCOPE, { now: () => clock.now });

    // Act
    const [first, same] = await Promise.all([tokens.getAccessToken(), tokens.getAccessToken()]);
    clock.now += 54 * 60_000;
    const stillFirst = await tokens.getAccessToken();
    clock.now += 2 * 60_000;
    const renewed = await tokens.getAccessToken();

    // Assess: the sandbox's token lasts 3,599 s; at 56 minutes less than five are left.
    expect(same.token).toBe(first.token);
    expect(stillFirst.token).toBe(first.token);
    expect(renewed.token).not.toBe(first.token);
    expect(tokenCalls(s)).toBe(2);
  });

  it('from a key Google does not take end in an AuthError naming why, without a Sheets request', async () => {
    // Prepare: the account's key was replaced; this is an old one.
    const s = await start();
    const sheet = createSheetStore({
      spreadsheetId: 'book',
      auth: createGoogleAuth(keyFile(s.tokenUrl, keyPair().privateKey)),
      rootUrl: `${s.url}/`,
      retry: { sleep: async () => undefined },
    });

    // Act
    const read = sheet.readColumn(['Posts'], 'message_id');

    // Assess
    await expect(read).rejects.toThrow(AuthError);
    await expect(read).rejects.toThrow(/invalid_grant: Invalid JWT Signature/);
    expect(tokenCalls(s)).toBe(1);
    expect(s.faults.calls.filter((c) => c.path.startsWith('/v4/'))).toHaveLength(0);
  });
});
