import { z } from 'zod';
import { extractUrls, extractXStatusLinks } from './links';
import type { CollectedPost } from './post';

/** The part of a Discord message we rely on; anything else may vary freely. */
const embedSchema = z.object({
  url: z.string().optional(),
  title: z.string().optional(),
  description: z.string().optional(),
  author: z.object({ name: z.string().optional(), url: z.string().optional() }).optional(),
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
});

export type LinkFilter = 'x' | 'any';

export type MessageVerdict =
  | { kind: 'kept'; post: CollectedPost }
  | { kind: 'no-link'; messageId: string }
  | { kind: 'malformed'; messageId: string | undefined; reason: string };

function parseEmbeds(raw: unknown[]): z.infer<typeof embedSchema>[] {
  const embeds: z.infer<typeof embedSchema>[] = [];
  for (const item of raw) {
    const parsed = embedSchema.safeParse(item);
    if (parsed.success) embeds.push(parsed.data);
  }
  return embeds;
}

function idOf(raw: unknown): string | undefined {
  return typeof raw === 'object' && raw !== null && 'id' in raw && typeof raw.id === 'string'
    ? raw.id
    : undefined;
}

const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();

/**
 * Decide what one raw message contributes. Relay bots (TweetShift and the like)
 * put the post in an embed; people paste the link into the text.
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
  const embeds = parseEmbeds(message.embeds);

  // Links in the message text win: a person posted them on purpose.
  const textLink = extractXStatusLinks(message.content)[0];
  if (textLink) {
    return {
      kind: 'kept',
      post: {
        ...base,
        content: oneLine(message.content),
        postLink: textLink.url,
        author: `@${textLink.handle}`,
        authorLink: `https://x.com/${textLink.handle}`,
      },
    };
  }
  for (const embed of embeds) {
    const link = extractXStatusLinks(embed.url ?? '')[0] ?? extractXStatusLinks(embed.description ?? '')[0];
    if (!link) continue;
    const text = oneLine([embed.description, message.content].filter(Boolean).join(' '));
    return {
      kind: 'kept',
      post: {
        ...base,
        content: text || oneLine(embed.title ?? ''),
        postLink: link.url,
        author: embed.author?.name ?? `@${link.handle}`,
        authorLink: embed.author?.url ?? `https://x.com/${link.handle}`,
      },
    };
  }
  if (filter === 'any') {
    const url = extractUrls(message.content)[0] ?? embeds.find((e) => e.url)?.url;
    if (url) {
      return {
        kind: 'kept',
        post: {
          ...base,
          content: oneLine(message.content),
          postLink: url,
          author: message.author.global_name ?? message.author.username,
          authorLink: `https://discord.com/users/${message.author.id}`,
        },
      };
    }
  }
  return { kind: 'no-link', messageId: message.id };
}
