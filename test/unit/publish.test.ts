import { describe, expect, it } from 'vitest';
import { quotaExhausted, UnknownOutcomeError } from '../../shared/errors';
import { FakeChannel, testPipeline } from '../support/fakes';
import { runPipeline, runRef, World } from '../support/harness';
import { linkMessages } from '../support/messages';

const T = '2026-11-24T09:00:00.000Z';

function world(messages: { id: string }[], publisher: Record<string, unknown> = {}) {
  return new World(
    testPipeline({ publisher: { kind: 'x', mode: 'thread', ...publisher } }),
    new FakeChannel(messages),
  );
}

/** The state machine's retry or an operator's `--resume`: the same run id, every step again. */
async function resume(w: World) {
  w.ledger.runs.delete('r1');
  return runPipeline(w, runRef('r1', T));
}

/** Part 2's answer is lost and the account cannot be read: the outcome stays unknown. */
async function unknownSecondPart() {
  const w = world(linkMessages(T, 12));
  w.publisher.faults.set(2, { error: new UnknownOutcomeError('socket hang up'), afterEffect: true });
  w.publisher.lookupRefused = 'the X plan may not read the account timeline (403 client-not-enrolled)';
  await runPipeline(w, runRef('r1', T));
  return w;
}

describe('an unknown outcome when the account cannot be read', () => {
  it('is parked: the step and the run end partial with one operator action, nothing is posted again', async () => {
    // Prepare
    const w = await unknownSecondPart();

    // Act
    const report = await resume(w);

    // Assess
    const reason = report.steps.publish?.notes?.reason ?? '';
    expect(report.steps.publish?.status).toBe('partial');
    expect(report.status).toBe('partial');
    expect(reason).toContain('part 2/');
    expect(reason).toContain('npm run digest -- publish confirm r1 <postId>');
    expect(reason).toContain('npm run digest -- publish retry r1');
    expect(w.journal.records.get('r1')).toMatchObject({ status: 'unknown', attempting: 1 });
    expect(w.publisher.posts).toHaveLength(2);

    // A further resume without the operator's word changes nothing.
    const again = await resume(w);
    expect(again.steps.publish?.status).toBe('partial');
    expect(w.publisher.posts).toHaveLength(2);
  });

  it('after "publish confirm", the thread continues after the confirmed post, replying to it', async () => {
    // Prepare
    const w = await unknownSecondPart();
    await resume(w);
    const second = w.publisher.posts[1];
    await w.journal.resolveUnknown('demo', 'r1', {
      published: { id: second?.id ?? '', url: `https://x.com/i/web/status/${second?.id}` },
    });

    // Act
    const report = await resume(w);

    // Assess
    const parts = w.journal.records.get('r1')?.parts ?? [];
    expect(report.steps.publish?.status).toBe('succeeded');
    expect(w.publisher.posts.map((p) => p.text)).toEqual(parts);
    expect(w.publisher.posts[2]?.replyTo).toBe(second?.id);
  });

  it('after "publish retry", the part is posted again by the next attempt', async () => {
    // Prepare: this time the lost call never reached X.
    const w = world(linkMessages(T, 12));
    w.publisher.faults.set(2, { error: new UnknownOutcomeError('timeout'), afterEffect: false });
    w.publisher.lookupRefused = 'cannot read';
    await runPipeline(w, runRef('r1', T));
    await resume(w);
    await w.journal.resolveUnknown('demo', 'r1', { published: false });

    // Act
    const report = await resume(w);

    // Assess
    const parts = w.journal.records.get('r1')?.parts ?? [];
    expect(report.steps.publish?.status).toBe('succeeded');
    expect(w.publisher.posts.map((p) => p.text)).toEqual(parts);
  });
});

describe('a refusal mid-thread (the 24-hour cap)', () => {
  it('ends the step with the RateLimitedError; the next attempt continues at the next part without looking', async () => {
    // Prepare
    const w = world(linkMessages(T, 12));
    const resetAt = new Date(Date.parse(T) + 6 * 3_600_000);
    w.publisher.faults.set(3, {
      error: quotaExhausted('x', 'per-user 24-hour post cap (17 posts)', resetAt),
      afterEffect: false,
    });
    // Looking would be refused: if the use case looked, the run would park instead of finishing.
    w.publisher.lookupRefused = 'cannot read';

    // Act
    const first = await runPipeline(w, runRef('r1', T));
    const afterCap = structuredClone(w.journal.records.get('r1'));
    const report = await resume(w);

    // Assess
    expect(first.steps.publish).toMatchObject({ status: 'failed', error: { name: 'RateLimitedError' } });
    expect(first.steps.publish?.error?.message).toContain(resetAt.toISOString());
    expect(afterCap?.published).toHaveLength(2);
    expect(afterCap?.attempting).toBeUndefined();
    expect(report.steps.publish?.status).toBe('succeeded');
    const parts = w.journal.records.get('r1')?.parts ?? [];
    expect(w.publisher.posts.map((p) => p.text)).toEqual(parts);
    expect(w.publisher.posts[2]?.replyTo).toBe(w.publisher.posts[1]?.id);
  });
});

describe('publisher.maxThreadParts', () => {
  it('caps the thread the run posts', async () => {
    // Prepare
    const w = world(linkMessages(T, 12), { maxThreadParts: 2 });

    // Act
    await runPipeline(w, runRef('r1', T));

    // Assess
    expect(w.journal.records.get('r1')?.parts).toHaveLength(2);
    expect(w.publisher.posts).toHaveLength(2);
  });
});

describe('publisher config', () => {
  const typefully = (typefullyPublishAt: string) => () =>
    testPipeline({ publisher: { kind: 'typefully', typefullySocialSetId: '42', typefullyPublishAt } });

  it.each(['now', 'next-free-slot', '2026-01-20T09:00:00-05:00', '2026-01-20T14:00:00Z'])(
    'accepts typefullyPublishAt %s, as the API does',
    (value) => {
      // Act + Assess
      expect(typefully(value)().publisher.typefullyPublishAt).toBe(value);
    },
  );

  it.each(['2026-01-20T09:00:00', 'tomorrow', ''])(
    'refuses typefullyPublishAt "%s", naming the field',
    (value) => {
      // Act + Assess
      expect(typefully(value)).toThrow(/typefullyPublishAt/);
    },
  );

  it('maxThreadParts defaults to 6', () => {
    // Act + Assess
    expect(testPipeline().publisher.maxThreadParts).toBe(6);
  });
});
