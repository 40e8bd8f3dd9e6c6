import { describe, expect, it } from 'vitest';
import { componentText, contentVisibility, messageToPost } from '../../shared/domain/discord-message';

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

  it('reads a forwarded message from its snapshot, links in its embeds too', () => {
    // Prepare
    const forward = (inner: object) => ({
      ...base,
      content: '',
      message_reference: { type: 1, channel_id: '1200000000000000009', message_id: '1299999999999999999' },
      message_snapshots: [{ message: { type: 0, timestamp: base.timestamp, flags: 0, ...inner } }],
    });

    // Act
    const inText = messageToPost(
      forward({ content: 'launch https://fxtwitter.com/acme/status/777', embeds: [] }),
      'x',
    );
    const inEmbed = messageToPost(
      forward({
        content: '',
        embeds: [
          { url: 'https://x.com/nova/status/888', description: 'Nova mainnet', author: { name: 'Nova' } },
        ],
      }),
      'x',
    );

    // Assess
    expect(inText.kind === 'kept' && inText.post).toMatchObject({
      postLink: 'https://x.com/acme/status/777',
      content: 'launch https://fxtwitter.com/acme/status/777',
      author: '@acme',
    });
    expect(inEmbed.kind === 'kept' && inEmbed.post).toMatchObject({
      postLink: 'https://x.com/nova/status/888',
      content: 'Nova mainnet',
      author: 'Nova',
    });
  });

  it('reads a components-only message from its text displays, and one without a link is no-link, not malformed', () => {
    // Prepare
    const v2 = (components: unknown[]) => ({ ...base, content: '', flags: 1 << 15, components });
    const container = {
      type: 17,
      components: [
        { type: 10, content: '## Weekly picks' },
        {
          type: 9,
          components: [{ type: 10, content: 'See https://x.com/i/web/status/999' }],
          accessory: { type: 11 },
        },
      ],
    };

    // Act
    const kept = messageToPost(v2([container]), 'x');
    const plain = messageToPost(v2([{ type: 17, components: [{ type: 14 }] }]), 'x');

    // Assess
    expect(kept.kind === 'kept' && kept.post.postLink).toBe('https://x.com/i/status/999');
    expect(plain).toEqual({ kind: 'no-link', messageId: base.id });
  });

  it('names the handle and author of an x.com/i/ link from the embed of the same post, or leaves them out', () => {
    // Prepare
    const link = 'https://x.com/i/status/4242';
    const embed = {
      url: 'https://x.com/acme/status/4242',
      author: { name: 'Acme (@acme)', url: 'https://x.com/acme' },
    };

    // Act
    const named = messageToPost({ ...base, content: link, embeds: [embed] }, 'x');
    const unnamed = messageToPost({ ...base, content: link }, 'x');

    // Assess
    expect(named.kind === 'kept' && named.post).toMatchObject({
      author: 'Acme (@acme)',
      authorLink: 'https://x.com/acme',
      postLink: 'https://x.com/acme/status/4242',
    });
    expect(unnamed.kind === 'kept' && unnamed.post).toMatchObject({
      author: '',
      authorLink: '',
      postLink: link,
    });
  });
});

describe('componentText', () => {
  it('collects text displays at any depth and link-button urls', () => {
    // Act
    const text = componentText([
      {
        type: 1,
        components: [
          { type: 2, style: 5, url: 'https://x.com/a/status/1' },
          { type: 2, style: 1 },
        ],
      },
      { type: 17, components: [{ type: 9, components: [{ type: 10, content: 'deep' }] }] },
    ]);

    // Assess
    expect(text).toBe('https://x.com/a/status/1\ndeep');
  });
});

describe('contentVisibility', () => {
  it.each([
    ['text', { ...base, content: 'hi' }, 'readable'],
    ['an embed only', { ...base, content: '', embeds: [{ url: 'https://x.com' }] }, 'readable'],
    ['an attachment only', { ...base, content: '', attachments: [{ id: '1' }] }, 'readable'],
    ['a sticker only', { ...base, content: '', sticker_items: [{ id: '1' }] }, 'readable'],
    ['components only', { ...base, content: '', components: [{ type: 17, components: [] }] }, 'readable'],
    [
      'a forward with text',
      { ...base, content: '', message_snapshots: [{ message: { content: 'x' } }] },
      'readable',
    ],
    ['nothing at all', { ...base, content: '' }, 'blank'],
    [
      'a blanked forward',
      { ...base, content: '', message_snapshots: [{ message: { content: '', embeds: [] } }] },
      'blank',
    ],
    ['a join message', { ...base, type: 7, content: '' }, 'unknown'],
    ['garbage', 'hello', 'unknown'],
  ])('a message with %s is %s', (_label, raw, expected) => {
    // Act + Assess
    expect(contentVisibility(raw)).toBe(expected);
  });
});
