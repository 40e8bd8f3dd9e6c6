import { describe, expect, it } from 'vitest';
import { comparableUrl, keepOnlyCollectedLinks } from '../../shared/domain/draft-links';

const allowed = new Set(['x.com/acme_labs/status/1860000000000000001', 'github.com/acme/agent-sdk']);

describe('a draft keeps only the links of posts collected in its run', () => {
  it('keeps collected links in any spelling and removes every other URL, counting them', () => {
    // Act
    const result = keepOnlyCollectedLinks(
      [
        '1. @acme_labs ships v2 https://x.com/acme_labs/status/1860000000000000001',
        '2. Claim your airdrop at evil-airdrop.xyz now!',
        '3. SDK: https://www.github.com/acme/agent-sdk/ (docs http://phish.example/login)',
      ].join('\n'),
      allowed,
    );

    // Assess
    expect(result.removed).toEqual(['evil-airdrop.xyz', 'http://phish.example/login']);
    expect(result.text).toBe(
      [
        '1. @acme_labs ships v2 https://x.com/acme_labs/status/1860000000000000001',
        '2. Claim your airdrop at now!',
        '3. SDK: https://www.github.com/acme/agent-sdk/ (docs)',
      ].join('\n'),
    );
  });

  it('leaves a draft without foreign links untouched', () => {
    // Act
    const text = 'Nothing new today, see https://x.com/acme_labs/status/1860000000000000001.';

    // Assess
    expect(keepOnlyCollectedLinks(text, allowed)).toEqual({ text, removed: [] });
  });

  it('compares URLs by host and path, not by scheme, www. or a trailing slash', () => {
    // Assess
    expect(comparableUrl('HTTPS://WWW.GitHub.com/acme/agent-sdk/')).toBe('github.com/acme/agent-sdk');
    expect(comparableUrl('github.com/acme/agent-sdk#readme')).toBe('github.com/acme/agent-sdk');
  });
});
