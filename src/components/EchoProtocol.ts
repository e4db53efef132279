// EchoProtocol(): what arrives on inbox goes out of outbox. A producerFinished or shutdown on
// control is passed on to signal and ends it (so a server handler closes its connection).
import { box, defineComponent } from '../component.js';
import { isShutdownRequest, type SignalMessage } from '../messages.js';

export function EchoProtocol() {
  return defineComponent({
    name: 'EchoProtocol',
    inboxes: { inbox: box<Uint8Array>(), control: box<SignalMessage>() },
    outboxes: { outbox: box<Uint8Array>(), signal: box<SignalMessage>() },
    body: ({ on, send, finish }) => {
      on('inbox', (data) => send('outbox', data));
      on('control', (message) => {
        if (!isShutdownRequest(message)) return;
        send('signal', message);
        finish();
      });
    },
  });
}
