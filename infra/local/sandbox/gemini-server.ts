import { type SandboxServer, startSandboxServer } from './http';

/**
 * A stand-in for the Gemini API: the real request and answer shapes, and a
 * deterministic "model" that reads the posts from the prompt and answers in
 * the schema asked for. `queueAnswer` makes it answer something else once.
 */
export interface GeminiSandbox extends SandboxServer {
  queueAnswer(text: string, finishReason?: string): void;
  requests: unknown[];
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

export async function startGeminiSandbox(options: { apiKey: string; port?: number }): Promise<GeminiSandbox> {
  const queued: { text: string; finishReason: string }[] = [];
  const requests: unknown[] = [];
  const error = (code: number, status: string, message: string, details: unknown[] = []) => ({
    status: code,
    body: { error: { code, message, status, details } },
  });
  const server = await startSandboxServer({
    name: 'gemini',
    ...(options.port ? { port: options.port } : {}),
    faultResponse: (fault) =>
      fault.kind === 'rate-limit'
        ? error(429, 'RESOURCE_EXHAUSTED', 'You exceeded your current quota.', [
            {
              '@type': 'type.googleapis.com/google.rpc.RetryInfo',
              retryDelay: `${fault.retryAfterSeconds}s`,
            },
          ])
        : error(500, 'INTERNAL', 'An internal error has occurred.'),
    route: (request) => {
      const match = request.path.match(/^\/v1beta\/models\/([^/:]+):generateContent$/);
      if (!match || request.method !== 'POST') return error(404, 'NOT_FOUND', `no route for ${request.path}`);
      if (request.headers['x-goog-api-key'] !== options.apiKey) {
        return error(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [
          { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID' },
        ]);
      }
      requests.push(request.body);
      const body = request.body as {
        contents?: { parts?: { text?: string }[] }[];
        generationConfig?: { responseSchema?: { type?: string } };
      };
      const prompt = (body.contents ?? [])
        .flatMap((c) => c.parts ?? [])
        .map((p) => p.text ?? '')
        .join('\n');
      const next = queued.shift();
      const text = next ? next.text : answerFor(prompt, body.generationConfig?.responseSchema);
      return {
        status: 200,
        body: {
          candidates: [
            {
              content: { role: 'model', parts: text ? [{ text }] : [] },
              finishReason: next?.finishReason ?? 'STOP',
              index: 0,
            },
          ],
          usageMetadata: {
            promptTokenCount: Math.ceil(prompt.length / 4),
            candidatesTokenCount: Math.ceil(text.length / 4),
          },
          modelVersion: match[1],
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
  };
}
