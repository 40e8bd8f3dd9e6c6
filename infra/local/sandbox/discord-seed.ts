/**
 * A deterministic, realistic channel: relay-bot embeds, people pasting links
 * in every spelling, other links, chatter, repeated links and a few broken
 * messages, spread over the days before `now`.
 */
const DISCORD_EPOCH = 1420070400000n;

function mulberry32(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HANDLES = [
  'acme_labs',
  'nova_chain',
  'zkbridge',
  'aurora_ai',
  'moonpay',
  'defi_daily',
  'buildspace',
  'lumen_xyz',
];
const LAUNCH = ['Introducing', 'Launching today:', 'We just shipped', 'Announcing', 'Meet'];
const THINGS = [
  'a new L2 for payments',
  'our open-source agent SDK',
  'v2 of the bridge',
  'a zk identity wallet',
  'the mainnet beta',
];
const UPDATES = ['Weekly update on', 'Thread on', 'Some thoughts about', 'AMA recap:', 'Reminder about'];
const CHATTER = [
  'gm everyone',
  'anyone tried this yet?',
  'this is huge',
  'lol',
  'bullish',
  'thanks for sharing!',
];
const OTHER_LINKS = [
  'https://youtube.com/watch?v=dQw4w9WgXcQ',
  'https://github.com/acme/agent-sdk',
  'https://medium.com/@nova/launch-1a2b',
];
const SPELLINGS = [
  (h: string, id: string) => `https://twitter.com/${h}/status/${id}`,
  (h: string, id: string) => `https://x.com/${h}/status/${id}`,
  (h: string, id: string) => `https://www.twitter.com/${h}/status/${id}?s=20`,
  (h: string, id: string) => `https://mobile.twitter.com/${h}/status/${id}`,
  (h: string, id: string) => `https://mobile.x.com/${h}/status/${id}?t=abc`,
  (h: string, id: string) => `https://vxtwitter.com/${h}/status/${id}`,
  (h: string, id: string) => `<https://fixupx.com/${h}/status/${id}>`,
  (_h: string, id: string) => `https://x.com/i/web/status/${id}`,
];
const TRAIL = ['', '', ').', '!', ',', '>'];

export interface SeededChannel {
  messages: unknown[];
  malformedIds: string[];
  distinctStatusLinks: number;
}

export function seedDiscordChannelWithFacts(options: {
  channelId: string;
  now: Date;
  days?: number;
  count?: number;
  seed?: number;
}): SeededChannel {
  const random = mulberry32(options.seed ?? 1);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const count = options.count ?? 240;
  const span = (options.days ?? 3) * 86_400_000;
  const start = options.now.getTime() - span;
  const messages: unknown[] = [];
  const malformedIds: string[] = [];
  const statuses = new Set<string>();
  const posted: { handle: string; id: string }[] = [];
  for (let i = 0; i < count; i += 1) {
    // Evenly spread, strictly increasing, ending a minute before `now`.
    const ms = start + Math.floor(((i + 1) * (span - 60_000)) / count);
    const id = (((BigInt(ms) - DISCORD_EPOCH) << 22n) | BigInt(i % 4096)).toString();
    const timestamp = new Date(ms).toISOString().replace('Z', '+00:00');
    const human = {
      id: String(100000 + (i % 17)),
      username: `member${i % 17}`,
      global_name: `Member ${i % 17}`,
      bot: false,
    };
    const base = {
      id,
      channel_id: options.channelId,
      type: 0,
      timestamp,
      edited_timestamp: null,
      attachments: [],
      mentions: [],
      pinned: false,
      tts: false,
    };
    const roll = random();
    const handle = pick(HANDLES);
    const statusId = (1_860_000_000_000_000_000n + BigInt(i) * 7919n).toString();
    if (i % 61 === 30) {
      // Broken messages the collector must skip and count.
      const broken = [
        { ...base, content: 'no author here https://x.com/a/status/1', embeds: [] },
        { ...base, id: `not-a-snowflake-${i}`, content: 'x', author: human, embeds: [] },
        {
          ...base,
          timestamp: 'yesterday-ish',
          content: 'https://x.com/b/status/2',
          author: human,
          embeds: [],
        },
        { ...base, content: 42, author: human, embeds: [] },
      ][Math.floor(i / 61) % 4];
      messages.push(broken);
      malformedIds.push((broken as { id: string }).id);
    } else if (i % 23 === 11) {
      // Someone forwards a post from another server: the link lives in the snapshot only.
      const target = { handle, id: statusId };
      statuses.add(target.id);
      posted.push(target);
      const inEmbed = Math.floor(i / 23) % 2 === 0;
      messages.push(
        forwardedMessage(base, human, {
          content: inEmbed
            ? ''
            : `${pick(LAUNCH)} ${pick(THINGS)} https://fxtwitter.com/${handle}/status/${statusId}`,
          embeds: inEmbed
            ? [
                {
                  type: 'rich',
                  url: `https://x.com/${handle}/status/${statusId}`,
                  description: `${pick(UPDATES)} ${pick(THINGS)}`,
                  author: { name: `${handle} (@${handle})`, url: `https://x.com/${handle}` },
                },
              ]
            : [],
        }),
      );
    } else if (i % 29 === 7) {
      // An app's components-v2 card: text in Text Display components, content empty.
      const withLink = Math.floor(i / 29) % 2 === 0;
      if (withLink) statuses.add(statusId);
      messages.push(
        componentsOnlyMessage(base, [
          `## ${pick(UPDATES)} ${pick(THINGS)}`,
          withLink
            ? `Source: https://fixupx.com/${handle}/status/${statusId}`
            : 'Vote below which project to feature next week.',
        ]),
      );
    } else if (roll < 0.4) {
      const launch = random() < 0.5;
      const text = launch ? `${pick(LAUNCH)} ${pick(THINGS)} 🚀` : `${pick(UPDATES)} ${pick(THINGS)}`;
      const url = `https://x.com/${handle}/status/${statusId}`;
      statuses.add(statusId);
      posted.push({ handle, id: statusId });
      messages.push({
        ...base,
        content: random() < 0.5 ? '' : `New post from @${handle}`,
        author: { id: '900000000000000001', username: 'TweetShift', global_name: null, bot: true },
        embeds: [
          {
            type: 'rich',
            url,
            title: `${handle} (@${handle})`,
            description: `${text}\n\n${launch ? 'Details, docs and waitlist inside.' : 'More in the thread.'}`,
            author: { name: `${handle} (@${handle})`, url: `https://x.com/${handle}` },
            timestamp,
            footer: { text: 'Twitter' },
          },
        ],
      });
    } else if (roll < 0.7) {
      const repeat = posted.length > 0 && random() < 0.15 ? pick(posted) : undefined;
      const target = repeat ?? { handle, id: statusId };
      statuses.add(target.id);
      if (!repeat) posted.push(target);
      const link = pick(SPELLINGS)(target.handle, target.id) + pick(TRAIL);
      // Discord unfurls an unsuppressed x.com link into an embed naming the author; a
      // handle-less x.com/i/web link is only attributable through it.
      const unfurl = link.includes('/i/web/')
        ? [
            {
              type: 'rich',
              url: `https://x.com/${target.handle}/status/${target.id}`,
              description: `${pick(UPDATES)} ${pick(THINGS)}`,
              author: { name: `${target.handle} (@${target.handle})`, url: `https://x.com/${target.handle}` },
            },
          ]
        : [];
      messages.push({ ...base, content: `${pick(CHATTER)} (${link}`, author: human, embeds: unfurl });
    } else if (roll < 0.82) {
      messages.push({ ...base, content: `worth a look ${pick(OTHER_LINKS)}`, author: human, embeds: [] });
    } else {
      messages.push({ ...base, content: pick(CHATTER), author: human, embeds: [] });
    }
  }
  return { messages, malformedIds, distinctStatusLinks: statuses.size };
}

export function seedDiscordChannel(options: Parameters<typeof seedDiscordChannelWithFacts>[0]): unknown[] {
  return seedDiscordChannelWithFacts(options).messages;
}

/**
 * A forward (message_reference.type 1): the outer message is empty, the original
 * is copied into message_snapshots[].message with no author (discord/discord-api-docs
 * developers/resources/message.mdx, Message Reference Types and Message Snapshot Object).
 */
export function forwardedMessage(
  base: { id: string; channel_id: string; timestamp: string } & Record<string, unknown>,
  author: unknown,
  original: { content: string; embeds: unknown[] },
): unknown {
  return {
    ...base,
    content: '',
    author,
    embeds: [],
    message_reference: {
      type: 1,
      channel_id: '1190000000000000000',
      message_id: base.id,
      guild_id: '1180000000000000000',
    },
    message_snapshots: [
      {
        message: {
          type: 0,
          content: original.content,
          embeds: original.embeds,
          attachments: [],
          timestamp: base.timestamp,
          edited_timestamp: null,
          flags: 0,
          mentions: [],
          mention_roles: [],
        },
      },
    ],
  };
}

/** IS_COMPONENTS_V2 (1 << 15): discord-api-types payloads/v10/message MessageFlags.IsComponentsV2. */
export const IS_COMPONENTS_V2 = 1 << 15;

/**
 * A components-v2 message an app posts: no content or embeds, a Container (17)
 * of Text Displays (10) and a link button in an Action Row (1). discord/discord-api-docs
 * developers/components/reference.mdx.
 */
export function componentsOnlyMessage(
  base: { id: string; channel_id: string; timestamp: string } & Record<string, unknown>,
  texts: string[],
): unknown {
  return {
    ...base,
    content: '',
    author: { id: '900000000000000002', username: 'Digest Cards', global_name: null, bot: true },
    embeds: [],
    flags: IS_COMPONENTS_V2,
    components: [
      {
        type: 17,
        components: [
          ...texts.map((content) => ({ type: 10, content })),
          {
            type: 1,
            components: [{ type: 2, style: 5, label: 'Open server', url: 'https://discord.gg/example' }],
          },
        ],
      },
    ],
  };
}
