// OneShot(msg): sends msg on outbox, then producerFinished on signal, and ends.
import { box, defineComponent } from '../kernel/component.js';
import { producerFinished, type SignalMessage } from '../kernel/messages.js';

/**
 * Sends `message` on `outbox`, then `producerFinished` on `signal`, and ends.
 *
 * @param message - what to send
 * @example
 * ```ts
 * await run(Pipeline(OneShot('hello\n'), TCPClient('127.0.0.1', 7000))).done; // sends, then closes
 * ```
 */
export function OneShot<T>(message: T) {
  return defineComponent({
    name: 'OneShot',
    inboxes: { inbox: box<unknown>(), control: box<SignalMessage>() },
    outboxes: { outbox: box<T>(), signal: box<SignalMessage>() },
    body: ({ send, finish }) => {
      send('outbox', message);
      send('signal', producerFinished(undefined, { source: 'OneShot' }));
      finish();
    },
  });
}
