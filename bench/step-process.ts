/**
 * One step's Lambda "container" for bench/step-memory.ts: bundled with one
 * handler (the options the CDK construct ships), run as a process of its own,
 * it takes the invocations it is sent one at a time, as a warm Lambda
 * container does, then reports its peak resident memory.
 */
import { readFileSync } from 'node:fs';
import { lambdaContext } from '../infra/local/local-execution';

/**
 * This process's own peak RSS in MiB: VmHWM of /proc/self/status, which starts
 * afresh with the process's address space. getrusage's ru_maxrss would not do:
 * Linux keeps it across fork and execve, so a child reports at least its
 * parent's peak (https://man7.org/linux/man-pages/man2/getrusage.2.html).
 */
function peakRssMiB(): number {
  try {
    const kib = readFileSync('/proc/self/status', 'utf8').match(/^VmHWM:\s+(\d+) kB$/m)?.[1];
    if (kib) return Number(kib) / 1024;
  } catch {
    // not Linux: fall through to getrusage
  }
  return process.resourceUsage().maxRSS / 1024;
}

type Handler = (event: unknown, context: unknown) => Promise<unknown>;
type Request = { kind: 'invoke'; id: number; payload: unknown } | { kind: 'exit' };

const send = (message: unknown) =>
  new Promise<void>((resolve) => {
    process.send?.(message, () => resolve());
  });

export function serveInvocations(handler: Handler, dir: string, timeoutSeconds: number): void {
  process.on('message', async (request: Request) => {
    if (request.kind === 'exit') {
      await send({ kind: 'peak', maxRssMiB: peakRssMiB() });
      process.exit(0);
    }
    try {
      const result = await handler(
        request.payload,
        lambdaContext(`discord-digest-${dir}`, timeoutSeconds * 1000),
      );
      await send({ kind: 'result', id: request.id, ok: true, result: result ?? null });
    } catch (thrown) {
      const error = thrown instanceof Error ? thrown : new Error(String(thrown));
      await send({ kind: 'result', id: request.id, ok: false, name: error.name, message: error.message });
    }
  });
  void send({ kind: 'ready' });
}
