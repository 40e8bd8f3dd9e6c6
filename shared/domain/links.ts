/**
 * X/Twitter status links as people and relay bots post them: twitter.com or
 * x.com, with www./mobile. prefixes, tracking queries, and punctuation glued on.
 */
const X_STATUS =
  /https?:\/\/(?:www\.|mobile\.)?(?:twitter|x)\.com\/(\w{1,15})\/status(?:es)?\/(\d{1,20})\S*/gi;
const ANY_URL = /https?:\/\/[^\s<>"']+/gi;
/** Characters that end a sentence or wrap a link in chat, never part of the URL itself. */
const TRAILING = /[)\]}>.,;:!?'"*_~|]+$/;

export interface XStatusLink {
  handle: string;
  statusId: string;
  /** Canonical form: https://x.com/<handle>/status/<id> */
  url: string;
}

export function extractXStatusLinks(text: string): XStatusLink[] {
  const links: XStatusLink[] = [];
  const seen = new Set<string>();
  for (const match of text.matchAll(X_STATUS)) {
    const handle = match[1];
    const statusId = match[2];
    if (!handle || !statusId || seen.has(statusId)) continue;
    seen.add(statusId);
    links.push({ handle, statusId, url: `https://x.com/${handle}/status/${statusId}` });
  }
  return links;
}

/** Every http(s) link in the text, trailing punctuation stripped. */
export function extractUrls(text: string): string[] {
  const urls: string[] = [];
  for (const match of text.matchAll(ANY_URL)) {
    const url = match[0].replace(TRAILING, '');
    if (url.length > 'https://'.length && !urls.includes(url)) urls.push(url);
  }
  return urls;
}
