import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as z from 'zod';
import { ConfigError } from '../errors';
import { scheduleCoverage } from './coverage';
import { configSchema, type DigestConfig, type PipelineConfig } from './schema';

/** Environment variable that carries the validated config into the local runner's steps. */
export const CONFIG_ENV = 'DIGEST_CONFIG';
/**
 * The validated config as it ships in each function's asset, beside the handler (infra/digest-function.ts):
 * Lambda's environment holds 4 KB in all, too little for many pipelines, and a file in the asset costs the
 * cold start one small read, no request.
 */
export const CONFIG_FILE_NAME = 'digest.config.json';

/** Turn zod issues into one line per field, e.g. `pipelines[0].discord.channelId: …`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path
        .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`))
        .join('');
      return `${path || '(root)'}: ${issue.message}`;
    })
    .join('\n');
}

export interface ParseOptions {
  /**
   * Also refuse schedules that leave longer between runs than the window looks back (a year-long
   * evaluation): on by default; the Lambda functions skip it for a config checked before deploy.
   */
  coverage?: boolean;
  now?: number;
}

export function parseConfig(raw: unknown, source: string, options: ParseOptions = {}): DigestConfig {
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(`invalid config in ${source}:\n${describeIssues(result.error)}`);
  }
  if (options.coverage !== false) {
    const { errors } = scheduleCoverage(result.data, options.now);
    if (errors.length > 0) throw new ConfigError(`invalid config in ${source}:\n${errors.join('\n')}`);
  }
  return result.data;
}

export function loadConfigFile(path: string): DigestConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a folder'
          : code === 'EACCES'
            ? 'permission denied'
            : (code ?? 'unreadable');
    throw new ConfigError(`cannot read config file ${path}: ${why}`, { cause });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    // One line: JSON.parse messages may quote a stretch of the file.
    const detail = (cause as Error).message.split('\n')[0];
    throw new ConfigError(`config file ${path} is not valid JSON: ${detail}`, { cause });
  }
  return parseConfig(raw, path);
}

let cached: { source: string; text: string; config: DigestConfig } | undefined;

/**
 * The config a step runs with, parsed once per container: in Lambda the file bundled at the task root
 * (`LAMBDA_TASK_ROOT` is set by the runtime: docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime),
 * locally the JSON the runner puts in `DIGEST_CONFIG`.
 */
export function loadRuntimeConfig(env: NodeJS.ProcessEnv = process.env): DigestConfig {
  const root = env.LAMBDA_TASK_ROOT;
  const source = root ? join(root, CONFIG_FILE_NAME) : CONFIG_ENV;
  let text: string | undefined;
  if (root) {
    // The bundled file never changes under a running container: read it once.
    if (cached?.source === source) return cached.config;
    try {
      text = readFileSync(source, 'utf8');
    } catch (cause) {
      throw new ConfigError(
        `cannot read the bundled config ${source}: ${(cause as NodeJS.ErrnoException).code ?? 'unreadable'}`,
        {
          cause,
        },
      );
    }
  } else {
    text = env[CONFIG_ENV];
    if (!text) throw new ConfigError(`${CONFIG_ENV} is not set`);
  }
  if (cached?.source === source && cached.text === text) return cached.config;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new ConfigError(`${source} is not valid JSON`, { cause });
  }
  // Checked in full by validate and cdk synth before it was deployed.
  const config = parseConfig(raw, source, { coverage: false });
  cached = { source, text, config };
  return config;
}

export function findPipeline(config: DigestConfig, pipelineId: string): PipelineConfig {
  const pipeline = config.pipelines.find((p) => p.id === pipelineId);
  if (!pipeline) {
    throw new ConfigError(
      `pipeline "${pipelineId}" is not configured (known: ${config.pipelines.map((p) => p.id).join(', ')})`,
    );
  }
  return pipeline;
}
