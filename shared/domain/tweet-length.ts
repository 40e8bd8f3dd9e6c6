import twitterText from 'twitter-text';

/**
 * Post length is what X's own library says (twitter/twitter-text, config v3):
 * any URL, with or without a scheme (`acme.xyz`), weighs 23, trailing
 * punctuation is not part of it, text is NFC-normalised, CJK and emoji weigh 2.
 * Counting ourselves drifted from X (bare domains, ZWJ sequences), so we don't.
 */
export const MAX_POST_LENGTH = 280;
/** Room kept for the " i/n" counter of a thread part (up to " 99/99"). */
const COUNTER_ROOM = 6;
const { parseTweet } = twitterText;
const segmenter = new Intl.Segmenter('en', { granularity: 'grapheme' });
// twitter-text refuses these outright (`hasInvalidCharacters`): U+FFFE, U+FEFF, U+FFFF.
const INVALID_CHARACTERS = /[\uFFFE\uFEFF\uFFFF]/g;

export function weightedLength(text: string): number {
  return parseTweet(text).weightedLength;
}

/** Whether X accepts `text` as one post: not empty, within the weight, no invalid character. */
export function isValidPost(text: string): boolean {
  return parseTweet(text).valid;
}

/** What the project posts: NFC (as X stores it), without the characters X refuses, trimmed. */
export function normalizeDraft(text: string): string {
  return text.normalize('NFC').replace(INVALID_CHARACTERS, '').trim();
}

/**
 * Whether `text` weighs at most `max`. X's parser costs more the longer the
 * text, so text far longer than any post (8 code units per weight unit even
 * leaves room for long URLs) is refused without parsing: at worst a part is
 * packed a little short, never too long.
 */
function fits(text: string, max: number): boolean {
  return text.length <= max * 8 && weightedLength(text) <= max;
}

/**
 * The largest k (0 when even the first unit is too long) such that the first
 * k `units` joined by `sep` weigh at most `max`: a galloping search, so the
 * texts parsed stay near the size of one post. Adding a unit never makes the
 * text lighter, so the search is sound.
 */
function longestFit(units: readonly string[], sep: string, max: number): number {
  const fitsFirst = (k: number) => fits(units.slice(0, k).join(sep), max);
  if (units.length === 0 || !fitsFirst(1)) return 0;
  let lo = 1;
  let step = 1;
  while (lo + step <= units.length && fitsFirst(lo + step)) {
    lo += step;
    step *= 2;
  }
  let hi = Math.min(units.length, lo + step - 1);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fitsFirst(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Cut `units` (words or graphemes) into consecutive runs that each weigh at most `max`. */
function cutInto(units: readonly string[], sep: string, max: number): string[] {
  const runs: string[] = [];
  let rest = units;
  while (rest.length > 0) {
    const k = longestFit(rest, sep, max);
    if (k === 0) {
      // One word too long on its own: cut it between graphemes (never inside an emoji).
      const graphemes = [...segmenter.segment(rest[0] ?? '')].map((g) => g.segment);
      runs.push(...cutInto(graphemes, '', max));
      rest = rest.slice(1);
      continue;
    }
    runs.push(rest.slice(0, k).join(sep));
    rest = rest.slice(k);
  }
  return runs;
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
    if (fits(candidate, max)) {
      current = candidate;
      continue;
    }
    push();
    if (fits(line, max)) {
      current = line;
      continue;
    }
    const runs = cutInto(line.split(/\s+/).filter(Boolean), ' ', max);
    current = runs.pop() ?? '';
    chunks.push(...runs);
  }
  push();
  return chunks;
}

/**
 * Number the chunks and check each with X's parser. Weights do not simply add
 * up (joining text can make or break a URL), so a part that came out invalid
 * makes us pack again with a smaller budget.
 */
function numberedParts(text: string, max: number): string[] {
  for (let budget = max - COUNTER_ROOM; budget > COUNTER_ROOM; budget -= 10) {
    const chunks = pack(text, budget);
    const parts = chunks.map((chunk, i) => `${chunk} ${i + 1}/${chunks.length}`);
    if (parts.every(isValidPost)) return parts;
  }
  throw new RangeError('draft cannot be split into valid posts');
}

export interface ThreadOptions {
  /** At most this many parts: whole trailing items (lines) are dropped to fit. */
  maxParts?: number;
  maxLength?: number;
}

/**
 * Split a draft into thread parts that each are a valid post. Parts of a longer
 * thread end with " i/n" so readers know there is more. A draft longer than
 * `maxParts` posts loses whole items (lines) from its end, never half a
 * sentence; only a single item too long for the whole thread is cut.
 */
export function splitIntoThread(text: string, options: ThreadOptions = {}): string[] {
  const max = options.maxLength ?? MAX_POST_LENGTH;
  const maxParts = options.maxParts ?? Number.POSITIVE_INFINITY;
  const normalized = normalizeDraft(text);
  if (!normalized) return [];
  if (fits(normalized, max) && isValidPost(normalized)) return [normalized];
  const lines = normalized.split('\n');
  const attempt = (kept: number): string[] | undefined => {
    const body = lines.slice(0, kept).join('\n').trim();
    if (!body) return undefined;
    if (fits(body, max) && isValidPost(body)) return [body];
    const parts = numberedParts(body, max);
    return parts.length <= maxParts ? parts : undefined;
  };
  const all = attempt(lines.length);
  if (all) return all;
  // Parts grow with the items kept: search the most items that fit in `maxParts`.
  let best: string[] | undefined;
  let lo = 1;
  let hi = lines.length - 1;
  while (lo <= hi) {
    const mid = Math.floor((lo + hi) / 2);
    const parts = attempt(mid);
    if (parts) {
      best = parts;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  if (best) return best;
  // One item alone needs more than `maxParts` posts: keep its beginning, ending on a word.
  const first = lines.find((l) => l.trim()) ?? '';
  const chunks = pack(first, max - COUNTER_ROOM - 1).slice(0, maxParts);
  return chunks.map(
    (chunk, i) => `${i === chunks.length - 1 ? `${chunk}…` : chunk} ${i + 1}/${chunks.length}`,
  );
}

/** Fit a draft into one post: cut at a word boundary and mark the cut with an ellipsis. */
export function fitSinglePost(text: string, max = MAX_POST_LENGTH): string {
  const normalized = normalizeDraft(text);
  if (fits(normalized, max) && isValidPost(normalized)) return normalized;
  for (let budget = max - 1; budget > 1; budget -= 10) {
    const post = `${pack(normalized, budget)[0] ?? ''}…`;
    if (isValidPost(post)) return post;
  }
  throw new RangeError('draft cannot be fitted into a valid post');
}

/**
 * Whether a post on the account is the one we sent: X rewrites every link
 * (with or without a scheme) to t.co and may fold whitespace, so both are
 * neutralised before comparing; links are found the way X finds them.
 */
export function comparableText(text: string): string {
  const normalized = text.normalize('NFC');
  let result = '';
  let last = 0;
  for (const { indices } of twitterText.extractUrlsWithIndices(normalized)) {
    result += `${normalized.slice(last, indices[0])}<url>`;
    last = indices[1];
  }
  return `${result}${normalized.slice(last)}`.replace(/\s+/g, ' ').trim();
}
