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
    ['https://fxtwitter.com/alice/status/1790000000000000001', 'alice'],
    ['https://d.fxtwitter.com/alice/status/1790000000000000001.mp4', 'alice'],
    ['https://g.fixupx.com/alice/status/1790000000000000001/photo/1', 'alice'],
    ['https://fixupx.com/alice/status/1790000000000000001/en', 'alice'],
    ['https://twittpr.com/alice/status/1790000000000000001', 'alice'],
    ['https://vxtwitter.com/alice/status/1790000000000000001', 'alice'],
    ['https://fixvx.com/alice/status/1790000000000000001?s=46', 'alice'],
    ['<https://vxtwitter.com/alice/status/1790000000000000001>', 'alice'],
    ['https://x.com/i/status/1790000000000000001', 'i'],
    ['https://x.com/i/web/status/1790000000000000001', 'i'],
    ['https://twitter.com/i/web/status/1790000000000000001?s=20', 'i'],
    ['<https://x.com/i/web/status/1790000000000000001>,', 'i'],
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
      'https://x.com/alice https://youtube.com/watch?v=1 https://notx.com/a/status/1 https://github.com/a/b ' +
        'https://notfxtwitter.com/a/status/1 https://x.com.evil.example/a/status/1',
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

  it('dedupes by status id whatever the spelling, keeping the first', () => {
    // Act
    const links = extractXStatusLinks(
      'https://fxtwitter.com/a/status/7 https://x.com/i/web/status/7 <https://vxtwitter.com/A/status/7>',
    );

    // Assess
    expect(links).toEqual([{ handle: 'a', statusId: '7', url: 'https://x.com/a/status/7' }]);
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
