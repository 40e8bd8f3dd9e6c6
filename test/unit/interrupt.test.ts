import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Interrupt, listenForInterrupt, SAME_INTERRUPT_MS } from '../../infra/local/interrupt';
import {
  answerInterruptsWhileStarting,
  stopAnsweringStartupInterrupts,
} from '../../infra/local/startup-interrupt';

describe('Ctrl-C in a local command', () => {
  let interrupt: Interrupt | undefined;
  afterEach(() => {
    interrupt?.release();
    vi.restoreAllMocks();
  });

  it('takes the same keypress relayed by npm and tsx a millisecond later as one interrupt, a later one as a second', () => {
    // Prepare
    const clock = { now: 1_000_000 };
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    interrupt = listenForInterrupt(() => clock.now);

    // Act: the terminal's SIGINT, then npm's and tsx's relays of it.
    process.emit('SIGINT', 'SIGINT');
    clock.now += 1;
    process.emit('SIGINT', 'SIGINT');
    process.emit('SIGTERM', 'SIGTERM');
    const exitsAfterRelays = exit.mock.calls.length;
    clock.now += SAME_INTERRUPT_MS;
    process.emit('SIGINT', 'SIGINT');

    // Assess: the run is closed once; only a second Ctrl-C exits at once.
    expect(interrupt.signal.aborted).toBe(true);
    expect(interrupt.received()).toBe('SIGINT');
    expect(exitsAfterRelays).toBe(0);
    expect(exit).toHaveBeenCalledWith(130);
  });

  it('answers a Ctrl-C before a run started with one line and 130', () => {
    // Prepare
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    answerInterruptsWhileStarting();

    // Act
    try {
      process.emit('SIGINT', 'SIGINT');
    } finally {
      stopAnsweringStartupInterrupts();
    }

    // Assess
    expect(error.mock.calls).toEqual([['interrupted (SIGINT): stopped before a run started']]);
    expect(exit).toHaveBeenCalledWith(130);
  });

  it('hands the signals to the run once it listens, never leaving them without a listener', () => {
    // Prepare
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    const before = process.listenerCount('SIGINT');
    answerInterruptsWhileStarting();

    // Act
    interrupt = listenForInterrupt();
    process.emit('SIGINT', 'SIGINT');

    // Assess: the run's listener alone took it, and nothing exited.
    expect(process.listenerCount('SIGINT')).toBe(before + 1);
    expect(interrupt.received()).toBe('SIGINT');
    expect(exit).not.toHaveBeenCalled();
  });
});
