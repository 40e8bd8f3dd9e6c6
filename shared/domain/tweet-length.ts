/**
 * X counts characters by weight (twitter-text v3): most Latin, Greek, Cyrillic
 * and punctuation weigh 1, CJK and emoji 2, and every URL 23 whatever its length.
 */
export const MAX_POST_LENGTH = 280;
const URL_LENGTH = 23;
const URL = /https?:\/\/\S+/g;
const LIGHT_RANGES: readonly (readonly [number, number])[] = [
  [0, 4351],
  [8192, 8205],
  [8208, 8223],
  [8242, 8247],
];
const EMOJI = /\p{Extended_Pictographic}/u;
const segmenter = new Intl.Segmenter('en', { granularity: 'grapheme' });

function textWeight(text: string): number {
  let total = 0;
  for (const { segment } of segmenter.segment(text)) {
    if (EMOJI.test(segment)) {
      total += 2;
      continue;
    }
    for (const char of segment) {
      const code = char.codePointAt(0) ?? 0;
      total += LIGHT_RANGES.some(([lo, hi]) => code >= lo && code <= hi) ? 1 : 2;
    }
  }
  return total;
}

export function weightedLength(text: string): number {
  let total = 0;
  let last = 0;
  for (const match of text.matchAll(URL)) {
    total += textWeight(text.slice(last, match.index)) + URL_LENGTH;
    last = match.index + match[0].length;
  }
  return total + textWeight(text.slice(last));
}

/** Cut a single word that alone exceeds the limit (never a URL: it weighs 23). */
function hardCut(word: string, max: number): string[] {
  const pieces: string[] = [];
  let current = '';
  for (const { segment } of segmenter.segment(word)) {
    if (weightedLength(current + segment) > max) {
      pieces.push(current);
      current = '';
    }
    current += segment;
  }
  if (current) pieces.push(current);
  return pieces;
}

/** Greedily pack lines (and, where a line is too long, words) into chunks of at most `max`. */
function pack(text: string, max: number): string[] {
  const chunks: string[] = [];
  let current = '';
  const push = () => {
    if (current.trim()) chunks.push(current.trim());
    current = '';
  };
  for (const line of text.split('\n')) {
    const candidate = current ? `${current}\n${line}` : line;
    if (weightedLength(candidate) <= max) {
      current = candidate;
      continue;
    }
    push();
    if (weightedLength(line) <= max) {
      current = line;
      continue;
    }
    for (const word of line.split(/\s+/).filter(Boolean)) {
      const next = current ? `${current} ${word}` : word;
      if (weightedLength(next) <= max) {
        current = next;
        continue;
      }
      push();
      if (weightedLength(word) <= max) current = word;
      else {
        const pieces = hardCut(word, max);
        current = pieces.pop() ?? '';
        chunks.push(...pieces);
      }
    }
  }
  push();
  return chunks;
}

/**
 * Split a draft into thread parts that each fit one post. Parts of a longer
 * thread end with " i/n" so readers know there is more.
 */
export function splitIntoThread(text: string, max = MAX_POST_LENGTH): string[] {
  const trimmed = text.trim();
  if (weightedLength(trimmed) <= max) return trimmed ? [trimmed] : [];
  // Reserve room for the " i/n" counter, enough for up to 99 parts.
  const parts = pack(trimmed, max - 6);
  return parts.map((part, i) => `${part} ${i + 1}/${parts.length}`);
}

/** Fit a draft into one post: cut at a word boundary and mark the cut with an ellipsis. */
export function fitSinglePost(text: string, max = MAX_POST_LENGTH): string {
  const trimmed = text.trim();
  if (weightedLength(trimmed) <= max) return trimmed;
  const first = pack(trimmed, max - 1)[0] ?? '';
  return `${first}…`;
}

/**
 * Whether a post on the account is the one we sent: X rewrites links to t.co
 * and may fold whitespace, so both are neutralised before comparing.
 */
export const comparableText = (text: string) =>
  text
    .replace(/https?:\/\/\S+/g, '<url>')
    .replace(/\s+/g, ' ')
    .trim();
