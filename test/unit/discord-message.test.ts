import { describe, expect, it } from 'vitest';
import { messageToPost } from '../../shared/domain/discord-message';

const base = {
  id: '1300000000000000001',
  channel_id: '1200000000000000000',
  type: 0,
  timestamp: '2026-11-23T10:15:30.000+00:00',
  author: { id: '42', username: 'alice', global_name: 'Alice', bot: false },
  embeds: [],
  attachments: [],
};

describe('messageToPost', () => {
  it('keeps a human message with a status link, author from the link', () => {
    // Act
    const verdict = messageToPost(
      { ...base, content: 'big news https://twitter.com/acme/status/123456789?s=20).' },
      'x',
    );

    // Assess
    expect(verdict).toEqual({
      kind: 'kept',
      post: {
        messageId: '1300000000000000001',
        date: '2026-11-23',
        time: '10:15:30',
        content: 'big news https://twitter.com/acme/status/123456789?s=20).',
        postLink: 'https://x.com/acme/status/123456789',
        author: '@acme',
        authorLink: 'https://x.com/acme',
      },
    });
  });

  it('takes text and author from the embed of a relay bot', () => {
    // Prepare
    const relay = {
      ...base,
      content: '',
      author: { id: '7', username: 'TweetShift', global_name: null, bot: true },
      embeds: [
        {
          url: 'https://x.com/acme/status/555',
          title: 'Acme (@acme)',
          description: 'Introducing Acme v2,\nwith "quotes"',
          author: { name: 'Acme (@acme)', url: 'https://x.com/acme' },
        },
      ],
    };

    // Act
    const verdict = messageToPost(relay, 'x');

    // Assess
    expect(verdict.kind).toBe('kept');
    if (verdict.kind !== 'kept') return;
    expect(verdict.post.content).toBe('Introducing Acme v2, with "quotes"');
    expect(verdict.post.postLink).toBe('https://x.com/acme/status/555');
    expect(verdict.post.author).toBe('Acme (@acme)');
  });

  it('drops messages without an X link under the x filter, keeps them under any', () => {
    // Prepare
    const message = { ...base, content: 'repo: https://github.com/acme/app.' };

    // Act
    const strict = messageToPost(message, 'x');
    const loose = messageToPost(message, 'any');

    // Assess
    expect(strict).toEqual({ kind: 'no-link', messageId: base.id });
    expect(loose.kind === 'kept' && loose.post.postLink).toBe('https://github.com/acme/app');
  });

  it.each([
    ['missing author', { ...base, content: 'x', author: undefined }],
    ['id not a snowflake', { ...base, id: 'abc', content: 'x' }],
    ['garbage timestamp', { ...base, timestamp: 'yesterday', content: 'x' }],
    ['content not a string', { ...base, content: 42 }],
    ['not an object', 'hello'],
  ])('reports %s as malformed', (_label, raw) => {
    // Act
    const verdict = messageToPost(raw, 'x');

    // Assess
    expect(verdict.kind).toBe('malformed');
  });
});
