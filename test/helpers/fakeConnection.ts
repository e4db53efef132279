// A connection-shaped component with no socket, for inspector tests: events drive its machine
// through the lifecycle states the inspector draws, and it keeps byte totals in its context.
import { assign, setup } from 'xstate';
import { box, defineComponent } from 'kamaelia-xstate';

export const fakeConnectionMachine = setup({
  types: {} as {
    context: { bytesIn: number; bytesOut: number; host: string; port: number; reason?: { code: string; message: string } };
    events:
      | { type: 'inbox'; data: Uint8Array }
      | { type: 'control'; data: unknown }
      | { type: 'go' }
      | { type: 'refuse' }
      | { type: 'tls' }
      | { type: 'tlsDone' }
      | { type: 'drained' };
  },
}).createMachine({
  context: { bytesIn: 0, bytesOut: 0, host: '127.0.0.1', port: 7 },
  initial: 'connecting',
  states: {
    connecting: { on: { go: 'connected', refuse: { target: 'failed', actions: assign({ reason: { code: 'ECONNREFUSED', message: 'refused' } }) } } },
    connected: {
      on: {
        inbox: { actions: assign({ bytesOut: ({ context, event }) => context.bytesOut + event.data.byteLength }) },
        tls: 'upgradingTls',
        control: 'flushing',
      },
    },
    upgradingTls: { on: { tlsDone: 'connected' } },
    flushing: { on: { drained: 'closed' } },
    closed: { type: 'final' },
    failed: { type: 'final' },
  },
});

export const FakeConnection = () =>
  defineComponent({
    name: 'FakeConnection',
    inboxes: { inbox: box<Uint8Array>(), control: box<unknown>() },
    outboxes: { outbox: box<Uint8Array>(), signal: box<unknown>() },
    logic: fakeConnectionMachine,
  });
