// ConsoleReader(): each line typed on stdin (with its end-of-line) goes out of outbox; end of input
// sends producerFinished. Unlike Kamaelia's threaded reader, control is honoured at once.
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { box, defineComponent } from '../kernel/component.js';
import { isShutdownRequest, producerFinished, type SignalMessage } from '../kernel/messages.js';

/** Options of {@link ConsoleReader}. */
export interface ConsoleReaderOptions {
  /** Shown before each line when the input is a terminal. @defaultValue '>>> ' */
  readonly prompt?: string;
  /** Appended to each line sent. @defaultValue '\n' */
  readonly eol?: string;
  /** Where lines are read from. @defaultValue process.stdin */
  readonly input?: Readable;
  /** Where the prompt is written. @defaultValue process.stdout */
  readonly output?: Writable;
}

/**
 * Sends each line read from stdin (with `eol`) on `outbox`; at the end of input it sends
 * `producerFinished` on `signal` and ends. A shutdown on `control` ends it at once.
 *
 * @param options - see {@link ConsoleReaderOptions}
 * @example
 * ```ts
 * await run(Pipeline(ConsoleReader(), TCPClient('127.0.0.1', 7000))).done;
 * ```
 */
export function ConsoleReader(options: ConsoleReaderOptions = {}) {
  return defineComponent({
    name: 'ConsoleReader',
    inboxes: { inbox: box<unknown>(), control: box<SignalMessage>() },
    outboxes: { outbox: box<string>(), signal: box<SignalMessage>() },
    body: ({ on, send, finish }) => {
      const input = options.input ?? process.stdin;
      const output = options.output ?? process.stdout;
      const prompt = options.prompt ?? '>>> ';
      const lines = createInterface({ input, output, prompt, terminal: false });
      const ask = (): void => {
        if (prompt && 'isTTY' in input && input.isTTY) lines.prompt();
      };
      lines.on('line', (line) => {
        send('outbox', line + (options.eol ?? '\n'));
        ask();
      });
      lines.on('close', () => {
        send('signal', producerFinished(undefined, { source: 'ConsoleReader' }));
        finish();
      });
      on('control', (message) => {
        if (!isShutdownRequest(message)) return;
        send('signal', message);
        finish();
      });
      ask();
      return () => {
        lines.removeAllListeners('close');
        lines.close();
      };
    },
  });
}
