/**
 * The daemon's two files in the data directory: its progress (the last slot
 * handled per schedule), written atomically so a crash mid-write never leaves
 * half a file, and its lock (one daemon per data directory), which names the
 * process holding it so a lock left by a dead daemon is taken over.
 */
import { closeSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { processExists } from '../../../shared/adapters/local-process';
import { DigestError } from '../../../shared/errors';
import type { DaemonProgress } from './daemon-loop';

export const PROGRESS_FILE = 'daemon-progress.json';
export const LOCK_FILE = 'daemon.lock';

/** Progress kept in `<dataDir>/daemon-progress.json` as `{ "<pipeline>/<schedule>": "<ISO of the last slot>" }`. */
export function progressFile(dataDir: string): DaemonProgress {
  const file = join(dataDir, PROGRESS_FILE);
  return {
    async load() {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
        throw error;
      }
      let raw: unknown;
      try {
        raw = JSON.parse(text);
      } catch {
        throw new DigestError(`${file} is not JSON: fix or delete it (the daemon then starts from now)`);
      }
      const progress: Record<string, number> = {};
      for (const [key, value] of Object.entries((raw ?? {}) as Record<string, unknown>)) {
        const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
        if (Number.isFinite(ms)) progress[key] = ms;
      }
      return progress;
    },
    async save(progress) {
      const body = JSON.stringify(
        Object.fromEntries(Object.entries(progress).map(([k, ms]) => [k, new Date(ms).toISOString()])),
        null,
        2,
      );
      // rename(2) replaces the file in one step: a reader sees the old file or the new, never a mix.
      const temp = `${file}.${process.pid}.tmp`;
      writeFileSync(temp, `${body}\n`);
      renameSync(temp, file);
    },
  };
}

/**
 * Take `<dataDir>/daemon.lock` for this process (exclusive create). A lock
 * whose process is alive refuses in one line; one left by a dead process is
 * moved aside and taken. Returns the release function.
 */
export function acquireDaemonLock(dataDir: string, pid = process.pid): () => void {
  const file = join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      const fd = openSync(file, 'wx');
      writeFileSync(fd, String(pid));
      closeSync(fd);
      return () => {
        try {
          if (Number(readFileSync(file, 'utf8')) === pid) unlinkSync(file);
        } catch {
          // gone already
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let owner = Number.NaN;
    try {
      owner = Number(readFileSync(file, 'utf8'));
    } catch {
      continue; // released meanwhile
    }
    if (Number.isInteger(owner) && owner > 0 && processExists(owner)) {
      throw new DigestError(`a daemon (process ${owner}) already runs on ${dataDir}; stop it first`);
    }
    // Moved aside first, so two daemons starting together never both delete a fresh lock.
    const aside = `${file}.${pid}.stale`;
    try {
      renameSync(file, aside);
      unlinkSync(aside);
    } catch {
      // another starter moved it first
    }
  }
  throw new DigestError(`could not take ${file}`);
}
