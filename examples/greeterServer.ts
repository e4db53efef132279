// examples/greeterServer.ts: a server whose per-connection handler is an XState machine.
// npx tsx examples/greeterServer.ts [port]    then: nc 127.0.0.1 1605   (NAME ada, anything, QUIT)
import { pathToFileURL } from 'node:url';
import { emit, setup } from 'xstate';
import { ConnectedServer, Lines, Pipeline, box, defineComponent, isShutdownRequest, producerFinished, run } from 'kamaelia-xstate';
import type { InboxEvent, OutboxEvent, SignalMessage } from 'kamaelia-xstate';

type In = { inbox: string; control: SignalMessage }; // one line per message (Lines splits the bytes)
type Out = { outbox: string; signal: SignalMessage };

export const greeterMachine = setup({
  types: {} as { context: { idleMs: number }; input: { idleMs?: number }; events: InboxEvent<In>; emitted: OutboxEvent<Out> },
  guards: { says: ({ event }, word: string) => event.type === 'inbox' && event.data.toUpperCase().startsWith(word) },
  actions: {
    reply: emit((_, text: string) => ({ type: 'outbox' as const, data: `${text}\r\n` })),
    hangUp: emit({ type: 'signal' as const, data: producerFinished() }), // close this connection
  },
  delays: { idle: ({ context }) => context.idleMs },
}).createMachine({
  id: 'greeter',
  context: ({ input }) => ({ idleMs: input.idleMs ?? 30_000 }),
  // The client went away (socketShutdown) or finished sending (producerFinished).
  on: { control: { guard: ({ event }) => isShutdownRequest(event.data), target: '.closed' } },
  initial: 'anonymous',
  states: {
    anonymous: {
      entry: { type: 'reply', params: 'who are you? (NAME you)' },
      on: {
        inbox: [
          { guard: { type: 'says', params: 'NAME ' }, target: 'named', actions: { type: 'reply', params: 'hello' } },
          { guard: { type: 'says', params: 'QUIT' }, target: 'closed', actions: { type: 'reply', params: 'bye' } },
          { actions: { type: 'reply', params: 'NAME first' } },
        ],
      },
      after: { idle: { target: 'closed', actions: { type: 'reply', params: 'too slow' } } },
    },
    named: {
      on: {
        inbox: [
          { guard: { type: 'says', params: 'QUIT' }, target: 'closed', actions: { type: 'reply', params: 'bye' } },
          { actions: emit(({ event }) => ({ type: 'outbox' as const, data: `you said: ${event.data}\r\n` })) },
        ],
      },
    },
    closed: { type: 'final', entry: 'hangUp' },
  },
});

/** One connection's handler: bytes in, split into lines, answered by the machine. */
export const Greeter = (input: { idleMs?: number } = {}) =>
  Pipeline(
    Lines(),
    defineComponent({
      name: 'Greeter',
      inboxes: { inbox: box<string>(), control: box<SignalMessage>() },
      outboxes: { outbox: box<string>(), signal: box<SignalMessage>() },
      logic: greeterMachine,
      input,
    }),
  );

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const server = run(ConnectedServer({ host: '127.0.0.1', port: Number(process.argv[2] ?? 1605), protocol: () => Greeter() }));
  console.log('listening on port', (await server.next('listening')).port);
}
