import { describe, expect, it } from 'vitest';
import {
  DISCORD_LIMITS,
  escapeDiscordMarkdown,
  escapeHtml,
  escapeMarkdown,
  renderDiscordEmbeds,
  renderDiscordMessages,
  renderEmail,
  renderMarkdownFile,
  splitLines,
} from '../../shared/domain/digest-render';
import type { DigestMessage } from '../../shared/ports';

const digest = (overrides: Partial<DigestMessage> = {}): DigestMessage => ({
  pipelineId: 'demo',
  runId: '2026-11-24T08-00',
  title: 'AI digest — 24 Nov',
  parts: ['First item https://x.com/a_b/status/1', 'Second item'],
  links: ['https://x.com/a_b/status/1', 'https://x.com/c/status/2'],
  createdAt: '2026-11-24T08:05:00.000Z',
  ...overrides,
});

/** A part of `length` characters, made of words, numbered so each is recognisable. */
const longPart = (n: number, length: number) => {
  const words: string[] = [`Part${n}:`];
  while (words.join(' ').length < length) words.push(`word${n}`);
  return words.join(' ').slice(0, length).trim();
};

describe('splitLines', () => {
  it('packs whole lines into chunks within the limit and keeps every line intact', () => {
    // Prepare
    const lines = Array.from({ length: 40 }, (_, i) => `line ${i} ${'x'.repeat(20 + (i % 7) * 9)}`);

    // Act
    const chunks = splitLines(lines.join('\n'), 200);

    // Assess
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) expect(chunk.length).toBeLessThanOrEqual(200);
    expect(chunks.flatMap((c) => c.split('\n'))).toEqual(lines);
  });

  it('cuts a line longer than the limit at a space, and never inside an emoji', () => {
    // Prepare
    const words = `${'alpha '.repeat(30)}end`;
    const emojis = '😀'.repeat(15);

    // Act
    const byWords = splitLines(words, 50);
    const byEmoji = splitLines(emojis, 7);

    // Assess
    for (const chunk of byWords) {
      expect(chunk.length).toBeLessThanOrEqual(50);
      expect(chunk.split(' ').every((w) => w === 'alpha' || w === 'end' || w === '')).toBe(true);
    }
    expect(byWords.join(' ').replace(/\s+/g, ' ').trim()).toBe(words.replace(/\s+/g, ' ').trim());
    expect(byEmoji.join('')).toBe(emojis);
    for (const chunk of byEmoji) expect(chunk).toMatch(/^(😀)+$/u);
  });

  it('drops blank lines where it cuts, and refuses a limit below 1', () => {
    // Act
    const chunks = splitLines('aaaa\n\nbbbb\n\ncccc', 9);

    // Assess
    expect(chunks).toEqual(['aaaa\n', 'bbbb\n', 'cccc'].map((c) => c.trim()));
    expect(() => splitLines('x', 0)).toThrow(RangeError);
  });
});

describe('Discord escaping', () => {
  it('makes formatting, mentions and masked links literal, and keeps links whole', () => {
    // Prepare
    const text = '**bold** _it_ ~~gone~~ ||spoiler|| `code` [click](https://evil.example) <@123> a\\b';

    // Act
    const escaped = escapeDiscordMarkdown(text);

    // Assess
    expect(escaped).toBe(
      '\\*\\*bold\\*\\* \\_it\\_ \\~\\~gone\\~\\~ \\|\\|spoiler\\|\\| \\`code\\` \\[click\\](https://evil.example) \\<@123\\> a\\\\b',
    );
  });

  it('escapes headings, subtext, quotes and lists at the start of a line only', () => {
    // Act
    const escaped = escapeDiscordMarkdown('# big\n-# small\n> quoted\n- item\n1. first\nnot # a heading');

    // Assess
    expect(escaped).toBe('\\# big\n\\-# small\n\\> quoted\n\\- item\n1\\. first\nnot # a heading');
  });

  it('renders a digest with links unescaped in <…> and no mention able to ping', () => {
    // Prepare
    const message = digest({ parts: ['@everyone look at https://x.com/a_b/status/1.', '*not bold*'] });

    // Act
    const [payload] = renderDiscordMessages(message);

    // Assess
    expect(payload?.allowed_mentions).toEqual({ parse: [] });
    expect(payload?.content).toContain('<https://x.com/a_b/status/1>.');
    expect(payload?.content).toContain('\\*not bold\\*');
    expect(payload?.content?.startsWith('**AI digest — 24 Nov**')).toBe(true);
    expect(payload?.content).toContain('- <https://x.com/c/status/2>');
  });
});

describe('Discord splitting', () => {
  it('splits a long digest into messages of at most 2000 characters, each part whole in one message', () => {
    // Prepare
    const parts = Array.from({ length: 30 }, (_, i) => longPart(i, 280));

    // Act
    const payloads = renderDiscordMessages(digest({ parts }));

    // Assess
    expect(payloads.length).toBeGreaterThanOrEqual(5);
    for (const p of payloads) {
      expect(p.content?.length).toBeLessThanOrEqual(DISCORD_LIMITS.content);
      expect(p.allowed_mentions).toEqual({ parse: [] });
    }
    for (const part of parts) {
      expect(payloads.filter((p) => p.content?.includes(escapeDiscordMarkdown(part))).length).toBe(1);
    }
  });

  it('packs embeds within 4096 per description, 10 per message and 6000 per message in all', () => {
    // Prepare
    const parts = Array.from({ length: 120 }, (_, i) => longPart(i, 270));
    const title = 'T'.repeat(400);

    // Act
    const payloads = renderDiscordEmbeds(digest({ parts, title }));

    // Assess
    expect(payloads.length).toBeGreaterThan(1);
    const embeds = payloads.flatMap((p) => p.embeds ?? []);
    expect(embeds[0]?.title?.length).toBeLessThanOrEqual(DISCORD_LIMITS.embedTitle);
    for (const p of payloads) {
      const list = p.embeds ?? [];
      expect(list.length).toBeLessThanOrEqual(DISCORD_LIMITS.embedsPerMessage);
      const total = list.reduce((sum, e) => sum + (e.title?.length ?? 0) + e.description.length, 0);
      expect(total).toBeLessThanOrEqual(DISCORD_LIMITS.embedTotal);
      for (const e of list) expect(e.description.length).toBeLessThanOrEqual(DISCORD_LIMITS.embedDescription);
    }
    const all = embeds.map((e) => e.description).join('\n');
    for (const part of parts) expect(all).toContain(escapeDiscordMarkdown(part));
  });
});

describe('email', () => {
  it('escapes everything in the HTML, links only http(s), one-line subject, the text as written', () => {
    // Prepare
    const message = digest({
      title: 'Digest <b>\r\nBcc: victim@example.com',
      parts: ['<script>alert("x")</script> & \'quotes\' https://x.com/a?b=1&c=<2>'],
      links: ['javascript:alert(1)', 'https://x.com/ok/status/3?x="y"'],
    });

    // Act
    const email = renderEmail(message);

    // Assess
    expect(email.subject).toBe('Digest <b> Bcc: victim@example.com');
    expect(email.html).not.toMatch(/<script|<b>|javascript:/);
    expect(email.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quotes&#39;');
    expect(email.html).toContain(
      '<a href="https://x.com/a?b=1&amp;c=">https://x.com/a?b=1&amp;c=</a>&lt;2&gt;',
    );
    expect(email.html).toContain('<a href="https://x.com/ok/status/3?x=%22y%22">');
    expect(email.text).toContain('<script>alert("x")</script>');
    expect(email.text).not.toContain('javascript:');
    expect(escapeHtml(`<>&"'`)).toBe('&lt;&gt;&amp;&quot;&#39;');
  });
});

describe('markdown file', () => {
  it('escapes markdown and raw HTML in the text, keeps links as autolinks, renders the same bytes twice', () => {
    // Prepare
    const message = digest({
      parts: ['# not a heading\n<img src=x onerror=alert(1)> *x* https://x.com/a_b/status/1'],
    });

    // Act
    const first = renderMarkdownFile(message);
    const second = renderMarkdownFile(message);

    // Assess
    expect(first).toBe(second);
    expect(first).toContain(
      '\\# not a heading\n\\<img src=x onerror=alert(1)\\> \\*x\\* <https://x.com/a_b/status/1>',
    );
    expect(first.startsWith('# AI digest — 24 Nov\n')).toBe(true);
    expect(first).toContain('## Links\n\n- <https://x.com/a_b/status/1>\n- <https://x.com/c/status/2>');
    expect(escapeMarkdown('---')).toBe('\\---');
  });
});
