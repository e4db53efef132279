// ConsoleEchoer(): writes each message to stdout (bytes as UTF-8 text, not b'...' as on Python 3).
// Any shutdown on control ends it and is passed on to signal.
import type { Writable } from 'node:stream';
import { box, defineComponent } from '../kernel/component.js';
import { isShutdownRequest, type SignalMessage } from '../kernel/messages.js';

/** Options of {@link ConsoleEchoer}. */
export interface ConsoleEchoerOptions {
  /** Also send every message on outbox. @defaultValue false */
  readonly forwarder?: boolean;
  /** Written before each message. @defaultValue '' */
  readonly tag?: string;
  /** Where to write. @defaultValue process.stdout */
  readonly stream?: Writable;
}

function render(message: unknown): string {
  if (typeof message === 'string') return message;
  if (message instanceof Uint8Array) return Buffer.from(message.buffer, message.byteOffset, message.byteLength).toString('utf8');
  return `${JSON.stringify(message)}\n`;
}

/**
 * Writes each message on `inbox` to stdout (bytes and strings as text, anything else as JSON); a shutdown on `control` ends it and is passed on to `signal`.
 * @param options - see {@link ConsoleEchoerOptions}
 * @example
 * ```ts
 * await run(Pipeline(DataSource(['hello\n']), ConsoleEchoer({ tag: '> ' }))).done;
 * ```
 */
export function ConsoleEchoer(options: ConsoleEchoerOptions = {}) {
  return defineComponent({
    name: 'ConsoleEchoer',
    inboxes: { inbox: box<unknown>(), control: box<SignalMessage>() },
    outboxes: { outbox: box<unknown>(), signal: box<SignalMessage>() },
    body: ({ on, send, finish }) => {
      const stream = options.stream ?? process.stdout;
      on('inbox', (message) => {
        stream.write((options.tag ?? '') + render(message));
        if (options.forwarder) send('outbox', message);
      });
      on('control', (message) => {
        if (!isShutdownRequest(message)) return;
        send('signal', message);
        finish();
      });
    },
  });
}
