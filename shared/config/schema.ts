import * as z from 'zod';
import { awsCronProblem } from '../domain/schedule/aws-cron';
import { timeZoneProblem } from '../domain/schedule/time-zone';
import { SCHEDULE_NAME_PATTERN, schedulerScheduleName } from './aws-names';

const id = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'lowercase letters, digits and dashes, at most 40 characters');
const snowflake = z.string().regex(/^\d{15,21}$/, 'a Discord snowflake id (digits)');
/** EventBridge Scheduler's time zones: IANA names spelled exactly (see shared/domain/schedule/time-zone.ts). */
const timeZone = z.string().superRefine((tz, ctx) => {
  const problem = timeZoneProblem(tz);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
/** Google Sheets refuses tab titles longer than 100 characters (getodk/collect#2919: "Google just doesn't allow to create sheets with longer names"). */
const tabName = z.string().min(1).max(100, 'a Google Sheets tab name has at most 100 characters');

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

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM, 24-hour');
/** A local wall-clock time in the schedule's zone. */
const localDateTime = z
  .string()
  .regex(
    /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[ T]([01]\d|2[0-3]):[0-5]\d$/,
    'a local date-time "YYYY-MM-DD HH:MM"',
  );
const weekday = z.enum(
  ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'],
  'one of MON, TUE, WED, THU, FRI, SAT, SUN',
);

/** The ways to say when a schedule fires; a schedule has exactly one (shared/domain/schedule/kinds.ts compiles each). */
export const SCHEDULE_KINDS = ['dailyAt', 'weekly', 'monthly', 'cron', 'rate', 'once'] as const;

export const scheduleSchema = z
  .strictObject({
    name: id,
    /** Local time of day, HH:MM, every day. */
    dailyAt: hhmm.optional(),
    /** On these weekdays at HH:MM. */
    weekly: z.strictObject({ days: z.array(weekday).min(1, 'at least one day'), at: hhmm }).optional(),
    /** On this day of the month, or its last day, at HH:MM. A day a month lacks (31 in April) is not run that month. */
    monthly: z
      .strictObject({
        day: z.union(
          [
            z.number().int().min(1, 'a day 1-31 or "last"').max(31, 'a day 1-31 or "last"'),
            z.literal('last'),
          ],
          'a day 1-31 or "last"',
        ),
        at: hhmm,
      })
      .optional(),
    /** EventBridge Scheduler cron: minutes hours day-of-month month day-of-week year. */
    cron: z
      .string()
      .superRefine((cron, ctx) => {
        const problem = awsCronProblem(cron);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .optional(),
    /** Every N minutes/hours/days, counted from a local start time (deployed as the schedule's StartDate). */
    rate: z
      .strictObject({
        every: z.number().int().min(1).max(100_000),
        unit: z.enum(['minutes', 'hours', 'days'], 'one of minutes, hours, days'),
        start: localDateTime,
      })
      .optional(),
    /**
     * Once, at a local date-time. A time already past is accepted (the config is read by every
     * function at every start, long after the day): validate warns that it will not fire.
     */
    once: localDateTime.optional(),
    timeZone,
    enabled: z.boolean().default(true),
    /** Scheduler may start the run up to this many minutes late, to spread load (1-1440, Scheduler's bounds). */
    flexibleWindowMinutes: z.number().int().min(1).max(1440).optional(),
    /** How late a delivery may still start a run (Scheduler's MaximumEventAgeInSeconds, 60 s-24 h); later ones are dropped to the dead-letter queue. */
    graceMinutes: z.number().int().min(1).max(1440).default(60),
    /**
     * A local time that does not exist when clocks go forward: `skip` that day, or `shift` to the
     * first minute after the gap. Locally both are honoured; EventBridge Scheduler always skips
     * (repost.aws/knowledge-center/eventbridge-scheduler-adjust-dst), which validate says.
     */
    dst: z.enum(['skip', 'shift'], '"skip" or "shift"').default('shift'),
  })
  .superRefine((schedule, ctx) => {
    const kinds = SCHEDULE_KINDS.filter((k) => schedule[k] !== undefined);
    if (kinds.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: `a schedule has exactly one of ${SCHEDULE_KINDS.join(', ')}${kinds.length ? ` (found ${kinds.join(' and ')})` : ''}`,
      });
    }
  });

/**
 * A secret named, never given: the config names the key, and its value comes from `.env` locally or from the
 * pipeline's Secrets Manager secret in AWS (the same JSON object as the other credentials).
 */
const secretName = z
  .string()
  .regex(
    /^[A-Z][A-Z0-9_]{2,63}$/,
    'the name of a secret key: upper-case letters, digits and _, e.g. DISCORD_WEBHOOK_URL',
  );
const emailAddress = z
  .string()
  .regex(
    /^(?:[^<>@\s][^<>]*<)?[^<>@\s]+@[^<>@\s]+\.[^<>@\s]+>?$/,
    'an email address, e.g. digest@example.com or "Digest <digest@example.com>"',
  );

/** Where a digest (or a notification) goes; each kind's secrets are named, their values live in the secret store. */
const discordDestination = z.strictObject({
  kind: z.literal('discord'),
  name: id,
  /** The key holding the webhook URL https://discord.com/api/webhooks/{id}/{token} (the token is a credential). */
  webhookUrlSecret: secretName,
  /** `content`: plain messages (2000 characters each); `embeds`: rich embeds. */
  format: z.enum(['content', 'embeds'], '"content" or "embeds"').default('embeds'),
  username: z.string().min(1).max(80).optional(),
});
const webhookDestination = z.strictObject({
  kind: z.literal('webhook'),
  name: id,
  /** The key holding the receiver's URL (it may carry a token). */
  urlSecret: secretName,
  /** The key holding the HMAC-SHA256 signing secret the receiver verifies with. */
  signingSecret: secretName,
});
const emailDestination = z.strictObject({
  kind: z.literal('email'),
  name: id,
  /** A verified SES identity. */
  from: emailAddress,
  /** SendEmail takes at most 50 recipients (API_Destination). */
  to: z.array(emailAddress).min(1, 'at least one recipient').max(50, 'at most 50 recipients'),
  /** SES region; the function's own region when absent. */
  region: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region, e.g. eu-west-1')
    .optional(),
  configurationSetName: z.string().min(1).optional(),
});
const fileDestination = z.strictObject({
  kind: z.literal('file'),
  name: id,
  /** S3 key prefix: the digest is `<prefix>/<pipeline>/<run>.md` in the pipeline's bucket. */
  prefix: z
    .string()
    .regex(
      /^[A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*$/,
      'an S3 key prefix without leading or trailing /',
    )
    .default('digests'),
  /** Run locally: write into this folder instead of S3 (relative to the working directory). */
  localDirectory: z.string().min(1).optional(),
});
export const destinationSchema = z.discriminatedUnion('kind', [
  discordDestination,
  webhookDestination,
  emailDestination,
  fileDestination,
]);
export type DestinationConfig = z.infer<typeof destinationSchema>;

/** The events a person is told about (see shared/pipeline/notify.ts). */
export const NOTIFY_EVENTS = [
  'run-failed',
  'run-partial',
  'schedule-paused',
  'run-missed',
  'publication-unknown',
  'quota-exhausted',
  // A draft waiting for approval (publisher.review: approve): the request with its approve/reject links.
  'review-requested',
] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

/** Only these events; every event when absent. */
const notifyOn = {
  on: z
    .array(z.enum(NOTIFY_EVENTS, `one of ${NOTIFY_EVENTS.join(', ')}`))
    .min(1)
    .optional(),
};
export const notifySchema = z.discriminatedUnion('kind', [
  discordDestination.extend(notifyOn),
  webhookDestination.extend(notifyOn),
  emailDestination.extend(notifyOn),
  fileDestination.extend(notifyOn),
]);
export type NotifyConfig = z.infer<typeof notifySchema>;

/** Names are journal keys (`<run>#<name>`): two destinations of one list must not share one. */
function uniqueNames(list: readonly { name: string }[], field: string, ctx: z.RefinementCtx) {
  const seen = new Map<string, number>();
  for (const [i, item] of list.entries()) {
    const first = seen.get(item.name);
    if (first === undefined) seen.set(item.name, i);
    else
      ctx.addIssue({
        code: 'custom',
        path: [field, i, 'name'],
        message: `"${item.name}" is already the name of ${field}[${first}]`,
      });
  }
}

export const pipelineSchema = z
  .strictObject({
    id,
    discord: z.strictObject({
      channelId: snowflake,
      window: windowSchema.default({ mode: 'daily', days: 1 }),
      /**
       * Most messages one collect invocation reads (100 per request). A busy channel's
       * day is tens of thousands; past the limit the run ends partial and --resume reads on.
       * At the ~1 request/s Discord allows per channel, 30,000 take about 5 minutes.
       */
      fetchLimit: z.number().int().min(1).max(100_000).default(30_000),
      /** `x` keeps only messages linking to an X/Twitter status; `any` keeps every message with a link. */
      linkFilter: z.enum(['x', 'any']).default('x'),
    }),
    sheet: z.strictObject({
      spreadsheetId: z.string().min(10),
      mainTab: tabName.default('Posts'),
      archiveTab: tabName.default('Archive'),
      draftsTab: tabName.default('Drafts'),
      /**
       * `monthly`: rows are archived to a tab per month, "Archive 2026-12" (the archive tab's name and the
       * month of the run, UTC), so no one tab grows without end; `none`: always the one archive tab.
       */
      archiveRotation: z.enum(['none', 'monthly']).default('none'),
      /**
       * Grid cells the spreadsheet may reach before the archive refuses to grow it: Google's limit is
       * 10 million per spreadsheet (developers.google.com/sheets/api/limits → Drive file limits).
       */
      maxCells: z.number().int().min(10_000).max(10_000_000).default(9_000_000),
      /**
       * Where whole month tabs go when archiving would take this spreadsheet past maxCells: the oldest
       * months move there, under their own names. Create it yourself and share it with the service
       * account (service accounts can no longer create files: burnash/gspread#1592). Needs `monthly`.
       */
      archiveSpreadsheetId: z.string().min(10).optional(),
    }),
    gemini: z
      .strictObject({
        model: z.string().min(1).default('gemini-2.5-flash'),
        /** Posts sent per request; the free tier allows few requests a day. */
        batchSize: z.number().int().min(1).max(200).default(100),
        /**
         * The project's Gemini requests per minute for the model (free tier 2.5 Flash: 10,
         * https://ai.google.dev/gemini-api/docs/rate-limits); sizes the analysis Map's concurrency.
         */
        requestsPerMinute: z.number().int().min(1).max(30_000).default(10),
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
        /** `approve`: Publish waits for `digest approve|reject <runId>` (or a signed link) before posting. */
        review: z.enum(['auto', 'approve']).default('auto'),
      })
      .prefault({})
      .refine((p) => p.kind !== 'typefully' || p.typefullySocialSetId !== undefined, {
        message: 'typefullySocialSetId is required when kind is typefully',
        path: ['typefullySocialSetId'],
      }),
    schedules: z.array(scheduleSchema).min(1, 'at least one schedule'),
    /**
     * With `publisher.review: approve`: how long a draft waits for a decision before the run ends partial
     * with nothing posted. A Standard execution may last a year; a week keeps a forgotten draft from going out stale.
     */
    review: z.strictObject({ expiresHours: z.number().int().min(1).max(168).default(24) }).prefault({}),
    /** A schedule whose runs fail this many times in a row pauses itself until resumed. */
    maxConsecutiveFailures: z.number().int().min(1).max(100).default(3),
    /**
     * Minutes before the 1st, 2nd, 3rd… automatic resume of a run that stopped on a transient cause with no
     * known reset time (shared/domain/auto-resume.ts); `[]` turns automatic resume off. Unset: [5, 10, 20],
     * left out of the parsed config so it costs the functions' 4 KB environment nothing.
     */
    autoResumeMinutes: z.array(z.number().int().min(1).max(1440)).max(10).optional(),
    /** Where the digest goes besides the publisher, each once per run. */
    deliver: z.array(destinationSchema).max(10, 'at most 10 destinations').default([]),
    /** Who is told when something needs a person (a failed run, a missed one, …). */
    notify: z.array(notifySchema).max(10, 'at most 10 destinations').default([]),
  })
  .superRefine((pipeline, ctx) => {
    uniqueNames(pipeline.deliver, 'deliver', ctx);
    uniqueNames(pipeline.notify, 'notify', ctx);
    // Upload dedups against the main and Archive tabs and Archive moves rows between them: one tab in two
    // roles would append, archive or overwrite the same rows twice. Sheets titles are unique regardless of case.
    const roles = ['mainTab', 'archiveTab', 'draftsTab'] as const;
    for (const [i, role] of roles.entries()) {
      const earlier = roles
        .slice(0, i)
        .find((r) => pipeline.sheet[r].toLowerCase() === pipeline.sheet[role].toLowerCase());
      if (earlier) {
        ctx.addIssue({
          code: 'custom',
          path: ['sheet', role],
          message: `must differ from sheet.${earlier} ("${pipeline.sheet[earlier]}")`,
        });
      }
    }
    const { archiveSpreadsheetId } = pipeline.sheet;
    if (archiveSpreadsheetId && pipeline.sheet.archiveRotation !== 'monthly')
      ctx.addIssue({
        code: 'custom',
        path: ['sheet', 'archiveSpreadsheetId'],
        message:
          'needs sheet.archiveRotation "monthly": only whole month tabs move to the archive spreadsheet',
      });
    if (archiveSpreadsheetId === pipeline.sheet.spreadsheetId)
      ctx.addIssue({
        code: 'custom',
        path: ['sheet', 'archiveSpreadsheetId'],
        message: 'must differ from sheet.spreadsheetId: the tabs move to another spreadsheet',
      });
    // A schedule's name is in its run ids (`<schedule>-<time>`): two schedules with one name would take each
    // other's runs for duplicates.
    const seen = new Map<string, number>();
    for (const [i, schedule] of pipeline.schedules.entries()) {
      const first = seen.get(schedule.name);
      if (first === undefined) seen.set(schedule.name, i);
      else
        ctx.addIssue({
          code: 'custom',
          path: ['schedules', i, 'name'],
          message: `"${schedule.name}" is already the name of schedules[${first}]`,
        });
    }
  });

export const configSchema = z
  .strictObject({
    $schema: z.string().optional(),
    pipelines: z.array(pipelineSchema).min(1, 'at least one pipeline'),
    /** Days the run files are kept in S3; the raw Discord messages, which hold user names, go sooner. */
    retention: z
      .strictObject({
        runFilesDays: z.number().int().min(1).max(3650).default(365),
        rawMessagesDays: z.number().int().min(1).max(3650).default(30),
      })
      .prefault({})
      .refine((r) => r.rawMessagesDays <= r.runFilesDays, {
        message: 'rawMessagesDays must not exceed runFilesDays',
        path: ['rawMessagesDays'],
      }),
    /** Where the alarms go: an SNS topic always, and this address subscribed to it when set. */
    alerts: z.strictObject({ email: z.email().optional() }).optional(),
  })
  .superRefine((config, ctx) => checkAcrossPipelines(config, ctx));

type ParsedPipeline = z.infer<typeof pipelineSchema>;

/** What only shows once the pipelines are seen together, and what a deploy of all of them would refuse. */
function checkAcrossPipelines(config: { pipelines: ParsedPipeline[] }, ctx: z.RefinementCtx) {
  const { pipelines } = config;
  const ids = new Map<string, number>();
  const scheduleNames = new Map<string, string>();
  const tabs = new Map<string, string>();
  const archiveTargets = new Map<string, string>();
  for (const [p, pipeline] of pipelines.entries()) {
    const firstId = ids.get(pipeline.id);
    if (firstId !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['pipelines', p, 'id'],
        message: `pipeline ids must be unique: "${pipeline.id}" is already pipelines[${firstId}].id`,
      });
      continue;
    }
    ids.set(pipeline.id, p);
    // `discord-digest-a-b-c` is both pipeline a-b's schedule c and pipeline a's schedule b-c: the second
    // would replace the first in the account.
    for (const [s, schedule] of pipeline.schedules.entries()) {
      const name = schedulerScheduleName(pipeline.id, schedule.name);
      const here = `pipelines[${p}].schedules[${s}]`;
      const other = scheduleNames.get(name);
      if (!SCHEDULE_NAME_PATTERN.test(name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['pipelines', p, 'schedules', s, 'name'],
          message: `Scheduler name "${name}" is not 1-64 characters of [0-9a-zA-Z-_.]`,
        });
      } else if (other && !other.startsWith(`pipelines[${p}].`)) {
        // Within one pipeline, a duplicate schedule name is already reported.
        ctx.addIssue({
          code: 'custom',
          path: ['pipelines', p, 'schedules', s, 'name'],
          message: `Scheduler name "${name}" is also the name of ${other}; rename one`,
        });
      }
      scheduleNames.set(name, here);
    }
    // Month tabs keep their names in the archive spreadsheet: two pipelines sending the same names there
    // would take each other's tab for their own copy, and a main spreadsheet there would lose tabs to it.
    const { archiveSpreadsheetId } = pipeline.sheet;
    if (archiveSpreadsheetId) {
      const main = pipelines.findIndex((other) => other.sheet.spreadsheetId === archiveSpreadsheetId);
      const key = `${archiveSpreadsheetId}\u0000${pipeline.sheet.archiveTab.toLowerCase()}`;
      const other = archiveTargets.get(key);
      if (main >= 0)
        ctx.addIssue({
          code: 'custom',
          path: ['pipelines', p, 'sheet', 'archiveSpreadsheetId'],
          message: `is the spreadsheet of pipelines[${main}]; give the archive a spreadsheet of its own`,
        });
      else if (other)
        ctx.addIssue({
          code: 'custom',
          path: ['pipelines', p, 'sheet', 'archiveTab'],
          message: `${other} sends its month tabs of this name to the same archive spreadsheet; rename one`,
        });
      else archiveTargets.set(key, `pipelines[${p}]`);
    }
    // Two pipelines in one spreadsheet must not share a tab: each would archive, dedup against or
    // overwrite the other's rows.
    for (const role of ['mainTab', 'archiveTab', 'draftsTab'] as const) {
      const key = `${pipeline.sheet.spreadsheetId}\u0000${pipeline.sheet[role].toLowerCase()}`;
      const other = tabs.get(key);
      if (other?.startsWith(`pipelines[${p}].`)) continue; // reported by the pipeline's own check
      if (other) {
        ctx.addIssue({
          code: 'custom',
          path: ['pipelines', p, 'sheet', role],
          message: `tab "${pipeline.sheet[role]}" of this spreadsheet is already ${other}`,
        });
      } else tabs.set(key, `pipelines[${p}].sheet.${role}`);
    }
  }
}

export type DigestConfig = z.infer<typeof configSchema>;
export type PipelineConfig = z.infer<typeof pipelineSchema>;
export type ScheduleConfig = z.infer<typeof scheduleSchema>;
export type WindowConfig = z.infer<typeof windowSchema>;
export type PublisherConfig = PipelineConfig['publisher'];
