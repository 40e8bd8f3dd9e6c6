/**
 * One digest rendered for each destination: Discord messages (content or
 * embeds, split to Discord's limits), an email (HTML and plain text) and a
 * markdown file. Everything in a digest comes from users or the model, so each
 * format escapes it its own way; links are kept clickable, never escaped into
 * something else. Pure functions: no clock, so a retry renders the same bytes.
 */
import type { DigestMessage } from '../ports';

// ─── Limits ─────────────────────────────────────────────────────────────────

/**
 * Discord's message limits. Lengths here are UTF-16 code units (`.length`),
 * never fewer than the characters Discord counts, so a chunk that fits here
 * fits there whichever way it counts.
 */
export const DISCORD_LIMITS = {
  /** discord/discord-api-docs developers/resources/webhook.mdx (Execute Webhook: content up to 2000 characters). */
  content: 2000,
  /** webhook.mdx: embeds, an array of up to 10 embed objects. */
  embedsPerMessage: 10,
  /** developers/resources/message.mdx (Embed Limits): title 256, description 4096, 6000 in all per message. */
  embedTitle: 256,
  embedDescription: 4096,
  embedTotal: 6000,
} as const;

// ─── Links and plain-text segments ──────────────────────────────────────────

/** An http(s) link in free text; `<`, `>` and whitespace end it (they never belong to a URL). */
const URL_IN_TEXT = /https?:\/\/[^\s<>"]+/g;
/** Punctuation that usually ends a sentence rather than the link before it. */
const TRAILING_PUNCTUATION = /[.,;:!?)\]'*_~|]+$/;

interface Segment {
  text: string;
  url: boolean;
}

/** Split text into plain runs and links, so each format escapes the runs and keeps the links whole. */
export function segments(text: string): Segment[] {
  const out: Segment[] = [];
  let last = 0;
  for (const match of text.matchAll(URL_IN_TEXT)) {
    const start = match.index ?? 0;
    const url = match[0].replace(TRAILING_PUNCTUATION, '');
    if (!safeUrl(url)) continue;
    if (start > last) out.push({ text: text.slice(last, start), url: false });
    out.push({ text: url, url: true });
    last = start + url.length;
  }
  if (last < text.length) out.push({ text: text.slice(last), url: false });
  return out;
}

/** An absolute http(s) URL, normalised by WHATWG URL (which percent-encodes `<`, `>`, quotes and spaces); else undefined. */
export function safeUrl(link: string): string | undefined {
  try {
    const url = new URL(link);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}

// ─── Escaping ───────────────────────────────────────────────────────────────

/**
 * Discord markdown: a backslash before any character that starts formatting
 * makes it literal (the same characters discord.js escapes: discordjs/discord.js
 * packages/formatters/src/escapers.ts — bold, italic, underline, strikethrough,
 * spoiler, code, masked links, headings, lists, block quotes, the backslash).
 */
export function escapeDiscordMarkdown(text: string): string {
  return text
    .replace(/[\\*_~|`[\]<>]/g, '\\$&')
    .replace(/^(\s*)([-+#])(?=[-#]*\s)/gm, '$1\\$2')
    .replace(/^(\s*\d+)\.(?=\s)/gm, '$1\\.');
}

/**
 * CommonMark: any ASCII punctuation may be backslash-escaped (spec 0.31 §2.4,
 * https://spec.commonmark.org/0.31.2/#backslash-escapes); `<` and `&` too, so
 * no raw HTML or entity gets through a renderer.
 */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/[\\*_~|`[\]<>&]/g, '\\$&')
    .replace(/^(\s*)([-+=#])(?=[-+=#]*(\s|$))/gm, '$1\\$2')
    .replace(/^(\s*\d+)([.)])(?=\s)/gm, '$1\\$2');
}

/** HTML text and attribute values (double-quoted): the five characters that can change the markup. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Links in `<…>`: Discord and CommonMark both take it as an autolink, and Discord shows no preview card. */
function discordInline(text: string): string {
  return segments(text)
    .map((s) => (s.url ? `<${s.text}>` : escapeDiscordMarkdown(s.text)))
    .join('');
}

function markdownInline(text: string): string {
  return segments(text)
    .map((s) => (s.url ? `<${s.text}>` : escapeMarkdown(s.text)))
    .join('');
}

function htmlInline(text: string): string {
  return segments(text)
    .map((s) => (s.url ? `<a href="${escapeHtml(s.text)}">${escapeHtml(s.text)}</a>` : escapeHtml(s.text)))
    .join('');
}

const validLinks = (links: readonly string[]) =>
  links.map(safeUrl).filter((l): l is string => l !== undefined);

// ─── Splitting ──────────────────────────────────────────────────────────────

/**
 * Pack lines into chunks of at most `limit` characters, never cutting a line
 * that fits; a single line longer than `limit` is cut at the last space before
 * the limit (or hard, when it has none). Empty lines at a cut are dropped.
 */
export function splitLines(text: string, limit: number): string[] {
  if (limit < 1) throw new RangeError('limit must be positive');
  const chunks: string[] = [];
  let current = '';
  const flush = () => {
    const trimmed = current.replace(/\n+$/, '');
    if (trimmed.trim()) chunks.push(trimmed);
    current = '';
  };
  for (const line of text.split('\n')) {
    for (const piece of cutLongLine(line, limit)) {
      const candidate = current ? `${current}\n${piece}` : piece;
      if (candidate.length <= limit) {
        current = candidate;
      } else {
        flush();
        current = piece;
      }
    }
  }
  flush();
  return chunks.map((c) => c.replace(/^\n+/, ''));
}

function cutLongLine(line: string, limit: number): string[] {
  const pieces: string[] = [];
  let rest = line;
  while (rest.length > limit) {
    const space = rest.lastIndexOf(' ', limit);
    let cut = space > 0 ? space : limit;
    // Never split a surrogate pair (an emoji) in two.
    if (cut === limit && /[\uD800-\uDBFF]/.test(rest.charAt(cut - 1))) cut -= 1;
    // A backslash escape stays with the character it escapes.
    if (cut === limit && rest.charAt(cut - 1) === '\\') cut -= 1;
    pieces.push(rest.slice(0, cut));
    rest = rest.slice(cut).replace(/^ /, '');
  }
  pieces.push(rest);
  return pieces;
}

// ─── Discord ────────────────────────────────────────────────────────────────

export interface DiscordEmbed {
  title?: string;
  description: string;
  url?: string;
}

/** The JSON body of one Execute Webhook call. */
export interface DiscordWebhookPayload {
  content?: string;
  embeds?: DiscordEmbed[];
  /** discord-api-docs message.mdx (Allowed Mentions): `parse: []` suppresses every mention, @everyone included. */
  allowed_mentions: { parse: [] };
}

/** The digest as Discord markdown lines: bold title, the parts, then the featured links. */
function discordBody(message: DigestMessage): string {
  const parts = message.parts.map(discordInline).join('\n\n');
  const links = validLinks(message.links).map((l) => `- <${l}>`);
  return links.length ? `${parts}\n\n**Links**\n${links.join('\n')}` : parts;
}

/**
 * Plain messages: the title in bold on top, then as many messages of at most
 * 2000 characters as the digest needs, split between lines.
 */
export function renderDiscordMessages(message: DigestMessage): DiscordWebhookPayload[] {
  const title = truncate(
    escapeDiscordMarkdown(message.title.replace(/[\r\n]+/g, ' ')),
    DISCORD_LIMITS.embedTitle,
  );
  const text = `**${title}**\n\n${discordBody(message)}`;
  return splitLines(text, DISCORD_LIMITS.content).map((content) => ({
    content,
    allowed_mentions: { parse: [] },
  }));
}

/**
 * Embeds: descriptions of at most 4096 characters, the title (≤ 256) on the
 * first, grouped ≤ 10 per message and ≤ 6000 characters per message in all.
 */
export function renderDiscordEmbeds(message: DigestMessage): DiscordWebhookPayload[] {
  const title = truncate(
    escapeDiscordMarkdown(message.title.replace(/[\r\n]+/g, ' ')),
    DISCORD_LIMITS.embedTitle,
  );
  const descriptions = splitLines(discordBody(message), DISCORD_LIMITS.embedDescription);
  const embeds: DiscordEmbed[] = descriptions.map((description, i) =>
    i === 0 ? { title, description } : { description },
  );
  const payloads: DiscordWebhookPayload[] = [];
  let group: DiscordEmbed[] = [];
  let size = 0;
  for (const embed of embeds) {
    const embedSize = (embed.title?.length ?? 0) + embed.description.length;
    if (
      group.length &&
      (group.length >= DISCORD_LIMITS.embedsPerMessage || size + embedSize > DISCORD_LIMITS.embedTotal)
    ) {
      payloads.push({ embeds: group, allowed_mentions: { parse: [] } });
      group = [];
      size = 0;
    }
    group.push(embed);
    size += embedSize;
  }
  if (group.length) payloads.push({ embeds: group, allowed_mentions: { parse: [] } });
  return payloads;
}

function truncate(text: string, limit: number): string {
  if (text.length <= limit) return text;
  let cut = limit - 1;
  if (/[\uD800-\uDBFF]/.test(text.charAt(cut - 1))) cut -= 1;
  if (text.charAt(cut - 1) === '\\') cut -= 1;
  return `${text.slice(0, cut)}…`;
}

// ─── Email ──────────────────────────────────────────────────────────────────

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

/**
 * An email: the subject on one line (a newline in a subject is a header
 * injection risk; SES builds the header, but we never hand it one), an HTML
 * body with everything escaped and only http(s) links, and the same in text.
 */
export function renderEmail(message: DigestMessage): RenderedEmail {
  const subject = message.title.replace(/[\r\n]+/g, ' ').trim();
  const links = validLinks(message.links);
  const htmlParts = message.parts.map((p) => `<p>${htmlInline(p).replace(/\n/g, '<br>\n')}</p>`);
  const htmlLinks = links.length
    ? [
        '<h2>Links</h2>',
        '<ul>',
        ...links.map((l) => `<li><a href="${escapeHtml(l)}">${escapeHtml(l)}</a></li>`),
        '</ul>',
      ]
    : [];
  const html = [
    '<!DOCTYPE html>',
    '<html><head><meta charset="utf-8"><title>',
    escapeHtml(subject),
    '</title></head><body>',
    `<h1>${escapeHtml(subject)}</h1>`,
    ...htmlParts,
    ...htmlLinks,
    `<p><small>${escapeHtml(message.pipelineId)} · run ${escapeHtml(message.runId)} · ${escapeHtml(message.createdAt)}</small></p>`,
    '</body></html>',
  ].join('\n');
  const text = [
    subject,
    '='.repeat(Math.min(subject.length, 72)),
    '',
    ...message.parts.flatMap((p) => [p, '']),
    ...(links.length ? ['Links:', ...links.map((l) => `- ${l}`), ''] : []),
    `${message.pipelineId} · run ${message.runId} · ${message.createdAt}`,
  ].join('\n');
  return { subject, html, text };
}

// ─── Markdown file ──────────────────────────────────────────────────────────

/** A markdown file: heading, a line of facts, the parts, the links. */
export function renderMarkdownFile(message: DigestMessage): string {
  const links = validLinks(message.links);
  return [
    `# ${escapeMarkdown(message.title.replace(/[\r\n]+/g, ' '))}`,
    '',
    `_${escapeMarkdown(message.pipelineId)} · run ${escapeMarkdown(message.runId)} · ${escapeMarkdown(message.createdAt)}_`,
    '',
    ...message.parts.flatMap((p) => [markdownInline(p), '']),
    ...(links.length ? ['## Links', '', ...links.map((l) => `- <${l}>`), ''] : []),
  ].join('\n');
}
