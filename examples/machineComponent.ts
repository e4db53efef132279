// examples/machineComponent.ts: a component whose logic is an XState machine. Inbox deliveries are
// events named by their box; outbox sends are emitted events; the final state ends the component.
import { assign, emit, setup } from 'xstate';
import {
  DataSource,
  Pipeline,
  box,
  defineComponent,
  isShutdownRequest,
  run,
  type InboxEvent,
  type OutboxEvent,
  type SignalMessage,
} from 'kamaelia-xstate';

type In = { inbox: string; control: SignalMessage };
type Out = { outbox: string; signal: SignalMessage };

const counterMachine = setup({
  types: {} as { context: { lines: number }; events: InboxEvent<In>; emitted: OutboxEvent<Out> },
}).createMachine({
  context: { lines: 0 },
  initial: 'counting',
  states: {
    counting: {
      on: {
        inbox: {
          actions: [
            assign({ lines: ({ context }) => context.lines + 1 }),
            emit(({ context, event }) => ({ type: 'outbox' as const, data: `${context.lines}: ${event.data}` })),
          ],
        },
        control: {
          guard: ({ event }) => isShutdownRequest(event.data),
          // pass the shutdown on, then end
          actions: emit(({ event }) => ({ type: 'signal' as const, data: event.data })),
          target: 'done',
        },
      },
    },
    done: { type: 'final' },
  },
});

const LineNumberer = defineComponent({
  name: 'LineNumberer',
  inboxes: { inbox: box<string>(), control: box<SignalMessage>() },
  outboxes: { outbox: box<string>(), signal: box<SignalMessage>() },
  logic: counterMachine,
});

const handle = run(Pipeline(DataSource(['alpha', 'beta']), LineNumberer));
for await (const line of handle.messages('outbox')) console.log(line);
