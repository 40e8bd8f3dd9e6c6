/**
 * X/Twitter status links as people and relay bots post them: twitter.com or
 * x.com, with www./mobile. prefixes, tracking queries, and punctuation glued on;
 * the handle-less forms x.com/i/status/<id> and x.com/i/web/status/<id>; and
 * the embed-fixer domains communities use so Discord shows a better preview.
 * A link wrapped in <…> (Discord's way to suppress its embed) is matched too:
 * the pattern starts at `http`, so the brackets are never part of it.
 */
const X_HOSTS = [
  'twitter.com',
  'x.com',
  // FxEmbed (FixTweet/FixupX): STANDARD_DOMAIN_LIST and its one-letter realms
  // (d., dl., t., i., u., g., m., o.) in FxEmbed/FxEmbed wrangler.toml.example.
  'fxtwitter.com',
  'fixupx.com',
  'twittpr.com',
  // BetterTwitFix (vxTwitter), github.com/dylanpdx/BetterTwitFix: vxtwitter.com and fixvx.com.
  'vxtwitter.com',
  'fixvx.com',
];
const HOST = X_HOSTS.map((h) => h.replace('.', '\\.')).join('|');
/** Any subdomain (www., mobile., d., g., …) of one of the hosts; never a look-alike such as notx.com. */
const X_STATUS = new RegExp(
  `https?:\\/\\/(?:[a-z0-9-]+\\.)?(?:${HOST})\\/(?:i\\/web|i|(\\w{1,15}))\\/status(?:es)?\\/(\\d{1,20})\\S*`,
  'gi',
);
const ANY_URL = /https?:\/\/[^\s<>"']+/gi;
/** Characters that end a sentence or wrap a link in chat, never part of the URL itself. */
const TRAILING = /[)\]}>.,;:!?'"*_~|]+$/;

export interface XStatusLink {
  /** The author's handle, or `i` when the link does not name one (x.com/i/status/<id>). */
  handle: string;
  statusId: string;
  /** Canonical form: https://x.com/<handle>/status/<id> */
  url: string;
}

export function extractXStatusLinks(text: string): XStatusLink[] {
  const links: XStatusLink[] = [];
  const seen = new Set<string>();
  for (const match of text.matchAll(X_STATUS)) {
    const handle = match[1] ?? 'i';
    const statusId = match[2];
    // One entry per status id: the same post under two spellings is one post.
    if (!statusId || seen.has(statusId)) continue;
    seen.add(statusId);
    links.push({ handle, statusId, url: `https://x.com/${handle}/status/${statusId}` });
  }
  return links;
}

/** True when the link names no author (x.com/i/status/<id>): the handle must come from elsewhere. */
export const isAnonymousLink = (link: XStatusLink) => link.handle === 'i';

/** Every http(s) link in the text, trailing punctuation stripped. */
export function extractUrls(text: string): string[] {
  const urls: string[] = [];
  for (const match of text.matchAll(ANY_URL)) {
    const url = match[0].replace(TRAILING, '');
    if (url.length > 'https://'.length && !urls.includes(url)) urls.push(url);
  }
  return urls;
}
