// examples/customComponent.ts: a component written as a plain body, used in a Pipeline.
import { ConsoleEchoer, DataSource, Pipeline, box, defineComponent, isShutdownRequest, run, type SignalMessage } from 'kamaelia-xstate';

export const Upper = () =>
  defineComponent({
    name: 'Upper',
    inboxes: { inbox: box<string>(), control: box<SignalMessage>() },
    outboxes: { outbox: box<string>(), signal: box<SignalMessage>() },
    body: ({ on, send, finish }) => {
      on('inbox', (text) => send('outbox', text.toUpperCase()));
      on('control', (message) => {
        if (!isShutdownRequest(message)) return;
        send('signal', message); // pass the shutdown on, as Kamaelia components do
        finish(); // the graph sees this component end
      });
    },
  });

await run(Pipeline(DataSource(['shout\n']), Upper(), ConsoleEchoer())).done;
