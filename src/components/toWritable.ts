// toWritable(writable): a Node Writable as a component. What arrives on inbox is written; while
// write() says the stream is full the inbox is closed (flow control upstream) until 'drain'.
// producerFinished on control ends the stream (end()) and, once it has finished, is passed on.
import type { Writable } from 'node:stream';
import { box, defineComponent } from '../kernel/component.js';
import { listenTo } from './listenTo.js';
import { isProducerFinished, isShutdownRequest, producerFinished, reasonFromError, type SignalMessage } from '../kernel/messages.js';

/** Options of {@link toWritable}. */
export interface ToWritableOptions {
  /**
   * Call `writable.end()` when `producerFinished` arrives on `control`. Turn it off for a stream
   * you keep using, such as `process.stdout`.
   * @defaultValue true
   */
  readonly end?: boolean;
}

/**
 * Writes what arrives on `inbox` to a Node `Writable`, with flow control: while `write()` returns
 * false the component closes its inbox, so producers that honour flow control hold back until the
 * stream drains. `producerFinished` on `control` ends the stream (unless `end: false`), waits for it
 * to finish, then passes the message on to `signal` and ends; `shutdownMicroprocess` destroys the
 * stream at once. A stream error ends the component with `producerFinished` carrying the error's code.
 *
 * @param writable - the stream to write to
 * @param options - see {@link ToWritableOptions}
 * @typeParam T - what the inbox takes (bytes or strings for a byte stream)
 * @example
 * ```ts
 * import { Pipeline, TCPClient, run, toWritable } from 'kamaelia-xstate';
 * import { createWriteStream } from 'node:fs';
 * await run(Pipeline(TCPClient('127.0.0.1', 7000), toWritable(createWriteStream('received.bin')))).done;
 * ```
 */
export function toWritable<T = Uint8Array | string>(writable: Writable, options: ToWritableOptions = {}) {
  if (!writable || typeof (writable as Writable).write !== 'function' || typeof (writable as Writable).on !== 'function') {
    throw new TypeError(`toWritable: expected a Node Writable stream, got ${writable === null ? 'null' : typeof writable}`);
  }
  const endStream = options.end ?? true;
  return defineComponent({
    name: 'toWritable',
    inboxes: { inbox: box<T>(), control: box<SignalMessage>() },
    outboxes: { outbox: box<unknown>(), signal: box<SignalMessage>() },
    body: ({ on, send, finish, setInboxOpen }) => {
      let ended = false;
      let closing = false;
      const end = (message: SignalMessage): void => {
        if (ended) return;
        ended = true;
        detach();
        send('signal', message);
        finish();
      };
      const onDrain = (): void => setInboxOpen('inbox', true);
      const onError = (error: unknown): void => end(producerFinished(reasonFromError(error, 'ESTREAM'), { source: 'toWritable' }));
      const onClose = (): void => {
        if (!closing) end(producerFinished(writable.errored ? reasonFromError(writable.errored, 'ESTREAM') : undefined, { source: 'toWritable' }));
      };
      const detach = listenTo(writable, { drain: onDrain, error: onError, close: onClose });
      on('inbox', (data) => {
        if (ended || closing) return;
        if (!writable.write(data)) setInboxOpen('inbox', false);
      });
      on('control', (message) => {
        if (ended || closing || !isShutdownRequest(message)) return;
        if (!isProducerFinished(message)) {
          writable.destroy();
          end(message);
          return;
        }
        if (!endStream) {
          end(message);
          return;
        }
        closing = true;
        writable.end(() => end(message));
      });
      return detach;
    },
  });
}
