import { describe, expect, it } from 'vitest';
import { csvToPosts, postsToCsv } from '../../shared/domain/csv';
import type { CollectedPost } from '../../shared/domain/post';
import { scheduledRunId } from '../../shared/domain/run-id';
import { msToSnowflake, snowflakeToMs } from '../../shared/domain/snowflake';
import { collectionWindow } from '../../shared/domain/window';

const now = new Date('2026-11-24T09:00:00.000Z');

describe('collectionWindow', () => {
  it('daily: the N days before the reference time', () => {
    // Act
    const window = collectionWindow({ mode: 'daily', days: 2 }, now, undefined);

    // Assess
    expect(window.from).toBe('2026-11-22T09:00:00.000Z');
    expect(snowflakeToMs(window.untilId)).toBe(now.getTime());
  });

  it('hours: the N hours before the reference time', () => {
    // Act + Assess
    expect(collectionWindow({ mode: 'hours', hours: 6 }, now, undefined).from).toBe(
      '2026-11-24T03:00:00.000Z',
    );
  });

  it('since_last: after the newest known message, or the initial lookback', () => {
    // Prepare
    const newest = msToSnowflake(Date.parse('2026-11-23T20:00:00Z'));

    // Act
    const known = collectionWindow({ mode: 'since_last', initialHours: 24 }, now, newest);
    const fresh = collectionWindow({ mode: 'since_last', initialHours: 24 }, now, undefined);

    // Assess
    expect(known.afterId).toBe(newest);
    expect(fresh.from).toBe('2026-11-23T09:00:00.000Z');
  });
});

describe('snowflakes', () => {
  it('round-trip a time', () => {
    // Act + Assess
    expect(snowflakeToMs(msToSnowflake(1_700_000_000_123))).toBe(1_700_000_000_123);
    expect(snowflakeToMs('175928847299117063')).toBe(1462015105796);
  });
});

describe('posts CSV', () => {
  it('round-trips commas, quotes, newlines and unicode', () => {
    // Prepare
    const posts: CollectedPost[] = [
      {
        messageId: '1',
        date: '2026-11-23',
        time: '10:00:00',
        content: 'a, "b"\nc 🚀 日本',
        postLink: 'https://x.com/a/status/1',
        author: 'A, Inc (@a)',
        authorLink: 'https://x.com/a',
      },
    ];

    // Act
    const csv = postsToCsv(posts);

    // Assess
    expect(csv.split('\n')[0]).toBe('message_id,date,time,content,post_link,author,author_link');
    expect(csvToPosts(csv)).toEqual(posts);
  });
});

describe('scheduledRunId', () => {
  it('is the same for every delivery of one firing', () => {
    // Act + Assess
    expect(scheduledRunId('morning', new Date('2026-11-24T08:00:00Z'))).toBe('morning-20261124T0800Z');
  });
});
