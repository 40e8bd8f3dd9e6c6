import { describe, expect, it } from 'vitest';
import { fitSinglePost, splitIntoThread, weightedLength } from '../../shared/domain/tweet-length';

describe('weightedLength', () => {
  it.each([
    ['hello', 5],
    ['https://example.com/a/very/long/path/that/would/be/long', 23],
    ['see https://x.com/a/status/1 now', 4 + 23 + 4],
    ['日本語', 6],
    ['🚀', 2],
    ['👩‍👩‍👧', 2],
    ['café', 4],
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

  it('splits a long draft into numbered parts that each fit', () => {
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
      expect(weightedLength(part)).toBeLessThanOrEqual(280);
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
    for (const part of [...words, ...cjk]) expect(weightedLength(part)).toBeLessThanOrEqual(280);
    expect(cjk.join('').replace(/ \d+\/\d+/g, '')).toBe('字'.repeat(400));
  });
});

describe('fitSinglePost', () => {
  it('cuts at a word boundary with an ellipsis and never splits a URL', () => {
    // Prepare
    const text = `${'alpha '.repeat(50)}https://x.com/a/status/1`;

    // Act
    const post = fitSinglePost(text);

    // Assess
    expect(weightedLength(post)).toBeLessThanOrEqual(280);
    expect(post.endsWith('alpha…')).toBe(true);
  });
});
