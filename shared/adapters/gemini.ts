import { ApiError, GoogleGenAI, Type } from '@google/genai';
import { z } from 'zod';
import type { PostAnalysis } from '../domain/post';
import { errorForStatus, InvalidResponseError, TransientError } from '../errors';
import type { Analyzer } from '../ports';
import { type RetryOptions, retryTransient } from './retry';

export interface GeminiOptions {
  apiKey: string;
  baseUrl: string;
  timeoutMs?: number;
  retry?: Partial<RetryOptions>;
}

const SUMMARY_WORDS = 25;

const analysisSchema = {
  type: Type.ARRAY,
  items: {
    type: Type.OBJECT,
    properties: {
      message_id: { type: Type.STRING },
      is_new_project: { type: Type.BOOLEAN },
      project_handle: { type: Type.STRING },
      project_link: { type: Type.STRING },
      summary: { type: Type.STRING },
    },
    required: ['message_id', 'is_new_project', 'project_handle', 'project_link', 'summary'],
  },
};
const draftSchema = {
  type: Type.OBJECT,
  properties: { draft: { type: Type.STRING } },
  required: ['draft'],
};
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

/** Google's RetryInfo detail says how long to wait: "12s" or "1.5s". */
function retryDelayMs(error: ApiError): number | undefined {
  const match = error.message.match(/"retryDelay":\s*"(\d+(?:\.\d+)?)s"/);
  return match ? Math.ceil(Number(match[1]) * 1000) : undefined;
}

function toDigestError(error: unknown): Error {
  if (error instanceof ApiError)
    return errorForStatus('gemini', error.status, error.message.slice(0, 300), retryDelayMs(error));
  if (error instanceof InvalidResponseError) return error;
  return new TransientError(`gemini request failed: ${(error as Error).message}`, { cause: error });
}

/**
 * Gemini through @google/genai with structured JSON output: one request per
 * batch of posts, one for the draft. The SDK's own retries are off; ours are
 * bounded by the caller's remaining time.
 */
export function createGeminiAnalyzer(options: GeminiOptions): Analyzer {
  const ai = new GoogleGenAI({
    apiKey: options.apiKey,
    httpOptions: { baseUrl: options.baseUrl, timeout: options.timeoutMs ?? 60_000 },
  });
  const retry: RetryOptions = { maxAttempts: 4, baseDelayMs: 1000, maxWaitMs: 20_000, ...options.retry };

  async function generate<T>(
    model: string,
    prompt: string,
    schema: object,
    temperature: number,
    parse: z.ZodType<T>,
  ): Promise<T> {
    return retryTransient(async () => {
      let text: string | undefined;
      let finish: string | undefined;
      try {
        const answer = await ai.models.generateContent({
          model,
          contents: prompt,
          config: {
            responseMimeType: 'application/json',
            responseSchema: schema,
            temperature,
            maxOutputTokens: 16_384,
            // Thinking tokens count against maxOutputTokens; the task needs none.
            thinkingConfig: { thinkingBudget: 0 },
          },
        });
        text = answer.text;
        finish = answer.candidates?.[0]?.finishReason;
      } catch (error) {
        throw toDigestError(error);
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
