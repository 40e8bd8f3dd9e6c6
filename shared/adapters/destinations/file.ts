import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { renderMarkdownFile } from '../../domain/digest-render';
import { ConfigError, PermanentError, TransientError } from '../../errors';
import type { DeliveryReceipt, Destination, DigestMessage, ObjectStore } from '../../ports';

/** `<pipeline>/<run>.md`: one file per run, so a retry finds the file it wrote. */
export function digestFileName(message: DigestMessage): string {
  return `${message.pipelineId}/${message.runId}.md`;
}

/** A pipeline or run id becomes a path segment: refuse anything that could leave its folder. */
function checkSegments(message: DigestMessage): void {
  for (const segment of [message.pipelineId, message.runId]) {
    if (!segment || segment === '.' || segment === '..' || /[/\\\0]/.test(segment))
      throw new PermanentError(`file destination: "${segment}" cannot be part of a file name`);
  }
}

/**
 * The markdown digest to S3 with `putIfAbsent`: a retry never overwrites. When
 * the key exists already, the same bytes mean an earlier attempt delivered it;
 * different bytes are refused (a digest is never replaced silently).
 */
export function createS3FileDestination(options: {
  name: string;
  store: ObjectStore;
  prefix?: string;
}): Destination {
  const prefix = (options.prefix ?? 'digests').replace(/\/+$/, '');
  return {
    kind: 'file',
    name: options.name,
    async deliver(message) {
      checkSegments(message);
      const key = `${prefix}/${digestFileName(message)}`;
      const body = renderMarkdownFile(message);
      if (await options.store.putIfAbsent(key, body, 'text/markdown; charset=utf-8'))
        return { destination: options.name, id: key, detail: 'written' };
      const existing = await options.store.getText(key);
      if (existing === body) return { destination: options.name, id: key, detail: 'already there' };
      throw new PermanentError(
        `file destination: ${key} already holds a different digest; not overwriting it`,
      );
    },
  };
}

/**
 * The markdown digest to a local folder (runs on a laptop). Written to a temp
 * file in the same folder, then published with link(2), which — unlike
 * rename(2) — fails when the target exists: the file appears whole or not at
 * all, and never replaces an earlier one (man 2 link: EEXIST).
 */
export function createLocalFileDestination(options: { name: string; directory: string }): Destination {
  const root = resolve(options.directory);
  return {
    kind: 'file',
    name: options.name,
    async deliver(message): Promise<DeliveryReceipt> {
      checkSegments(message);
      const target = resolve(root, digestFileName(message));
      const inside = relative(root, target);
      if (!inside || inside.startsWith('..') || isAbsolute(inside))
        throw new ConfigError(`file destination: ${target} is outside ${root}`);
      const body = renderMarkdownFile(message);
      await mkdir(dirname(target), { recursive: true });
      const temp = join(dirname(target), `.${randomBytes(6).toString('hex')}.tmp`);
      try {
        await writeFile(temp, body, { encoding: 'utf8', flag: 'wx' });
        await link(temp, target);
        return { destination: options.name, id: target, detail: 'written' };
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        // A folder we may not write to will not fix itself: that is configuration.
        if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')
          throw new ConfigError(`file destination: cannot write in ${dirname(target)} (${code})`, {
            cause: error,
          });
        if (code !== 'EEXIST')
          throw new TransientError(
            `file destination: writing ${target} failed: ${(error as Error).message}`,
            {
              cause: error,
            },
          );
        const existing = await readFile(target, 'utf8');
        if (existing === body) return { destination: options.name, id: target, detail: 'already there' };
        throw new PermanentError(
          `file destination: ${target} already holds a different digest; not overwriting it`,
        );
      } finally {
        await unlink(temp).catch(() => undefined);
      }
    },
  };
}
