import twitterText from 'twitter-text';
import { describe, expect, it } from 'vitest';
import {
  comparableText,
  fitSinglePost,
  splitIntoThread,
  weightedLength,
} from '../../shared/domain/tweet-length';

const { parseTweet } = twitterText;

describe('weightedLength', () => {
  it.each([
    ['hello', 5],
    ['https://example.com/a/very/long/path/that/would/be/long', 23],
    ['see https://x.com/a/status/1 now', 4 + 23 + 4],
    // A bare domain is a URL to X: 23, whatever its length.
    ['acme.xyz', 23],
    ['visit acme.xyz.', 6 + 23 + 1],
    // Trailing punctuation is not part of the URL.
    ['https://x.com/a,', 23 + 1],
    ['日本語', 6],
    ['🚀', 2],
    ['👩‍👩‍👧', 2],
    ['🇫🇷', 2],
    ['1️⃣', 2],
    ['café', 4],
    // NFD "e + combining acute" counts as the single NFC character.
    ['cafe\u0301', 4],
  ])('%s weighs %i', (text, weight) => {
    // Act + Assess
    expect(weightedLength(text)).toBe(weight);
  });
});

describe('splitIntoThread', () => {
  it('keeps a short draft as one part', () => {
    // Act + Assess
    expect(splitIntoThread('short draft')).toEqual(['short draft']);
  });

  it('splits a long draft into numbered parts that each are valid posts', () => {
    // Prepare
    const lines = Array.from(
      { length: 12 },
      (_, i) => `${i + 1}. Project ${i} ships something https://x.com/p${i}/status/${1000 + i} 🚀`,
    );

    // Act
    const parts = splitIntoThread(lines.join('\n'));

    // Assess
    expect(parts.length).toBeGreaterThan(1);
    for (const [i, part] of parts.entries()) {
      expect(parseTweet(part).valid).toBe(true);
      expect(part.endsWith(` ${i + 1}/${parts.length}`)).toBe(true);
    }
    // Nothing is lost: every line's URL is in some part.
    for (let i = 0; i < 12; i++) expect(parts.join('\n')).toContain(`/status/${1000 + i}`);
  });

  it('splits a single overlong line by words and CJK text by characters', () => {
    // Act
    const words = splitIntoThread('word '.repeat(200));
    const cjk = splitIntoThread('字'.repeat(400));

    // Assess
    for (const part of [...words, ...cjk]) expect(parseTweet(part).valid).toBe(true);
    expect(cjk.join('').replace(/ \d+\/\d+/g, '')).toBe('字'.repeat(400));
  });

  it('caps the thread at maxParts by dropping whole items from the end', () => {
    // Prepare
    const items = Array.from(
      { length: 20 },
      (_, i) =>
        `${i + 1}. Project number ${i + 1} announced a thing worth reading about today, with a long sentence that explains it.`,
    );

    // Act
    const parts = splitIntoThread(items.join('\n'), { maxParts: 3 });

    // Assess
    expect(parts).toHaveLength(3);
    const kept = parts.map((p) => p.replace(/ \d+\/\d+$/, '')).join('\n');
    const keptItems = kept.split('\n');
    // Every kept line is a whole item, in order, from the first on.
    expect(keptItems).toEqual(items.slice(0, keptItems.length));
    expect(keptItems.length).toBeLessThan(items.length);
  });

  it('cuts a single item too long for the whole thread at a word, marked with an ellipsis', () => {
    // Act
    const parts = splitIntoThread(`${'word '.repeat(400)}acme.xyz`, { maxParts: 2 });

    // Assess
    expect(parts).toHaveLength(2);
    for (const part of parts) expect(parseTweet(part).valid).toBe(true);
    expect(parts[1]).toMatch(/word… 2\/2$/);
  });

  it('defaults to no cap, and a one-part draft is never numbered', () => {
    // Prepare
    const items = Array.from({ length: 30 }, (_, i) => `${i}. ${'item text '.repeat(8)}`);

    // Act
    const uncapped = splitIntoThread(items.join('\n'));

    // Assess
    expect(uncapped.length).toBeGreaterThan(6);
    expect(splitIntoThread('one small item', { maxParts: 1 })).toEqual(['one small item']);
  });
});

/** Deterministic PRNG (mulberry32): the same drafts on every run. */
function mulberry32(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  'alpha',
  'launches',
  'the',
  'protocol',
  '日本語のテキスト',
  '中文项目发布',
  '한국어',
  'שלום עולם',
  'مرحبا بالعالم',
  '👩‍👩‍👧',
  '🏳️‍🌈',
  '🇯🇵',
  '🇺🇸',
  '1️⃣',
  '#️⃣',
  '🚀',
  'acme.xyz',
  'acme.xyz.',
  'https://x.com/someone/status/1234567890123456789',
  'http://example.com/path?q=1&b=2',
  'www.example.org/a/b',
  'cafe\u0301',
  'Ünïcödé',
  '—',
  '…',
  '(see example.com)',
  '@handle',
  '$TOKEN',
];

function generatedDraft(random: () => number): string {
  const lines: string[] = [];
  const lineCount = 1 + Math.floor(random() * 9);
  for (let l = 0; l < lineCount; l++) {
    const words: string[] = [];
    const wordCount = 1 + Math.floor(random() * 28);
    for (let w = 0; w < wordCount; w++) {
      const roll = random();
      if (roll < 0.03) words.push('x'.repeat(50 + Math.floor(random() * 300)));
      else if (roll < 0.05) words.push('字'.repeat(20 + Math.floor(random() * 150)));
      else if (roll < 0.06) words.push('😀'.repeat(20 + Math.floor(random() * 150)));
      else words.push(PIECES[Math.floor(random() * PIECES.length)] ?? '');
    }
    // Long runs of glued domains make twitter-text's URL pattern backtrack for seconds: drafts never hold them.
    lines.push(words.join(random() < 0.1 ? '\u00a0' : ' '));
  }
  return lines.join('\n');
}

describe('every part is a valid post, over generated drafts', () => {
  it('threads (capped and not) and single posts from 2,000 drafts', () => {
    // Prepare
    const random = mulberry32(20261124);
    const invalid: string[] = [];

    // Act
    for (let i = 0; i < 2000; i++) {
      const draft = generatedDraft(random);
      const capped = splitIntoThread(draft, { maxParts: 6 });
      const parts = [...capped, fitSinglePost(draft)];
      if (capped.length > 6) invalid.push(`more than 6 parts: ${capped.length}`);
      for (const part of parts) if (!parseTweet(part).valid) invalid.push(part);
    }

    // Assess
    expect(invalid).toEqual([]);
  }, 180_000);
});

describe('fitSinglePost', () => {
  it('cuts at a word boundary with an ellipsis and never splits a URL', () => {
    // Prepare
    const text = `${'alpha '.repeat(50)}https://x.com/a/status/1`;

    // Act
    const post = fitSinglePost(text);

    // Assess
    expect(parseTweet(post).valid).toBe(true);
    expect(post.endsWith('alpha…')).toBe(true);
  });
});

describe('comparableText', () => {
  it('treats every link X would rewrite to t.co, with or without a scheme, as the same', () => {
    // Act + Assess
    expect(comparableText('🚀 new: acme.xyz and https://x.com/a/status/1')).toBe(
      comparableText('🚀 new: https://t.co/abc and https://t.co/def'),
    );
    expect(comparableText('one')).not.toBe(comparableText('two'));
  });
});
