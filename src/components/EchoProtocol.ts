// EchoProtocol(): what arrives on inbox goes out of outbox. A producerFinished or shutdown on
// control is passed on to signal and ends it (so a server handler closes its connection).
// Flow control passes through: while whatever the outbox feeds cannot take more (a socket over its
// high-water mark), the inbox is closed, so a peer that sends without reading is not buffered
// without bound.
import { box, defineComponent } from '../kernel/component.js';
import { isShutdownRequest, type SignalMessage } from '../kernel/messages.js';

// One definition for every call: a server calls EchoProtocol() per connection, and a definition
// (its box lists and actor logic) is ~0.6 KB that every instance can share, as it holds no state.
const echoProtocol = defineComponent({
  name: 'EchoProtocol',
  inboxes: { inbox: box<Uint8Array>(), control: box<SignalMessage>() },
  outboxes: { outbox: box<Uint8Array>(), signal: box<SignalMessage>() },
  body: ({ on, send, finish, canSend, whenCanSend, setInboxOpen }) => {
    let cancelWait: (() => void) | undefined;
    on('inbox', (data) => {
      send('outbox', data);
      if (cancelWait || canSend('outbox')) return;
      setInboxOpen('inbox', false);
      cancelWait = whenCanSend('outbox', () => {
        cancelWait = undefined;
        setInboxOpen('inbox', true);
      });
    });
    on('control', (message) => {
      if (!isShutdownRequest(message)) return;
      send('signal', message);
      finish();
    });
    return () => cancelWait?.();
  },
});

/**
 * A connection handler that sends back what it receives, holding its inbox while the connection
 * cannot take more; a shutdown on `control` is passed on to `signal` and ends it.
 *
 * @example
 * ```ts
 * run(ConnectedServer({ port: 7000, protocol: () => EchoProtocol() }));
 * ```
 */
export function EchoProtocol() {
  return echoProtocol;
}
