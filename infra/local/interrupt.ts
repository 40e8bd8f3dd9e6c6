/**
 * Ctrl-C and SIGTERM for a command that must close what it runs first (`run`, `daemon`). A listener
 * replaces Node's default for these signals (exit with 128 + signal number), so the command closes its
 * run and then exits with that same code itself; a second Ctrl-C (a second later or more) exits at once.
 * https://nodejs.org/api/process.html#signal-events
 */
import { stopAnsweringStartupInterrupts } from './startup-interrupt';

export interface Interrupt {
  /** Aborted by the first signal. */
  signal: AbortSignal;
  /** The signal received, if any. */
  received(): NodeJS.Signals | undefined;
  /** The exit code of a command stopped by `signal`: 130 for SIGINT, 143 for SIGTERM. */
  exitCode(signal: NodeJS.Signals): number;
  /** Give the signals back to Node. */
  release(): void;
}

/**
 * One Ctrl-C reaches the command more than once: the terminal signals the whole process group (npm, tsx,
 * node), and npm and tsx relay it to their child as well (tsx dist/cli.mjs relaySignals), a millisecond
 * apart, measured. A repeat within this time is that same keypress, not a second Ctrl-C.
 */
export const SAME_INTERRUPT_MS = 1_000;

export function listenForInterrupt(now: () => number = Date.now): Interrupt {
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  let receivedAt = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (received) {
      if (now() - receivedAt < SAME_INTERRUPT_MS) return;
      process.exit(130);
    }
    received = signal;
    receivedAt = now();
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  stopAnsweringStartupInterrupts();
  return {
    signal: controller.signal,
    received: () => received,
    exitCode: (signal) => (signal === 'SIGINT' ? 130 : 143),
    release: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
