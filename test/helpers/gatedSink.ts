// A slow consumer for flow-control tests: its inbox gate starts closed; open() lets data in.
import { box, defineComponent, type SignalMessage } from 'kamaelia-xstate';

export function gatedSink() {
  const chunks: Buffer[] = [];
  let open = (): void => {
    throw new Error('gatedSink: open() before the component started');
  };
  const component = defineComponent({
    name: 'GatedSink',
    inboxes: { inbox: box<Buffer>(), control: box<SignalMessage>() },
    outboxes: { outbox: box<unknown>(), signal: box<SignalMessage>() },
    body: ({ on, setInboxOpen }) => {
      setInboxOpen('inbox', false);
      open = () => setInboxOpen('inbox', true);
      on('inbox', (chunk) => chunks.push(Buffer.from(chunk)));
    },
  });
  return {
    component,
    chunks,
    open: () => open(),
    bytes: () => chunks.reduce((total, chunk) => total + chunk.length, 0),
  };
}
