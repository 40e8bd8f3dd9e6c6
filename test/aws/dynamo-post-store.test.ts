import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedAws, startEmbeddedAws } from '../../infra/local/embedded-aws';
import { createDynamoDocumentClient } from '../../shared/adapters/aws-clients';
import { createScheduledPostStore } from '../../shared/adapters/dynamo-post-store';
import type { ScheduledPost, ScheduledPostStore } from '../../shared/ports';

const post = (postId: string, at: string, overrides: Partial<ScheduledPost> = {}): ScheduledPost => ({
  pipelineId: 'demo',
  postId,
  platform: 'x',
  parts: ['Friday 18:00: the week in one post'],
  localAt: '2026-11-27 18:00',
  timeZone: 'Europe/Berlin',
  at,
  status: 'pending',
  createdAt: '2026-11-24T08:00:00.000Z',
  source: 'text',
  ...overrides,
});

describe('one-off posts on embedded dynalite', () => {
  let aws: EmbeddedAws;
  let store: ScheduledPostStore;

  beforeAll(async () => {
    aws = await startEmbeddedAws({});
    store = createScheduledPostStore({ client: createDynamoDocumentClient(aws.env), tableName: aws.table });
  });
  afterAll(async () => {
    await aws?.close();
  });

  it('stores a post once and lists by time, optionally by status', async () => {
    // Prepare
    await store.create(post('b', '2026-11-28T17:00:00.000Z'));
    await store.create(post('a', '2026-11-27T17:00:00.000Z'));

    // Act
    const again = await store.create(post('a', '2026-11-27T17:00:00.000Z')).catch((error: Error) => error);
    const all = await store.list('demo');

    // Assess
    expect(again).toBeInstanceOf(Error);
    expect((again as Error).message).toBe('post a already exists');
    expect(all.map((p) => p.postId)).toEqual(['a', 'b']);
    expect(await store.list('demo', ['published'])).toEqual([]);
  });

  it('lets one firing claim a pending post; a second claim, or a cancel after it, changes nothing', async () => {
    // Prepare
    await store.create(post('c', '2026-11-29T17:00:00.000Z'));

    // Act
    const [first, second] = await Promise.all([
      store.transition('demo', 'c', 'pending', 'publishing'),
      store.transition('demo', 'c', 'pending', 'publishing'),
    ]);
    const cancel = await store.transition('demo', 'c', 'pending', 'cancelled');
    const done = await store.transition('demo', 'c', 'publishing', 'published', {
      postUrl: 'https://x.com/digest/status/1',
      publishedAt: '2026-11-29T17:00:03.000Z',
    });

    // Assess
    expect([first, second].filter(Boolean)).toHaveLength(1);
    expect(cancel).toBeUndefined();
    expect(done).toMatchObject({ status: 'published', postUrl: 'https://x.com/digest/status/1' });
  });
});
