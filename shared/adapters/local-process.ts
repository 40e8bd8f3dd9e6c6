import { hostname } from 'node:os';
import type { LockHolderProcess } from '../ports';

/**
 * Set by the local environment: the functions run inside the CLI's process,
 * so a lock they take can name that process and the next command can tell
 * whether it still exists. Never set in Lambda, where the lease alone decides.
 */
export const LOCAL_HOLDER_ENV = 'DIGEST_LOCK_HOLDER';

/**
 * Whether a process of this machine exists: signal 0 only tests for it
 * (https://nodejs.org/api/process.html#processkillpid-signal); EPERM means it
 * exists but belongs to another user (kill(2)).
 */
export function processExists(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export const thisProcess = (): LockHolderProcess => ({ host: hostname(), pid: process.pid });

/** Gone only when it is certain: a process of another machine cannot be checked from here. */
export const holderIsGone = (holder: LockHolderProcess): boolean =>
  holder.host === hostname() && !processExists(holder.pid);

/** The holder-process dependencies of BeginRun when the functions run locally; none in Lambda. */
export function localHolderDeps(env: NodeJS.ProcessEnv = process.env) {
  return env[LOCAL_HOLDER_ENV] === 'process'
    ? { holderProcess: thisProcess(), isHolderGone: holderIsGone }
    : {};
}
