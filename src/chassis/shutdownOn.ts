// shutdownOn(handle, signals, { delay }): what a server should do on SIGTERM under Kubernetes, PM2 or
// systemd. Kubernetes sends SIGTERM while endpoints still route new clients here for a moment
// (kubernetes#67592), so the server first keeps accepting for `delay`, then serverShutdown: it stops
// accepting and drains within drainTimeout; once it has ended the process exits with code 0.
// A second signal meanwhile asks for a prompt shutdown (open connections are closed now).
import { serverShutdown, shutdownMicroprocess, type SignalMessage } from '../kernel/messages.js';
import { checkDuration } from '../internet/options.js';
import type { RunResult } from '../kernel/run.js';

/** What shutdownOn needs of a run() handle. */
export interface ShutdownTarget {
  /** Puts a message into the server's control (run()'s handle does). */
  send(box: 'control', message: SignalMessage): boolean;
  readonly done: Promise<RunResult>;
}

/** Options of {@link shutdownOn}. */
export interface ShutdownOnOptions {
  /** Milliseconds to go on accepting after the signal before serverShutdown (endpoint propagation). @defaultValue 0 */
  readonly delay?: number;
  /** Exit the process once the server has ended: code 0, or 1 if an error ended it. @defaultValue true */
  readonly exit?: boolean;
  /** Told each signal as it arrives (for a log line). @defaultValue none */
  readonly onSignal?: (signal: NodeJS.Signals) => void;
}

/**
 * Shuts the server of `handle` down gracefully on the first of `signals` (default SIGTERM and
 * SIGINT), promptly on a second. Returns a function that removes the signal handlers.
 */
export function shutdownOn(handle: ShutdownTarget, signals: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'], options: ShutdownOnOptions = {}): () => void {
  if (!handle || typeof handle.send !== 'function' || !(handle.done instanceof Promise)) throw new TypeError('shutdownOn: handle must be what run() returned');
  if (!Array.isArray(signals) || signals.length === 0) throw new TypeError('shutdownOn: signals must be a non-empty array such as [\'SIGTERM\', \'SIGINT\']');
  const delay = checkDuration('shutdownOn', 'delay', options.delay, 0);
  let received = 0;
  let timer: NodeJS.Timeout | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    options.onSignal?.(signal);
    received++;
    if (received === 1) {
      timer = setTimeout(() => handle.send('control', serverShutdown()), delay);
      void handle.done.then((result) => {
        remove();
        if (options.exit !== false) process.exit(result.status === 'error' ? 1 : 0);
      });
    } else {
      clearTimeout(timer);
      handle.send('control', shutdownMicroprocess());
    }
  };
  const remove = (): void => {
    for (const signal of signals) process.off(signal, onSignal);
  };
  for (const signal of signals) process.on(signal, onSignal);
  // Once the server ends for any other reason, the handlers go (and no longer keep a signal from killing the process).
  void handle.done.then(remove, remove);
  return remove;
}
