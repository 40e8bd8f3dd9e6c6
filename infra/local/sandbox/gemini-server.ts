import { pacificMidnightBefore } from '../../../shared/domain/pacific-day';
import {
  type LatencyProfile,
  latencyProfile,
  type SandboxResponse,
  type SandboxServer,
  startSandboxServer,
} from './http';
import { type Clock, Quota } from './quota';

/**
 * A stand-in for the Gemini API: the real request and answer shapes, and a
 * deterministic "model" that reads the posts from the prompt and answers in
 * the schema asked for. `queueAnswer` makes it answer something else once.
 * It keeps Google's per-model quotas (requests per minute and per day, the
 * day ending at midnight Pacific), answers 429 as Google does, refuses a
 * thinking budget the model does not take, and counts thinking tokens.
 */
export interface GeminiSandbox extends SandboxServer {
  queueAnswer(text: string, finishReason?: string): void;
  requests: unknown[];
  /** Use up a model's quota for the rest of its window (the day ends at midnight Pacific), leaving `leave` requests. */
  exhaustQuota(model: string, window: 'minute' | 'day', leave?: number): void;
  /** Every quota starts afresh, as at midnight Pacific (tests that cannot move the clock). */
  resetQuotas(): void;
  /** Answer the next `times` generateContent calls with a bare 429 carrying no RetryInfo. */
  throttleWithoutRetryInfo(times?: number): void;
  /** The quota each model is held to. */
  quotaOf(model: string): GeminiModelQuota;
  /** Hold every answer this long before it is sent (tests: requests overlap as they would in life). */
  holdAnswers(ms: number): void;
  /** The most generateContent requests this server was answering at one moment. */
  peakInFlight(): number;
}

export interface GeminiModelQuota {
  requestsPerMinute: number;
  requestsPerDay: number;
  /** Input tokens per minute; unlimited when absent. */
  inputTokensPerMinute?: number;
}

/**
 * Free-tier request quotas per model, as the rate-limits page listed them in 2025
 * (https://ai.google.dev/gemini-api/docs/rate-limits; a real 429 for gemini-2.5-flash
 * carried quotaValue "250" for GenerateRequestsPerDayPerProjectPerModel-FreeTier, and
 * "250000" for GenerateContentInputTokensPerModelPerMinute-FreeTier on 2.5 Flash and Pro).
 * Google has since cut some of them (reports of 20 a day for Flash from December 2025)
 * and shows the live figures only in AI Studio: pass `quotas` to model another tier.
 */
export const FREE_TIER_QUOTAS: Readonly<Record<string, GeminiModelQuota>> = {
  'gemini-2.5-pro': { requestsPerMinute: 5, requestsPerDay: 100, inputTokensPerMinute: 250_000 },
  'gemini-2.5-flash': { requestsPerMinute: 10, requestsPerDay: 250, inputTokensPerMinute: 250_000 },
  'gemini-2.5-flash-lite': { requestsPerMinute: 15, requestsPerDay: 1000, inputTokensPerMinute: 250_000 },
  'gemini-2.0-flash': { requestsPerMinute: 15, requestsPerDay: 200, inputTokensPerMinute: 1_000_000 },
  'gemini-2.0-flash-lite': { requestsPerMinute: 30, requestsPerDay: 200, inputTokensPerMinute: 1_000_000 },
};
/**
 * Tier 1 (billing enabled) as the same page listed it in 2025: 2.5 Flash 1,000 RPM,
 * 1M TPM and 10,000 RPD, 2.5 Pro 150 RPM, 2M TPM and 1,000 RPD, 2.0 Flash 2,000 RPM,
 * 4M TPM and no daily cap.
 */
export const TIER_1_QUOTAS: Readonly<Record<string, GeminiModelQuota>> = {
  'gemini-2.5-pro': { requestsPerMinute: 150, requestsPerDay: 1_000, inputTokensPerMinute: 2_000_000 },
  'gemini-2.5-flash': { requestsPerMinute: 1_000, requestsPerDay: 10_000, inputTokensPerMinute: 1_000_000 },
  'gemini-2.0-flash': {
    requestsPerMinute: 2_000,
    requestsPerDay: Number.POSITIVE_INFINITY,
    inputTokensPerMinute: 4_000_000,
  },
};
/** Models the table does not name get the strictest figures ("more restricted for preview models"). */
const UNLISTED_MODEL_QUOTA: GeminiModelQuota = { requestsPerMinute: 5, requestsPerDay: 100 };

/**
 * The tier the sandbox plays, from DIGEST_GEMINI_TIER: `free` (the default), `tier1`,
 * or `none` (no quotas, e.g. a benchmark of the pipeline's own throughput).
 */
export function geminiQuotasFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): Readonly<Record<string, GeminiModelQuota>> | false {
  const tier = env.DIGEST_GEMINI_TIER ?? 'free';
  if (tier === 'none') return false;
  if (tier === 'tier1') return TIER_1_QUOTAS;
  return FREE_TIER_QUOTAS;
}

const LAUNCH = /\b(launch|launching|introduc|announc|meet|shipped|new|beta|mainnet)/i;

interface Item {
  message_id?: string;
  content?: string;
  post_link?: string;
  author?: string;
  handle?: string;
  link?: string;
  summary?: string;
  new_project?: boolean;
}

function itemsIn(prompt: string): Item[] {
  const start = prompt.indexOf('[');
  if (start < 0) return [];
  try {
    return JSON.parse(prompt.slice(start)) as Item[];
  } catch {
    return [];
  }
}

const handleOf = (link = '') => link.match(/x\.com\/(\w+)/)?.[1] ?? 'unknown';

function answerFor(prompt: string, schema: { type?: string } | undefined): string {
  const items = itemsIn(prompt);
  if (schema?.type === 'ARRAY' || schema?.type === 'array') {
    return JSON.stringify(
      items.map((p) => ({
        message_id: p.message_id ?? '',
        is_new_project: LAUNCH.test(p.content ?? ''),
        project_handle: `@${handleOf(p.post_link)}`,
        project_link: `https://x.com/${handleOf(p.post_link)}`,
        summary: (p.content ?? '').split(/\s+/).slice(0, 20).join(' ') || 'A post without text.',
      })),
    );
  }
  const date = prompt.match(/\(([^)]+)\)/)?.[1] ?? 'today';
  const lines = items.slice(0, 5).map((i, n) => `${n + 1}. ${i.handle}: ${i.summary} ${i.link}`);
  return JSON.stringify({ draft: [`What's new, ${date} 🧵`, ...lines].join('\n') });
}

const HELP = {
  '@type': 'type.googleapis.com/google.rpc.Help',
  links: [
    {
      description: 'Learn more about Gemini API quotas',
      url: 'https://ai.google.dev/gemini-api/docs/rate-limits',
    },
  ],
};
const REQUESTS_METRIC = 'generativelanguage.googleapis.com/generate_content_free_tier_requests';
const INPUT_TOKENS_METRIC = 'generativelanguage.googleapis.com/generate_content_free_tier_input_token_count';

/** google.rpc.Status as JSON; a body without details has no `details` field at all. */
const googleError = (code: number, status: string, message: string, details: unknown[] = []) => ({
  status: code,
  body: { error: { code, message, status, ...(details.length > 0 ? { details } : {}) } },
});

/**
 * A 429 as the Gemini API sends it (real answers quoted in googleapis/python-genai#2044
 * and RooCodeInc/Roo-Code#3883): the quota in QuotaFailure, a Help link, and a RetryInfo
 * whose delay runs to the next minute even when the quota broken is the daily one.
 */
function quotaError(
  model: string,
  window: 'minute' | 'day' | 'input-tokens',
  limit: number,
  retryDelaySeconds: number,
) {
  const quotaId = {
    day: 'GenerateRequestsPerDayPerProjectPerModel-FreeTier',
    minute: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier',
    'input-tokens': 'GenerateContentInputTokensPerModelPerMinute-FreeTier',
  }[window];
  const metric = window === 'input-tokens' ? INPUT_TOKENS_METRIC : REQUESTS_METRIC;
  return googleError(
    429,
    'RESOURCE_EXHAUSTED',
    'You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits. To monitor your current usage, head to: https://ai.dev/usage?tab=rate-limit. ' +
      `\n* Quota exceeded for metric: ${metric}, limit: ${limit}, model: ${model}\nPlease retry in ${retryDelaySeconds}s.`,
    [
      HELP,
      {
        '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
        violations: [
          {
            quotaMetric: metric,
            quotaId,
            quotaDimensions: { location: 'global', model },
            quotaValue: String(limit),
          },
        ],
      },
      { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${retryDelaySeconds}s` },
    ],
  );
}

/** How a model takes thinkingConfig (https://ai.google.dev/gemini-api/docs/thinking, "Thinking budgets"). */
interface ThinkingRule {
  /** Thinks when the request says nothing. */
  thinksByDefault: boolean;
  min: number;
  max: number;
  canDisable: boolean;
  /** Gemini 3 takes thinkingLevel; earlier models refuse it. */
  levels: boolean;
}
function thinkingRuleOf(model: string): ThinkingRule | undefined {
  if (/^gemini-2\.5-flash-lite/.test(model))
    return { thinksByDefault: false, min: 512, max: 24_576, canDisable: true, levels: false };
  if (/^gemini-2\.5-flash/.test(model))
    return { thinksByDefault: true, min: 1, max: 24_576, canDisable: true, levels: false };
  if (/^gemini-2\.5-pro/.test(model))
    return { thinksByDefault: true, min: 128, max: 32_768, canDisable: false, levels: false };
  if (/^gemini-3/.test(model))
    return { thinksByDefault: true, min: 128, max: 32_768, canDisable: false, levels: true };
  return undefined;
}

interface ThinkingConfigBody {
  thinkingBudget?: number;
  thinkingLevel?: string;
}

/** The 400 a model gives for a thinkingConfig it does not take, or the thinking tokens it will spend. */
function thinkingOf(
  model: string,
  config: ThinkingConfigBody | undefined,
  promptTokens: number,
): { refused: SandboxResponse } | { thoughts: number } {
  const rule = thinkingRuleOf(model);
  if (!rule) return { thoughts: 0 };
  const budget = config?.thinkingBudget;
  if (config?.thinkingLevel !== undefined && !rule.levels) {
    // Our wording: the docs say only that a pre-Gemini-3 model "returns an error" for thinking_level.
    return {
      refused: googleError(400, 'INVALID_ARGUMENT', 'Thinking level is not supported for this model.'),
    };
  }
  if (budget === 0) {
    if (rule.canDisable) return { thoughts: 0 };
    // Google's own answer for 2.5 Pro (quoted in many client issues, e.g. vercel/ai#8027).
    return {
      refused: googleError(
        400,
        'INVALID_ARGUMENT',
        'Budget 0 is invalid. This model only works in thinking mode.',
      ),
    };
  }
  if (budget !== undefined && budget !== -1 && (budget < rule.min || budget > rule.max)) {
    // As answered for an out-of-range budget (RooCodeInc/Roo-Code#4399).
    return { refused: googleError(400, 'INVALID_ARGUMENT', `The thinking budget (${budget}) is invalid.`) };
  }
  if (budget === undefined && config?.thinkingLevel === undefined && !rule.thinksByDefault)
    return { thoughts: 0 };
  // Estimate: dynamic thinking grows with the prompt; a fixed budget caps it; LOW thinks little.
  const dynamic = Math.min(8_192, 256 + Math.ceil(promptTokens / 8));
  const low = /^(LOW|MINIMAL)$/i.test(config?.thinkingLevel ?? '') ? Math.min(dynamic, 512) : dynamic;
  return { thoughts: budget && budget > 0 ? Math.min(budget, low) : low };
}

const tokensOf = (text: string) => Math.ceil(text.length / 4);

function promptOf(body: unknown): string {
  const contents = (body as { contents?: { parts?: { text?: string }[] }[] })?.contents ?? [];
  return contents
    .flatMap((c) => c.parts ?? [])
    .map((p) => p.text ?? '')
    .join('\n');
}

/**
 * Realistic answer time, sized from the answer's own token counts; an estimate: about
 * 0.6 s to the first token (2.5 s for Pro), prefill at ~10k tokens/s, and output
 * (thinking included) at ~250 tokens/s for Flash, ~300 for Flash-Lite and ~90 for Pro,
 * the order of magnitude published third-party throughput benchmarks report. A batch
 * of 100 posts (~60 output tokens each) takes some 25 s on Flash. Refusals are quick.
 */
export function geminiLatencyMs(
  model: string,
  usage: { promptTokens: number; outputTokens: number },
): number {
  const pro = /pro/.test(model);
  const lite = /lite/.test(model);
  const firstToken = pro ? 2_500 : 600;
  const perSecond = pro ? 90 : lite ? 300 : 250;
  return Math.round(firstToken + usage.promptTokens / 10 + (usage.outputTokens / perSecond) * 1000);
}

export async function startGeminiSandbox(options: {
  apiKey: string;
  port?: number;
  /** Per-model quotas; defaults to DIGEST_GEMINI_TIER's (the free tier). `false` turns quotas off. */
  quotas?: Readonly<Record<string, GeminiModelQuota>> | false;
  /** The sandbox's clock (tests reach the next minute or Pacific midnight without waiting). */
  now?: Clock;
  latency?: LatencyProfile;
}): Promise<GeminiSandbox> {
  const queued: { text: string; finishReason: string }[] = [];
  const requests: unknown[] = [];
  const now = options.now ?? Date.now;
  const quotas = options.quotas ?? geminiQuotasFromEnv();
  const table = quotas === false ? {} : quotas;
  const quotaOf = (model: string): GeminiModelQuota => {
    // The longest listed prefix: gemini-2.5-flash-lite before gemini-2.5-flash.
    const name = Object.keys(table)
      .filter((k) => model === k || model.startsWith(`${k}-`))
      .sort((a, b) => b.length - a.length)[0];
    return name ? (table[name] as GeminiModelQuota) : UNLISTED_MODEL_QUOTA;
  };
  // Rate limits are per project (here: the one API key) and per model; minutes reset at
  // second 00, days at midnight Pacific (https://ai.google.dev/gemini-api/docs/rate-limits).
  const minutes = new Map<string, Quota>();
  const days = new Map<string, Quota>();
  const windowOf = (model: string, window: 'minute' | 'day') => {
    const store = window === 'minute' ? minutes : days;
    let quota = store.get(model);
    if (!quota) {
      const q = quotaOf(model);
      quota =
        window === 'minute'
          ? new Quota({ limit: q.requestsPerMinute, windowMs: 60_000, now })
          : new Quota({
              limit: q.requestsPerDay,
              windowMs: 24 * 3_600_000,
              windowStart: pacificMidnightBefore,
              now,
            });
      store.set(model, quota);
    }
    return quota;
  };
  /** Input tokens each model took this minute (TPM counts the prompt). */
  const inputTokens = new Map<string, { minute: number; tokens: number }>();
  let bareThrottles = 0;
  let holdMs = 0;
  let inFlight = 0;
  let peak = 0;
  const profile = options.latency ?? latencyProfile();
  const secondsToNextMinute = () => Math.max(1, Math.ceil((60_000 - (now() % 60_000)) / 1000));

  const server = await startSandboxServer({
    name: 'gemini',
    ...(options.port ? { port: options.port } : {}),
    // The wait is sized from the answer, so the route sleeps itself rather than ahead of it.
    latency: profile,
    faultResponse: (fault, request) =>
      fault.kind === 'rate-limit'
        ? (() => {
            const model = request.path.match(/models\/([^/:]+):/)?.[1] ?? 'unknown';
            return quotaError(model, 'minute', quotaOf(model).requestsPerMinute, fault.retryAfterSeconds);
          })()
        : googleError(500, 'INTERNAL', 'An internal error has occurred.'),
    route: async (request) => {
      const match = request.path.match(/^\/v1beta\/models\/([^/:]+):generateContent$/);
      if (!match || request.method !== 'POST')
        return googleError(404, 'NOT_FOUND', `no route for ${request.path}`);
      const model = match[1] ?? '';
      if (request.headers['x-goog-api-key'] !== options.apiKey) {
        // https://ai.google.dev/gemini-api/docs/troubleshooting: a bad key is 400 with ErrorInfo API_KEY_INVALID.
        return googleError(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [
          {
            '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
            reason: 'API_KEY_INVALID',
            domain: 'googleapis.com',
            metadata: { service: 'generativelanguage.googleapis.com' },
          },
        ]);
      }
      const body = request.body as {
        generationConfig?: {
          responseSchema?: { type?: string };
          maxOutputTokens?: number;
          thinkingConfig?: ThinkingConfigBody;
        };
      };
      const prompt = promptOf(body);
      const promptTokens = tokensOf(prompt);
      const thinking = thinkingOf(model, body.generationConfig?.thinkingConfig, promptTokens);
      if ('refused' in thinking) return thinking.refused;
      if (bareThrottles > 0) {
        bareThrottles -= 1;
        // Some 429s carry no details at all, so nothing says which quota or when to come back.
        return googleError(429, 'RESOURCE_EXHAUSTED', 'Resource has been exhausted (e.g. check quota).');
      }
      if (quotas !== false) {
        const tokenLimit = quotaOf(model).inputTokensPerMinute;
        const minute = Math.floor(now() / 60_000);
        const spent = inputTokens.get(model);
        const used = spent?.minute === minute ? spent.tokens : 0;
        if (tokenLimit !== undefined && used + promptTokens > tokenLimit)
          return quotaError(model, 'input-tokens', tokenLimit, secondsToNextMinute());
        for (const window of ['minute', 'day'] as const) {
          const verdict = windowOf(model, window).take(model);
          if (!verdict.allowed) return quotaError(model, window, verdict.limit, secondsToNextMinute());
        }
        inputTokens.set(model, { minute, tokens: used + promptTokens });
      }
      requests.push(request.body);
      const next = queued.shift();
      let text = next ? next.text : answerFor(prompt, body.generationConfig?.responseSchema);
      let finishReason = next?.finishReason ?? 'STOP';
      // Thinking tokens count against maxOutputTokens (https://ai.google.dev/gemini-api/docs/thinking).
      const max = body.generationConfig?.maxOutputTokens;
      if (max !== undefined && thinking.thoughts + tokensOf(text) > max) {
        text = text.slice(0, Math.max(0, max - thinking.thoughts) * 4);
        finishReason = 'MAX_TOKENS';
      }
      const candidatesTokenCount = tokensOf(text);
      if (holdMs > 0) {
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        await new Promise((resolve) => setTimeout(resolve, holdMs));
        inFlight -= 1;
      }
      if (profile === 'realistic') {
        const wait = geminiLatencyMs(model, {
          promptTokens,
          outputTokens: candidatesTokenCount + thinking.thoughts,
        });
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
      return {
        status: 200,
        body: {
          candidates: [
            {
              content: { role: 'model', parts: text ? [{ text }] : [] },
              finishReason,
              index: 0,
            },
          ],
          usageMetadata: {
            promptTokenCount: promptTokens,
            candidatesTokenCount,
            totalTokenCount: promptTokens + candidatesTokenCount + thinking.thoughts,
            ...(thinking.thoughts > 0 ? { thoughtsTokenCount: thinking.thoughts } : {}),
            promptTokensDetails: [{ modality: 'TEXT', tokenCount: promptTokens }],
          },
          modelVersion: model,
          responseId: `sandbox-${requests.length}`,
        },
      };
    },
  });
  return {
    ...server,
    requests,
    queueAnswer: (text, finishReason = 'STOP') => {
      queued.push({ text, finishReason });
    },
    exhaustQuota: (model, window, leave = 0) => {
      const quota = windowOf(model, window);
      if (leave === 0) return quota.exhaust(model);
      let verdict = quota.take(model);
      while (verdict.allowed && verdict.remaining > leave) verdict = quota.take(model);
    },
    resetQuotas: () => {
      minutes.clear();
      days.clear();
      inputTokens.clear();
    },
    throttleWithoutRetryInfo: (times = 1) => {
      bareThrottles += times;
    },
    quotaOf,
    holdAnswers: (ms) => {
      holdMs = ms;
    },
    peakInFlight: () => peak,
  };
}
