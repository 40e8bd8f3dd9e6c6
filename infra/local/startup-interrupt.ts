/**
 * A Ctrl-C before a command has started a run (its modules still loading, for seconds on a cold
 * cache, or a command that starts none) answered with one line and 130, not Node's silent exit.
 * The handler stays until `run` or `daemon` takes the signals over to close their run (interrupt.ts):
 * a signal that arrives while the main thread is busy loading is handled only after, and a listener
 * removed before then would drop it.
 */
const onSignal = (signal: NodeJS.Signals) => {
  console.error(`interrupted (${signal}): stopped before a run started`);
  process.exit(signal === 'SIGINT' ? 130 : 143);
};

export function answerInterruptsWhileStarting(): void {
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/** Called once the run's own listeners are in place, so a signal is never without one. */
export function stopAnsweringStartupInterrupts(): void {
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
}
