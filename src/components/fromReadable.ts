// fromReadable(readable): a Node Readable as a component. Each chunk goes out of outbox; the stream
// is paused while whatever outbox feeds cannot take more, so a fast source is held at the stream.
// End of stream: producerFinished on signal; a stream error: producerFinished carrying its code.
import type { Readable } from 'node:stream';
import { box, defineComponent } from '../kernel/component.js';
import { listenTo } from './listenTo.js';
import { isShutdownMicroprocess, isShutdownRequest, producerFinished, reasonFromError, type SignalMessage } from '../kernel/messages.js';

/**
 * Reads a Node `Readable` into a graph: its chunks (a `Buffer` each, or whatever an object-mode
 * stream yields, typed `T`) go out of `outbox`, paced by flow control (the stream is paused while
 * downstream is full). At the end of the stream it sends `producerFinished` on `signal` and ends; a
 * stream error ends it with `producerFinished` carrying `reason: { code, message }` (`ESTREAM` when
 * the error has no code). On `control`, `producerFinished` stops reading and passes the message on;
 * `shutdownMicroprocess` also destroys the stream.
 *
 * @param readable - the stream to read; it is read from when the component starts
 * @typeParam T - the chunk type (`Buffer` for a byte stream)
 * @example
 * ```ts
 * import { Pipeline, TCPClient, fromReadable, run } from 'kamaelia-xstate';
 * import { createReadStream } from 'node:fs';
 * await run(Pipeline(fromReadable(createReadStream('data.bin')), TCPClient('127.0.0.1', 7000))).done;
 * ```
 */
export function fromReadable<T = Buffer>(readable: Readable) {
  if (!readable || typeof (readable as Readable).on !== 'function' || typeof (readable as Readable).pause !== 'function') {
    throw new TypeError(`fromReadable: expected a Node Readable stream, got ${readable === null ? 'null' : typeof readable}`);
  }
  return defineComponent({
    name: 'fromReadable',
    inboxes: { inbox: box<unknown>(), control: box<SignalMessage>() },
    outboxes: { outbox: box<T>(), signal: box<SignalMessage>() },
    body: ({ on, send, finish, canSend, whenCanSend }) => {
      let ended = false;
      let cancelWait: (() => void) | undefined;
      const end = (message: SignalMessage): void => {
        if (ended) return;
        ended = true;
        detach();
        send('signal', message);
        finish();
      };
      const onData = (chunk: T): void => {
        send('outbox', chunk);
        if (cancelWait || canSend('outbox')) return;
        readable.pause();
        cancelWait = whenCanSend('outbox', () => {
          cancelWait = undefined;
          if (!ended) readable.resume();
        });
      };
      const onEnd = (): void => end(producerFinished(undefined, { source: 'fromReadable' }));
      const onError = (error: unknown): void => end(producerFinished(reasonFromError(error, 'ESTREAM'), { source: 'fromReadable' }));
      // 'close' without 'end' (destroyed by someone else) still ends this component.
      const onClose = (): void => end(producerFinished(readable.errored ? reasonFromError(readable.errored, 'ESTREAM') : undefined, { source: 'fromReadable' }));
      const unlisten = listenTo(readable, { data: onData, end: onEnd, error: onError, close: onClose });
      const detach = (): void => {
        cancelWait?.();
        cancelWait = undefined;
        unlisten();
        readable.pause();
      };
      on('control', (message) => {
        if (!isShutdownRequest(message) || ended) return;
        end(message);
        if (isShutdownMicroprocess(message)) readable.destroy();
      });
      return detach;
    },
  });
}
