import { z } from 'zod';

const id = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'lowercase letters, digits and dashes, at most 40 characters');
const snowflake = z.string().regex(/^\d{15,21}$/, 'a Discord snowflake id (digits)');
const timeZone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'an IANA time zone such as Europe/Berlin');

export const windowSchema = z.discriminatedUnion('mode', [
  z.strictObject({ mode: z.literal('daily'), days: z.number().int().min(1).max(30).default(1) }),
  z.strictObject({ mode: z.literal('hours'), hours: z.number().int().min(1).max(720) }),
  /** Everything newer than the newest message already in the sheet (main or archive tab). */
  z.strictObject({
    mode: z.literal('since_last'),
    /** Lookback used while the sheet is still empty. */
    initialHours: z.number().int().min(1).max(720).default(24),
  }),
]);

export const scheduleSchema = z.union([
  z.strictObject({
    name: id,
    /** EventBridge Scheduler cron: minutes hours day-of-month month day-of-week year. */
    cron: z
      .string()
      .regex(/^\S+ \S+ \S+ \S+ \S+ \S+$/, 'six fields: min hour day-of-month month day-of-week year'),
    timeZone,
    enabled: z.boolean().default(true),
  }),
  z.strictObject({
    name: id,
    /** Local time of day, HH:MM, every day. */
    dailyAt: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM, 24-hour'),
    timeZone,
    enabled: z.boolean().default(true),
  }),
]);

export const pipelineSchema = z.strictObject({
  id,
  discord: z.strictObject({
    channelId: snowflake,
    window: windowSchema.default({ mode: 'daily', days: 1 }),
    /** Upper bound of messages read per run (100 per request). */
    fetchLimit: z.number().int().min(1).max(50_000).default(1000),
    /** `x` keeps only messages linking to an X/Twitter status; `any` keeps every message with a link. */
    linkFilter: z.enum(['x', 'any']).default('x'),
  }),
  sheet: z.strictObject({
    spreadsheetId: z.string().min(10),
    mainTab: z.string().min(1).default('Posts'),
    archiveTab: z.string().min(1).default('Archive'),
    draftsTab: z.string().min(1).default('Drafts'),
  }),
  gemini: z
    .strictObject({
      model: z.string().min(1).default('gemini-2.5-flash'),
      /** Posts sent per request; the free tier allows few requests a day. */
      batchSize: z.number().int().min(1).max(200).default(100),
      /** What the community cares about; steers the judgement and the draft. */
      topic: z.string().min(1).default('new crypto and AI projects announced on X'),
      language: z.string().min(2).default('English'),
      /** How many projects the daily draft may feature. */
      maxDraftItems: z.number().int().min(1).max(25).default(5),
      temperature: z.number().min(0).max(2).default(0.4),
    })
    .prefault({}),
  publisher: z
    .strictObject({
      kind: z.enum(['x', 'typefully', 'none']).default('none'),
      /** `single` trims the draft to one post; `thread` splits it into replies. */
      mode: z.enum(['single', 'thread']).default('thread'),
      /** Produce and record the draft without publishing it. */
      dryRun: z.boolean().default(false),
      /** Archive the analysed rows even when publishing failed (marked unpublished). */
      archiveUnpublished: z.boolean().default(false),
      /** Typefully only: the social set the draft goes to. */
      typefullySocialSetId: z.string().min(1).optional(),
      /**
       * Typefully only: `now`, `next-free-slot`, or an ISO 8601 time with its time zone
       * ("Timezone is required": DraftCreateRequest.publish_at in Typefully's OpenAPI,
       * raycast/extensions extensions/typefully/api.json).
       */
      typefullyPublishAt: z
        .string()
        .default('next-free-slot')
        .refine(
          (v) =>
            v === 'now' || v === 'next-free-slot' || z.iso.datetime({ offset: true }).safeParse(v).success,
          'typefullyPublishAt must be "now", "next-free-slot" or an ISO 8601 time with a time zone (Z or ±hh:mm), e.g. 2026-01-20T09:00:00-05:00',
        ),
      /** A draft never becomes a longer thread than this: whole items are dropped from its end. */
      maxThreadParts: z.number().int().min(1).max(25).default(6),
    })
    .prefault({})
    .refine((p) => p.kind !== 'typefully' || p.typefullySocialSetId !== undefined, {
      message: 'typefullySocialSetId is required when kind is typefully',
      path: ['typefullySocialSetId'],
    }),
  schedules: z.array(scheduleSchema).min(1, 'at least one schedule'),
});

export const configSchema = z.strictObject({
  $schema: z.string().optional(),
  pipelines: z
    .array(pipelineSchema)
    .min(1, 'at least one pipeline')
    .refine((ps) => new Set(ps.map((p) => p.id)).size === ps.length, 'pipeline ids must be unique'),
});

export type DigestConfig = z.infer<typeof configSchema>;
export type PipelineConfig = z.infer<typeof pipelineSchema>;
export type ScheduleConfig = z.infer<typeof scheduleSchema>;
export type WindowConfig = z.infer<typeof windowSchema>;
export type PublisherConfig = PipelineConfig['publisher'];
