/**
 * Ctrl-C and SIGTERM for a command that must close what it runs first (`run`, `daemon`). A listener
 * replaces Node's default for these signals (exit with 128 + signal number), so the command closes its
 * run and then exits with that same code itself; a second Ctrl-C exits at once.
 * https://nodejs.org/api/process.html#signal-events
 */
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

export function listenForInterrupt(): Interrupt {
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (received) process.exit(130);
    received = signal;
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
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
