import { describe, expect, it } from 'vitest';
import { extractUrls, extractXStatusLinks } from '../../shared/domain/links';

describe('extractXStatusLinks', () => {
  it.each([
    ['https://twitter.com/alice/status/1790000000000000001', 'alice'],
    ['https://x.com/alice/status/1790000000000000001', 'alice'],
    ['http://www.twitter.com/alice/status/1790000000000000001', 'alice'],
    ['https://mobile.twitter.com/alice/status/1790000000000000001?s=20', 'alice'],
    ['https://mobile.x.com/alice/statuses/1790000000000000001', 'alice'],
    ['see (https://x.com/alice/status/1790000000000000001).', 'alice'],
    ['<https://x.com/alice/status/1790000000000000001>', 'alice'],
    ['wow https://x.com/alice/status/1790000000000000001!', 'alice'],
  ])('finds the status in %s', (text, handle) => {
    // Act
    const links = extractXStatusLinks(text);

    // Assess
    expect(links).toEqual([
      { handle, statusId: '1790000000000000001', url: `https://x.com/${handle}/status/1790000000000000001` },
    ]);
  });

  it('ignores profiles, other sites and look-alike domains', () => {
    // Act
    const links = extractXStatusLinks(
      'https://x.com/alice https://youtube.com/watch?v=1 https://notx.com/a/status/1 https://github.com/a/b',
    );

    // Assess
    expect(links).toEqual([]);
  });

  it('lists each status once, in order', () => {
    // Act
    const links = extractXStatusLinks(
      'https://x.com/a/status/2 https://twitter.com/b/status/3 https://x.com/a/status/2',
    );

    // Assess
    expect(links.map((l) => l.statusId)).toEqual(['2', '3']);
  });
});

describe('extractUrls', () => {
  it('strips punctuation that chat glues to a link', () => {
    // Act
    const urls = extractUrls('look (https://github.com/org/repo), and https://example.com/x?y=1.');

    // Assess
    expect(urls).toEqual(['https://github.com/org/repo', 'https://example.com/x?y=1']);
  });
});
