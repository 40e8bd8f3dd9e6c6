/**
 * Our Typefully adapter (fetch) against the Typefully sandbox built from the v2
 * OpenAPI: draft shape, list without platforms and with a cut preview,
 * pagination, error bodies, rate-limit headers, lost answers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  startTypefullySandbox,
  type TypefullySandbox,
  type TypefullySandboxOptions,
} from '../../infra/local/sandbox/typefully-server';
import { createTypefullyPublisher, draftTitleOf } from '../../shared/adapters/typefully';
import { AuthError, PermanentError, RateLimitedError, UnknownOutcomeError } from '../../shared/errors';
import type { PublishUnit } from '../../shared/ports';

const fast = { baseDelayMs: 5, maxWaitMs: 2_000 };
let typefully: TypefullySandbox | undefined;
afterEach(async () => {
  await typefully?.close();
  typefully = undefined;
});

async function sandbox(
  options: Partial<TypefullySandboxOptions> = {},
  publishAt = 'next-free-slot',
  apiKey = 'tf-key',
) {
  typefully = await startTypefullySandbox({ apiKey: 'tf-key', socialSetId: '42', ...options });
  const publisher = createTypefullyPublisher({
    apiKey,
    socialSetId: '42',
    publishAt,
    baseUrl: typefully.url,
    timeoutMs: 1_000,
    retry: fast,
  });
  return { server: typefully, publisher };
}

const unit = (runId: string, parts: string[]): PublishUnit => ({
  pipelineId: 'crypto',
  runId,
  index: 0,
  parts,
});
const long = (n: number) => `Daily digest ${n}: ${'a long opening line about many projects '.repeat(5)}`;

describe('typefully', () => {
  it('creates one draft holding the whole thread, titled by the run, with its private_url', async () => {
    // Prepare
    const { server, publisher } = await sandbox();

    // Act
    const draft = await publisher.publish(unit('r1', ['one', 'two', 'three']));

    // Assess
    expect(server.drafts()).toMatchObject([
      {
        id: Number(draft.id),
        draft_title: draftTitleOf({ pipelineId: 'crypto', runId: 'r1' }),
        status: 'scheduled',
        platforms: { x: { enabled: true, posts: [{ text: 'one' }, { text: 'two' }, { text: 'three' }] } },
      },
    ]);
    expect(draft.url).toBe(server.drafts()[0]?.private_url);
  });

  it('the list has no platforms and cuts the preview, so a draft is found by its title, not its text', async () => {
    // Prepare
    const { server, publisher } = await sandbox();
    await publisher.publish(unit('r1', [long(1), 'two']));
    // Another run's draft with the same first 100 characters.
    await publisher.publish(unit('r2', [long(1), 'different second part']));
    const list = (await (
      await fetch(`${server.url}/v2/social-sets/42/drafts?limit=50`, {
        headers: { authorization: 'Bearer tf-key' },
      })
    ).json()) as { results: Record<string, unknown>[] };

    // Act
    const found = await publisher.findPublished(unit('r1', [long(1), 'two']));

    // Assess
    expect(list.results[0]).not.toHaveProperty('platforms');
    expect(String(list.results[0]?.preview).length).toBeLessThanOrEqual(100);
    expect(found).toEqual({
      status: 'found',
      part: expect.objectContaining({ id: String(server.drafts()[0]?.id) }),
    });
    expect((await publisher.findPublished(unit('r3', [long(1)]))).status).toBe('absent');
  });

  it('pages through the list (limit ≤ 50) to find an older draft', async () => {
    // Prepare
    const { server, publisher } = await sandbox({ userLimitPerMinute: 1000, draftsCreatePerMinute: 1000 });
    await publisher.publish(unit('old-run', ['the old one']));
    for (let i = 0; i < 120; i++) await publisher.publish(unit(`newer-${i}`, [`newer ${i}`]));
    server.faults.resetCalls();

    // Act
    const found = await publisher.findPublished(unit('old-run', ['the old one']));

    // Assess
    expect(found.status).toBe('found');
    expect(server.faults.calls.filter((c) => c.method === 'GET')).toHaveLength(3);
  });

  it('a lost answer is an UnknownOutcomeError, and the draft is found afterwards', async () => {
    // Prepare
    const { server, publisher } = await sandbox();
    server.faults.add({ kind: 'drop-after-effect', method: 'POST', path: '/drafts' });

    // Act
    const lost = publisher.publish(unit('r1', ['lost']));

    // Assess
    await expect(lost).rejects.toBeInstanceOf(UnknownOutcomeError);
    expect((await publisher.findPublished(unit('r1', ['lost']))).status).toBe('found');
    expect(server.drafts()).toHaveLength(1);
  });

  it('a spent rate limit answers 429 with X-RateLimit-* headers: a RateLimitedError naming the reset', async () => {
    // Prepare
    const { server, publisher } = await sandbox();
    server.quotas.socialSet.exhaust();

    // Act
    const limited = publisher.publish(unit('r1', ['x'])).catch((error: unknown) => error);

    // Assess
    const error = (await limited) as RateLimitedError;
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error.message).toMatch(/per-social-set rate limit.*resets at/);
    expect(server.drafts()).toHaveLength(0);
  });

  it('errors carry {"error":{"code","message"}}: a bad key is an AuthError, a bad publish_at names the field', async () => {
    // Prepare
    const bad = await sandbox({}, 'next-free-slot', 'bad');
    const badKey = bad.publisher.publish(unit('r1', ['x']));
    await expect(badKey).rejects.toBeInstanceOf(AuthError);
    await expect(badKey).rejects.toThrow(/UNAUTHORIZED/);
    await typefully?.close();
    const wrongTime = await sandbox({}, '2026-01-20T09:00:00');

    // Act
    const refused = wrongTime.publisher.publish(unit('r1', ['x']));

    // Assess
    await expect(refused).rejects.toBeInstanceOf(PermanentError);
    await expect(refused).rejects.toThrow(/VALIDATION_ERROR/);
  });

  it('"now" with a link is refused as X policy (direct publishing of drafts with URLs is blocked)', async () => {
    // Prepare
    const { server, publisher } = await sandbox({}, 'now');

    // Act + Assess
    await expect(publisher.publish(unit('r1', ['see acme.xyz']))).rejects.toThrow(/X policy/);
    const plain = await publisher.publish(unit('r2', ['no link here']));
    expect(server.drafts()).toMatchObject([
      { id: Number(plain.id), status: 'draft', publish_state: 'in_progress' },
    ]);
  });
});
