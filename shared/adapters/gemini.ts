// generateContent over global fetch, as @google/genai's web build sends it (dist/web/index.mjs: tModel,
// generateContentParametersToMldev, throwErrorIfNotOK, GenerateContentResponse.text), without the SDK: its
// 400 KiB (every module GoogleGenAI constructs) were over a third of AnalyzeBatch's bundle, parsed at each cold
// start for the one call this adapter makes. REST: ai.google.dev/api/generate-content ("POST
// …/v1beta/{model=models/*}:generateContent"); ai.google.dev/api (the key goes in x-goog-api-key).
import * as z from 'zod';
import { nextPacificMidnight } from '../domain/pacific-day';
import type { PostAnalysis } from '../domain/post';
import {
  AuthError,
  errorForStatus,
  InvalidResponseError,
  quotaExhausted,
  RateLimitedError,
  TransientError,
} from '../errors';
import type { Analyzer, QuotaName, QuotaObserver } from '../ports';
import {
  errorReason,
  type GoogleErrorBody,
  isDailyQuota,
  type QuotaViolation,
  quotaViolations,
  retryDelayMs,
} from './gemini-quota';
import { type RetryOptions, retryTransient } from './retry';

export interface GeminiClientOptions {
  apiKey: string;
  baseUrl: string;
  timeoutMs?: number;
}

/** What every request is sent with: the key, the API's root and how long a request may take. */
export interface GeminiClient {
  readonly apiKey: string;
  readonly baseUrl: string;
  readonly timeoutMs: number;
}

/**
 * A Gemini answer outside 2xx, as @google/genai's ApiError carries it: the status, and the JSON body as its
 * message (a body that is not JSON wrapped as `{error: {message, code, status}}`, as the SDK does).
 */
export class GeminiApiError extends Error {
  override readonly name = 'GeminiApiError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The client to send through (one per container, shared/runtime/gemini.ts), or what to make one from. */
export type GeminiOptions = (GeminiClientOptions | { client: GeminiClient }) & {
  retry?: Partial<RetryOptions>;
  /** The clock a per-day quota's reset is reckoned from (tests). */
  now?: () => number;
  /** Told of each quota a 429 names as spent (answers that succeed say nothing of quotas). */
  onQuota?: QuotaObserver;
};

/** Our name of a Gemini quota id (GenerateRequestsPerDayPerProjectPerModel-FreeTier, …), if we know it. */
function quotaNameOf(violation: QuotaViolation): QuotaName<'gemini'> | undefined {
  const id = violation.quotaId ?? '';
  if (/InputTokens.*PerMinute/.test(id)) return 'input-tokens-per-minute';
  if (/Requests/.test(id) && isDailyQuota(violation)) return 'requests-per-day';
  if (/Requests.*PerMinute/.test(id)) return 'requests-per-minute';
  return undefined;
}

/**
 * A 429 RESOURCE_EXHAUSTED names the spent quotas in google.rpc.QuotaFailure, with their limit in
 * `quotaValue` (https://ai.google.dev/gemini-api/docs/rate-limits; bodies in googleapis/python-genai#2044):
 * each is used up, 100 %.
 */
function reportSpentQuotas(error: unknown, onQuota: QuotaObserver | undefined): void {
  if (!onQuota || !(error instanceof GeminiApiError) || error.status !== 429) return;
  const reported = new Set<string>();
  for (const violation of quotaViolations(errorBodyOf(error))) {
    const quota = quotaNameOf(violation);
    if (!quota || reported.has(quota)) continue;
    reported.add(quota);
    const limit = Number(violation.quotaValue);
    const known = Number.isFinite(limit) && limit > 0 ? limit : 1;
    onQuota({ api: 'gemini', quota, used: known, limit: known });
  }
}

const SUMMARY_WORDS = 25;

/** The API's Schema types are upper-case names (ai.google.dev/api/caching#Type; the SDK's `Type` enum). */
const analysisSchema = {
  type: 'ARRAY',
  items: {
    type: 'OBJECT',
    properties: {
      message_id: { type: 'STRING' },
      is_new_project: { type: 'BOOLEAN' },
      project_handle: { type: 'STRING' },
      project_link: { type: 'STRING' },
      summary: { type: 'STRING' },
    },
    required: ['message_id', 'is_new_project', 'project_handle', 'project_link', 'summary'],
  },
};
const draftSchema = {
  type: 'OBJECT',
  properties: { draft: { type: 'STRING' } },
  required: ['draft'],
};

/** generationConfig.thinkingConfig (ai.google.dev/api/generate-content#ThinkingConfig). */
export interface ThinkingConfig {
  thinkingBudget?: number;
  thinkingLevel?: 'MINIMAL' | 'LOW' | 'MEDIUM' | 'HIGH';
}
const analysisAnswer = z.array(
  z.object({
    message_id: z.string(),
    is_new_project: z.boolean(),
    project_handle: z.string(),
    project_link: z.string(),
    summary: z.string(),
  }),
);
const draftAnswer = z.object({ draft: z.string().min(1) });

const words = (text: string, max: number) => text.trim().split(/\s+/).slice(0, max).join(' ');

/**
 * How each model family takes `thinkingConfig` (https://ai.google.dev/gemini-api/docs/thinking,
 * "Thinking budgets" table; https://ai.google.dev/gemini-api/docs/gemini-3 for thinkingLevel):
 *
 * | family                 | thinking   | budget range        | budget 0 (off)                     |
 * |------------------------|------------|---------------------|------------------------------------|
 * | gemini-2.5-flash-lite  | optional   | 0, or 512 – 24,576  | accepted (off is its default)      |
 * | gemini-2.5-flash       | optional   | 0 – 24,576          | accepted                           |
 * | gemini-2.5-pro         | always on  | 128 – 32,768        | 400 "Budget 0 is invalid. This model only works in thinking mode." |
 * | gemini-3*              | always on  | thinkingLevel       | not offered: send a low thinkingLevel |
 * | gemini-2.0-*, 1.5-*    | none       | —                   | send no thinkingConfig             |
 * | anything else (newer)  | unknown    | —                   | send nothing: never risk a refused 0 |
 *
 * The task needs no reasoning, and thinking tokens count against maxOutputTokens,
 * so each family gets the least thinking it accepts.
 */
const THINKING: readonly { family: RegExp; config: ThinkingConfig | undefined }[] = [
  { family: /^gemini-2\.5-flash/, config: { thinkingBudget: 0 } },
  { family: /^gemini-2\.5-pro/, config: { thinkingBudget: 128 } },
  { family: /^gemini-3/, config: { thinkingLevel: 'LOW' } },
  { family: /^gemini-(1\.5|2\.0)-/, config: undefined },
];

/** The thinkingConfig to send for `model`, or undefined to leave the model's default. */
export function thinkingConfigFor(model: string): ThinkingConfig | undefined {
  const name = model.replace(/^models\//, '');
  return THINKING.find((t) => t.family.test(name))?.config;
}

/** The error body a GeminiApiError carries as its message. */
function errorBodyOf(error: GeminiApiError): GoogleErrorBody {
  try {
    return JSON.parse(error.message) as GoogleErrorBody;
  } catch {
    return {};
  }
}

export function toDigestError(error: unknown, now = Date.now()): Error {
  if (error instanceof InvalidResponseError) return error;
  if (!(error instanceof GeminiApiError))
    return new TransientError(`gemini request failed: ${(error as Error).message}`, { cause: error });
  const body = errorBodyOf(error);
  const detail = (body.error?.message ?? error.message).slice(0, 300);
  // A bad key is 400 INVALID_ARGUMENT with ErrorInfo reason API_KEY_INVALID
  // (https://ai.google.dev/gemini-api/docs/troubleshooting): retrying cannot help.
  if (errorReason(body) === 'API_KEY_INVALID')
    return new AuthError(`gemini answered ${error.status}: ${detail}`);
  if (error.status !== 429) return errorForStatus('gemini', error.status, detail);

  const violations = quotaViolations(body);
  const daily = violations.find(isDailyQuota);
  const delay = retryDelayMs(body);
  if (daily) {
    // A per-day quota answers with a short retryDelay, yet it only resets at midnight Pacific.
    const model = daily.quotaDimensions?.model;
    return quotaExhausted(
      'gemini',
      `quota ${daily.quotaId}${model ? ` (model ${model})` : ''}`,
      nextPacificMidnight(now),
      now,
    );
  }
  if (delay === undefined) {
    // No RetryInfo: nothing says when to come back; every Gemini quota has reset by midnight Pacific.
    const named = violations[0]?.quotaId;
    return quotaExhausted(
      'gemini',
      `${named ? `quota ${named}` : 'quota'} (429 without RetryInfo: ${detail.slice(0, 120)})`,
      nextPacificMidnight(now),
      now,
    );
  }
  return new RateLimitedError(`gemini answered 429: ${detail}`, delay, { now });
}

/** The client: only its key, base URL and timeout, so a container can keep one for all its invocations. */
export function createGeminiClient(options: GeminiClientOptions): GeminiClient {
  return {
    apiKey: options.apiKey,
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    timeoutMs: options.timeoutMs ?? 60_000,
  };
}

interface GenerateContentAnswer {
  candidates?: { content?: { parts?: { text?: unknown; thought?: unknown }[] }; finishReason?: string }[];
}

/** `models/{model}` unless the name has its collection already (the SDK's tModel for the Gemini API). */
const resourceOf = (model: string) =>
  model.startsWith('models/') || model.startsWith('tunedModels/') ? model : `models/${model}`;

/** POST {base}/v1beta/{model}:generateContent with the key in x-goog-api-key; a non-2xx is a GeminiApiError. */
async function generateContent(
  client: GeminiClient,
  model: string,
  request: object,
): Promise<GenerateContentAnswer> {
  const response = await fetch(`${client.baseUrl}/v1beta/${resourceOf(model)}:generateContent`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-goog-api-key': client.apiKey },
    body: JSON.stringify(request),
    signal: AbortSignal.timeout(client.timeoutMs),
  });
  if (!response.ok) {
    const body = response.headers.get('content-type')?.includes('application/json')
      ? await response.json()
      : { error: { message: await response.text(), code: response.status, status: response.statusText } };
    throw new GeminiApiError(response.status, JSON.stringify(body));
  }
  return (await response.json()) as GenerateContentAnswer;
}

/** The first candidate's text parts, thoughts left out; undefined when it has none (the SDK's `text`). */
function textOf(answer: GenerateContentAnswer): string | undefined {
  const texts = (answer.candidates?.[0]?.content?.parts ?? []).filter(
    (part): part is { text: string } => typeof part.text === 'string' && part.thought !== true,
  );
  return texts.length > 0 ? texts.map((part) => part.text).join('') : undefined;
}

/**
 * Gemini with structured JSON output: one request per batch of posts, one for
 * the draft. Nothing retries below this adapter; its retries are bounded by the
 * caller's remaining time, and a quota that resets later than that ends the
 * step with RateLimitedError.
 */
export function createGeminiAnalyzer(options: GeminiOptions): Analyzer {
  const client = 'client' in options ? options.client : createGeminiClient(options);
  const retry: RetryOptions = { maxAttempts: 4, baseDelayMs: 1000, maxWaitMs: 20_000, ...options.retry };

  async function generate<T>(
    model: string,
    prompt: string,
    schema: object,
    temperature: number,
    parse: z.ZodType<T>,
  ): Promise<T> {
    const thinking = thinkingConfigFor(model);
    return retryTransient(async () => {
      let text: string | undefined;
      let finish: string | undefined;
      try {
        const answer = await generateContent(client, model, {
          contents: [{ role: 'user', parts: [{ text: prompt }] }],
          generationConfig: {
            temperature,
            maxOutputTokens: 16_384,
            responseMimeType: 'application/json',
            responseSchema: schema,
            ...(thinking ? { thinkingConfig: thinking } : {}),
          },
        });
        text = textOf(answer);
        finish = answer.candidates?.[0]?.finishReason;
      } catch (error) {
        reportSpentQuotas(error, options.onQuota);
        throw toDigestError(error, (options.now ?? Date.now)());
      }
      if (!text) {
        throw new InvalidResponseError(`gemini returned no text (finishReason ${finish ?? 'unknown'})`);
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new InvalidResponseError(`gemini did not answer JSON: ${text.slice(0, 80)}`);
      }
      const parsed = parse.safeParse(json);
      if (!parsed.success)
        throw new InvalidResponseError(`gemini answer breaks the schema: ${parsed.error.issues[0]?.message}`);
      return parsed.data;
    }, retry);
  }

  return {
    async analyzePosts(posts, settings): Promise<PostAnalysis[]> {
      if (posts.length === 0) return [];
      const prompt = [
        `You curate a community feed about ${settings.topic}.`,
        "For each post below decide whether it announces a new project, name the project's X handle and link,",
        `and summarise the post in at most ${SUMMARY_WORDS} words, in ${settings.language}.`,
        'Answer with one entry per post, keyed by its message_id.',
        'Posts (JSON):',
        JSON.stringify(
          posts.map((p) => ({
            message_id: p.messageId,
            author: p.author,
            post_link: p.postLink,
            content: p.content,
          })),
        ),
      ].join('\n');
      const asked = new Set(posts.map((p) => p.messageId));
      const answer = await generate(
        settings.model,
        prompt,
        analysisSchema,
        settings.temperature,
        analysisAnswer,
      );
      return answer
        .filter((a) => asked.has(a.message_id))
        .map((a) => ({
          messageId: a.message_id,
          isNewProject: a.is_new_project,
          projectHandle: a.project_handle,
          projectLink: a.project_link,
          summary: words(a.summary, SUMMARY_WORDS),
        }));
    },
    async writeDraft(analyses, settings) {
      const prompt = [
        `Write today's digest post (${settings.dateLabel}) for a community following ${settings.topic}, in ${settings.language}.`,
        `Feature at most ${settings.maxDraftItems} items, new projects first; name each by its @handle and include its post link.`,
        `Aim for about ${settings.targetLength} characters in all (a link counts 23). Plain text, one item per line.`,
        'Items (JSON):',
        JSON.stringify(
          analyses.map((a) => ({
            handle: a.projectHandle,
            link: a.postLink,
            new_project: a.isNewProject,
            summary: a.summary,
          })),
        ),
      ].join('\n');
      return (
        await generate(settings.model, prompt, draftSchema, settings.temperature, draftAnswer)
      ).draft.trim();
    },
  };
}
