import * as z from 'zod';
import { extractUrls, extractXStatusLinks, isAnonymousLink, type XStatusLink } from './links';
import type { CollectedPost } from './post';

/** The part of a Discord message we rely on; anything else may vary freely. */
const embedSchema = z.object({
  url: z.string().optional(),
  title: z.string().optional(),
  description: z.string().optional(),
  author: z.object({ name: z.string().optional(), url: z.string().optional() }).optional(),
});
type Embed = z.infer<typeof embedSchema>;

/**
 * A forwarded message's copy of the original: "a minimal subset of fields"
 * (type, content, embeds, attachments, timestamp, flags, mentions, components…),
 * no author. discord/discord-api-docs developers/resources/message.mdx, Message Snapshot Object.
 */
const snapshotSchema = z.object({
  message: z.object({
    content: z.string().default(''),
    embeds: z.array(z.unknown()).default([]),
    components: z.array(z.unknown()).default([]),
  }),
});

const messageSchema = z.object({
  id: z.string().regex(/^\d{15,21}$/),
  timestamp: z.string().refine((t) => !Number.isNaN(Date.parse(t)), 'an ISO timestamp'),
  content: z.string(),
  author: z.object({
    id: z.string(),
    username: z.string(),
    global_name: z.string().nullish(),
    bot: z.boolean().optional(),
  }),
  embeds: z.array(z.unknown()).default([]),
  components: z.array(z.unknown()).default([]),
  // Forwards (message_reference.type 1) carry the original here; the outer content is empty.
  message_snapshots: z.array(z.unknown()).default([]),
});

export type LinkFilter = 'x' | 'any';

export type MessageVerdict =
  | { kind: 'kept'; post: CollectedPost }
  | { kind: 'no-link'; messageId: string }
  | { kind: 'malformed'; messageId: string | undefined; reason: string };

function parseEmbeds(raw: unknown[]): Embed[] {
  const embeds: Embed[] = [];
  for (const item of raw) {
    const parsed = embedSchema.safeParse(item);
    if (parsed.success) embeds.push(parsed.data);
  }
  return embeds;
}

const TEXT_DISPLAY = 10;
const BUTTON = 2;
const LINK_BUTTON_STYLE = 5;

/**
 * The text a components-v2 message shows: Text Display components (type 10,
 * `content`), wherever they sit (in a Container's or a Section's `components`),
 * and the `url` of link buttons (type 2, style 5). discord/discord-api-docs
 * developers/components/reference.mdx; discord-api-types APITextDisplayComponent.
 */
export function componentText(components: readonly unknown[]): string {
  const parts: string[] = [];
  const visit = (node: unknown) => {
    if (typeof node !== 'object' || node === null) return;
    const c = node as { type?: unknown; content?: unknown; style?: unknown; url?: unknown };
    if (c.type === TEXT_DISPLAY && typeof c.content === 'string') parts.push(c.content);
    if (c.type === BUTTON && c.style === LINK_BUTTON_STYLE && typeof c.url === 'string') parts.push(c.url);
    for (const key of ['components', 'accessory'] as const) {
      const child = (node as Record<string, unknown>)[key];
      if (Array.isArray(child)) child.forEach(visit);
      else visit(child);
    }
  };
  components.forEach(visit);
  return parts.join('\n');
}

function idOf(raw: unknown): string | undefined {
  return typeof raw === 'object' && raw !== null && 'id' in raw && typeof raw.id === 'string'
    ? raw.id
    : undefined;
}

const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();

/** Where a message's readable text lives: its own fields, its forwarded snapshots, its components. */
interface TextSource {
  text: string;
  embeds: Embed[];
}

function sourcesOf(message: z.infer<typeof messageSchema>): TextSource[] {
  const sources: TextSource[] = [
    {
      text: [message.content, componentText(message.components)].filter(Boolean).join('\n'),
      embeds: parseEmbeds(message.embeds),
    },
  ];
  for (const raw of message.message_snapshots) {
    const snapshot = snapshotSchema.safeParse(raw);
    // A snapshot we cannot read contributes nothing; the outer message is still judged on its own.
    if (!snapshot.success) continue;
    const inner = snapshot.data.message;
    sources.push({
      text: [inner.content, componentText(inner.components)].filter(Boolean).join('\n'),
      embeds: parseEmbeds(inner.embeds),
    });
  }
  return sources;
}

/**
 * An x.com/i/status link names nobody: take the handle (for the canonical link)
 * and the author from an embed of the same post (Discord's unfurl) if there is one.
 */
function attribute(
  link: XStatusLink,
  embeds: readonly Embed[],
): { postLink: string; author: string; authorLink: string } {
  if (!isAnonymousLink(link)) {
    return { postLink: link.url, author: `@${link.handle}`, authorLink: `https://x.com/${link.handle}` };
  }
  const same = embeds.find((e) => extractXStatusLinks(e.url ?? '')[0]?.statusId === link.statusId);
  const named = same ? extractXStatusLinks(same.url ?? '')[0] : undefined;
  const handle = named && !isAnonymousLink(named) ? named.handle : undefined;
  return {
    postLink: named?.url ?? link.url,
    author: same?.author?.name ?? (handle ? `@${handle}` : ''),
    authorLink: same?.author?.url ?? (handle ? `https://x.com/${handle}` : ''),
  };
}

/**
 * Decide what one raw message contributes. Relay bots (TweetShift and the like)
 * put the post in an embed; people paste the link into the text; a forward
 * carries the original in `message_snapshots`; a components-v2 message carries
 * its text in Text Display components.
 */
export function messageToPost(raw: unknown, filter: LinkFilter): MessageVerdict {
  const parsed = messageSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      kind: 'malformed',
      messageId: idOf(raw),
      reason: issue ? `${issue.path.join('.') || 'message'}: ${issue.message}` : 'invalid message',
    };
  }
  const message = parsed.data;
  const when = new Date(message.timestamp).toISOString();
  const base = { messageId: message.id, date: when.slice(0, 10), time: when.slice(11, 19) };
  const sources = sourcesOf(message);
  const allEmbeds = sources.flatMap((s) => s.embeds);

  // Links in the text win: a person posted them on purpose.
  for (const source of sources) {
    const textLink = extractXStatusLinks(source.text)[0];
    if (!textLink) continue;
    return {
      kind: 'kept',
      post: {
        ...base,
        content: oneLine(source.text),
        ...attribute(textLink, allEmbeds),
      },
    };
  }
  for (const source of sources) {
    for (const embed of source.embeds) {
      const link = extractXStatusLinks(embed.url ?? '')[0] ?? extractXStatusLinks(embed.description ?? '')[0];
      if (!link) continue;
      const text = oneLine([embed.description, source.text].filter(Boolean).join(' '));
      const fallback = attribute(link, allEmbeds);
      return {
        kind: 'kept',
        post: {
          ...base,
          content: text || oneLine(embed.title ?? ''),
          postLink: fallback.postLink,
          author: embed.author?.name ?? fallback.author,
          authorLink: embed.author?.url ?? fallback.authorLink,
        },
      };
    }
  }
  if (filter === 'any') {
    for (const source of sources) {
      const url = extractUrls(source.text)[0] ?? source.embeds.find((e) => e.url)?.url;
      if (!url) continue;
      return {
        kind: 'kept',
        post: {
          ...base,
          content: oneLine(source.text),
          postLink: url,
          author: message.author.global_name ?? message.author.username,
          authorLink: `https://discord.com/users/${message.author.id}`,
        },
      };
    }
  }
  return { kind: 'no-link', messageId: message.id };
}

/**
 * Message types a person or bot writes (DEFAULT 0, REPLY 19): the only ones
 * that always carry something to read. System messages (joins, pins, boosts)
 * are empty by nature. discord/discord-api-docs developers/resources/message.mdx, Message Types.
 */
const AUTHORED_TYPES = new Set([0, 19]);

const isFilled = (value: unknown) =>
  (typeof value === 'string' && value.length > 0) || (Array.isArray(value) && value.length > 0);

/**
 * What a message shows about the MESSAGE_CONTENT intent. Without it an app
 * "will receive empty values in the content, embeds, attachments, and
 * components fields while poll will be omitted" (discord/discord-api-docs
 * developers/resources/message.mdx, Message Object). A message a person or
 * bot wrote always has one of those (or a sticker, or a forward's snapshot),
 * so one with none of them was blanked. `unknown` for messages that prove
 * nothing (system messages, malformed ones).
 */
export function contentVisibility(raw: unknown): 'readable' | 'blank' | 'unknown' {
  if (typeof raw !== 'object' || raw === null) return 'unknown';
  const m = raw as Record<string, unknown>;
  if (typeof m.type === 'number' && !AUTHORED_TYPES.has(m.type)) return 'unknown';
  if (typeof m.content !== 'string') return 'unknown';
  const own = ['content', 'embeds', 'attachments', 'components', 'sticker_items'].some((k) => isFilled(m[k]));
  if (own || m.poll !== undefined) return 'readable';
  const snapshots = Array.isArray(m.message_snapshots) ? m.message_snapshots : [];
  const snapshotReadable = snapshots.some((s) => {
    const inner = (s as { message?: Record<string, unknown> } | null)?.message;
    return (
      inner !== undefined &&
      ['content', 'embeds', 'attachments', 'components'].some((k) => isFilled(inner[k]))
    );
  });
  return snapshotReadable ? 'readable' : 'blank';
}
