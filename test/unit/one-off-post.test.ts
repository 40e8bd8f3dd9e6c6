import { describe, expect, it } from 'vitest';
import { PermanentError, TransientError } from '../../shared/errors';
import {
  cancelScheduledPost,
  instantOfLocal,
  postRunId,
  prepareScheduledPost,
  publishScheduledPost,
} from '../../shared/pipeline/one-off-post';
import type { ScheduledPost, ScheduledPostStatus, ScheduledPostStore } from '../../shared/ports';
import { FakeJournal, FakePublisher, silentLog, testPipeline } from '../support/fakes';

/** Posts in memory with the store's conditional transition. */
class MemoryPosts implements ScheduledPostStore {
  readonly posts = new Map<string, ScheduledPost>();
  async create(post: ScheduledPost) {
    if (this.posts.has(post.postId)) throw new PermanentError(`post ${post.postId} already exists`);
    this.posts.set(post.postId, structuredClone(post));
  }
  async get(_p: string, postId: string) {
    const post = this.posts.get(postId);
    return post && structuredClone(post);
  }
  async list(_p: string, statuses?: readonly ScheduledPostStatus[]) {
    return [...this.posts.values()].filter((p) => !statuses || statuses.includes(p.status));
  }
  async transition(
    _p: string,
    postId: string,
    from: ScheduledPostStatus,
    to: ScheduledPostStatus,
    facts: Partial<ScheduledPost> = {},
  ) {
    const post = this.posts.get(postId);
    if (post?.status !== from) return undefined;
    Object.assign(post, facts, { status: to });
    return structuredClone(post);
  }
}

const NOW = new Date('2026-11-24T08:00:00Z');
const request = (overrides: Partial<Parameters<typeof prepareScheduledPost>[0]> = {}) => ({
  pipeline: testPipeline(),
  localAt: '2026-11-27 18:00',
  timeZone: 'Europe/Berlin',
  text: 'Launch day: the digest goes weekly.',
  source: 'text',
  now: NOW,
  postId: 'p1',
  ...overrides,
});

describe('scheduling a one-off post', () => {
  it('stores it pending at the instant its local time names in its zone', () => {
    // Prepare
    const input = request();

    // Act
    const post = prepareScheduledPost(input);

    // Assess: Berlin is UTC+1 in November.
    expect(post).toMatchObject({
      pipelineId: 'demo',
      postId: 'p1',
      platform: 'x',
      at: '2026-11-27T17:00:00.000Z',
      localAt: '2026-11-27 18:00',
      status: 'pending',
      parts: ['Launch day: the digest goes weekly.'],
    });
  });

  it('makes long text a thread whose every part is valid, and keeps --- parts as written', () => {
    // Prepare
    const long = Array.from({ length: 12 }, (_, i) => `Item ${i + 1}: ${'word '.repeat(12)}`).join('\n');

    // Act
    const split = prepareScheduledPost(request({ text: long }));
    const written = prepareScheduledPost(request({ text: 'first part\n---\nsecond part', postId: 'p2' }));

    // Assess
    expect(split.parts.length).toBeGreaterThan(1);
    expect(split.parts.every((p) => p.length <= 280)).toBe(true);
    expect(written.parts).toEqual(['first part', 'second part']);
  });

  it.each([
    [{ localAt: '2026-11-20 18:00' }, /is not in the future/],
    [{ timeZone: 'europe/berlin' }, /write "Europe\/Berlin"/],
    [{ localAt: '2026-03-29 02:30' }, /does not exist in Europe\/Berlin/],
    [{ localAt: '27.11.2026 18:00' }, /is not "YYYY-MM-DD HH:MM"/],
    [{ text: `${'x'.repeat(300)}\n---\nshort` }, /part 1\/2 is not a valid post on X/],
    [{ text: '   ' }, /has no text/],
    [{ pipeline: testPipeline({ publisher: { kind: 'none' } }) }, /give --platform/],
  ])('refuses %o before storing anything', (overrides, message) => {
    // Prepare
    const input = request(overrides as Partial<Parameters<typeof prepareScheduledPost>[0]>);

    // Act
    const attempt = () => prepareScheduledPost(input);

    // Assess
    expect(attempt).toThrow(message);
  });

  it('takes the first of a local time that happens twice (clocks fall back)', () => {
    // Act
    const at = instantOfLocal('2026-10-25 02:30', 'Europe/Berlin');

    // Assess: 02:30 CEST (UTC+2) comes before 02:30 CET.
    expect(at.toISOString()).toBe('2026-10-25T00:30:00.000Z');
  });
});

describe('publishing a due one-off post', () => {
  const setup = async (parts = ['one', 'two']) => {
    const posts = new MemoryPosts();
    const journal = new FakeJournal();
    const publisher = new FakePublisher();
    await posts.create({ ...prepareScheduledPost(request()), parts, at: '2026-11-24T07:59:00.000Z' });
    const deps = {
      posts,
      journal,
      publisher: async () => publisher,
      now: () => NOW,
      log: silentLog,
    };
    return { posts, journal, publisher, deps };
  };

  it('claims it once, publishes the thread through the journal and records the URL', async () => {
    // Prepare
    const { posts, journal, publisher, deps } = await setup();

    // Act
    const [first, second] = await Promise.all([
      publishScheduledPost(deps, 'demo', 'p1'),
      publishScheduledPost(deps, 'demo', 'p1'),
    ]);

    // Assess
    expect([first.status, second.status].sort()).toEqual(['not-pending', 'published']);
    expect(publisher.posts.map((p) => [p.text, p.replyTo])).toEqual([
      ['one', undefined],
      ['two', '1000'],
    ]);
    expect(journal.records.get(postRunId('p1'))?.status).toBe('completed');
    expect(await posts.get('demo', 'p1')).toMatchObject({
      status: 'published',
      postUrl: 'https://x.com/i/web/status/1000',
      publishedAt: NOW.toISOString(),
    });
  });

  it('marks it failed with the error when the platform refuses, and does not publish it again', async () => {
    // Prepare
    const { posts, publisher, deps } = await setup(['one']);
    publisher.faults.set(1, { error: new TransientError('x: 503'), afterEffect: false });

    // Act
    const outcome = await publishScheduledPost(deps, 'demo', 'p1');
    const again = await publishScheduledPost(deps, 'demo', 'p1');

    // Assess
    expect(outcome.status).toBe('failed');
    expect(again.status).toBe('not-pending');
    expect((await posts.get('demo', 'p1'))?.error).toBe('TransientError: x: 503');
    expect(publisher.posts).toHaveLength(0);
  });

  it('after a crash mid-thread, finishes a post left publishing without posting a part twice', async () => {
    // Prepare: the dead firing got part 1 out, but its confirmation was never journalled.
    const { posts, journal, publisher, deps } = await setup();
    await posts.transition('demo', 'p1', 'pending', 'publishing');
    await journal.begin('demo', postRunId('p1'), ['one', 'two']);
    await journal.markAttempt('demo', postRunId('p1'), 0);
    await publisher.publish({ pipelineId: 'demo', runId: postRunId('p1'), index: 0, parts: ['one'] });

    // Act
    const ignored = await publishScheduledPost(deps, 'demo', 'p1');
    const resumed = await publishScheduledPost(deps, 'demo', 'p1', { resumeClaimed: true });

    // Assess
    expect(ignored.status).toBe('not-pending');
    expect(resumed.status).toBe('published');
    expect(publisher.posts.map((p) => [p.text, p.replyTo])).toEqual([
      ['one', undefined],
      ['two', '1000'],
    ]);
  });

  it('marks it failed, naming the part, when its outcome is unknown and the account cannot be read', async () => {
    // Prepare: a firing died after sending part 1; this account's plan cannot read its timeline.
    const { posts, journal, publisher, deps } = await setup(['one']);
    await posts.transition('demo', 'p1', 'pending', 'publishing');
    await journal.begin('demo', postRunId('p1'), ['one']);
    await journal.markAttempt('demo', postRunId('p1'), 0);
    publisher.lookupRefused = 'the plan cannot read the timeline';

    // Act
    const outcome = await publishScheduledPost(deps, 'demo', 'p1', { resumeClaimed: true });

    // Assess
    expect(outcome.status).toBe('failed');
    expect((await posts.get('demo', 'p1'))?.error).toBe(
      'UnknownOutcomeError: part 1 may or may not be out: the plan cannot read the timeline',
    );
    expect(journal.records.get(postRunId('p1'))?.status).toBe('unknown');
    expect(publisher.posts).toHaveLength(0);
  });

  it('does nothing before its time', async () => {
    // Prepare
    const { publisher, deps } = await setup();

    // Act
    const outcome = await publishScheduledPost(
      { ...deps, now: () => new Date('2026-11-24T07:00:00Z') },
      'demo',
      'p1',
    );

    // Assess
    expect(outcome.status).toBe('not-due');
    expect(publisher.posts).toHaveLength(0);
  });
});

describe('cancelling a one-off post', () => {
  it('cancels a pending post; a published one says so and stays published', async () => {
    // Prepare
    const posts = new MemoryPosts();
    await posts.create(prepareScheduledPost(request()));
    await posts.create({
      ...prepareScheduledPost(request({ postId: 'p2' })),
      status: 'published',
      postUrl: 'https://x.com/i/web/status/7',
    });

    // Act
    const pending = await cancelScheduledPost(posts, 'demo', 'p1', NOW);
    const published = await cancelScheduledPost(posts, 'demo', 'p2', NOW);

    // Assess
    expect(pending).toMatchObject({
      cancelled: true,
      post: { status: 'cancelled', cancelledAt: NOW.toISOString() },
    });
    expect(published).toEqual({
      cancelled: false,
      reason: 'post p2 was already published (https://x.com/i/web/status/7): nothing changed',
    });
    expect((await posts.get('demo', 'p2'))?.status).toBe('published');
  });
});
