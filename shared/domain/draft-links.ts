/**
 * Anyone who can post in the channel can influence the model, so a draft may
 * carry only the links of posts collected in its own run: every other URL —
 * one Gemini invented, or one a member smuggled into a message's text — is
 * removed (and counted) before anything is published. URLs are found the way
 * X finds them (twitter-text's extractUrlsWithIndices: with or without a
 * scheme), so nothing X would turn into a link slips through.
 */
import twitter from 'twitter-text';
import { extractXStatusLinks } from './links';

/** How a URL is compared: X status links by status id, any other by host and path. */
export type CanonicalLink = (url: string) => string;

/** A plain URL's comparable form: lowercase host without www., path without a trailing slash, no fragment. */
export function comparableUrl(url: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `https://${url}`;
  try {
    const parsed = new URL(withScheme);
    const host = parsed.hostname.toLowerCase().replace(/^www\./, '');
    return `${host}${parsed.pathname.replace(/\/+$/, '')}${parsed.search}`;
  } catch {
    return url.toLowerCase();
  }
}

/**
 * The allow-list's comparison: an X/Twitter status by its id (x.com, twitter.com, the embed fixers,
 * with or without the handle or a scheme are one post), any other URL by `comparableUrl`.
 */
export function canonicalPostLink(url: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `https://${url}`;
  const status = extractXStatusLinks(withScheme)[0];
  return status ? `x-status:${status.statusId}` : comparableUrl(url);
}

/** Other destinations (Discord, email) link any `scheme://` text, even on a domain X does not know. */
const SCHEME_URL = /\b[a-z][a-z0-9+.-]*:\/\/[^\s<>()"']+[^\s<>()"'.,;:!?]/gi;

/** Every URL X would link, plus every scheme URL other renderers would, in text order, without overlaps. */
function urlsIn(text: string): { url: string; indices: [number, number] }[] {
  const found = twitter.extractUrlsWithIndices(text).map((u) => ({ url: u.url, indices: u.indices }));
  for (const match of text.matchAll(SCHEME_URL)) {
    const start = match.index ?? 0;
    const end = start + match[0].length;
    if (!found.some((u) => start < u.indices[1] && end > u.indices[0])) {
      found.push({ url: match[0], indices: [start, end] });
    }
  }
  return found.sort((a, b) => a.indices[0] - b.indices[0]);
}

export interface FilteredDraft {
  text: string;
  /** The URLs taken out, as they appeared. */
  removed: string[];
}

/** Remove every URL of `text` whose canonical form is not in `allowed` (canonical forms of the run's posts). */
export function keepOnlyCollectedLinks(
  text: string,
  allowed: ReadonlySet<string>,
  canonical: CanonicalLink = comparableUrl,
): FilteredDraft {
  const removed: string[] = [];
  let result = '';
  let cursor = 0;
  for (const { url, indices } of urlsIn(text)) {
    const [start, end] = indices;
    if (allowed.has(canonical(url))) continue;
    removed.push(url);
    result += text.slice(cursor, start);
    cursor = end;
  }
  result += text.slice(cursor);
  if (removed.length === 0) return { text, removed };
  // Tidy what the removal left: doubled spaces, a space before punctuation, empty brackets.
  const tidy = result
    .replace(/\(\s*\)|\[\s*\]|<\s*>/g, '')
    .replace(/[ \t]{2,}/g, ' ')
    .replace(/ +([,.;:!?)\]])/g, '$1')
    .replace(/([([]) +/g, '$1')
    .replace(/[ \t]+$/gm, '');
  return { text: tidy, removed };
}
