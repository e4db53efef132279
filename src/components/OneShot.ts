// OneShot(msg): sends msg on outbox, then producerFinished on signal, and ends.
import { box, defineComponent } from '../kernel/component.js';
import { producerFinished, type SignalMessage } from '../kernel/messages.js';

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
