/**
 * One step's Lambda "container" for bench/step-memory.ts: bundled with one
 * handler (the options the CDK construct ships), run as a process of its own,
 * it takes the invocations it is sent one at a time, as a warm Lambda
 * container does, then reports its peak resident memory.
 */
import { lambdaContext } from '../infra/local/local-execution';

type Handler = (event: unknown, context: unknown) => Promise<unknown>;
type Request = { kind: 'invoke'; id: number; payload: unknown } | { kind: 'exit' };

const send = (message: unknown) =>
  new Promise<void>((resolve) => {
    process.send?.(message, () => resolve());
  });

export function serveInvocations(handler: Handler, dir: string, timeoutSeconds: number): void {
  process.on('message', async (request: Request) => {
    if (request.kind === 'exit') {
      // maxRSS is in kilobytes: the most this process ever held resident.
      await send({ kind: 'peak', maxRssMiB: process.resourceUsage().maxRSS / 1024 });
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
