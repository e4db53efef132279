// How many XState actors a connection costs: a body handler runs inside its connection (the CSA is
// the one actor), yet inspection still shows it as a component with its path, boxes, messages and
// end; a handler written as a machine stays its own actor.
import { Actor, emit, setup, type AnyActorRef, type InspectionEvent } from 'xstate';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ConnectedServer,
  EchoProtocol,
  box,
  componentInfo,
  componentPath,
  defineComponent,
  isShutdownRequest,
  run,
  serverStats,
  type InboxEvent,
  type OutboxEvent,
  type SignalMessage,
} from 'kamaelia-xstate';
import { closed, connect, readBytes, until } from './server-helpers.js';

const CONNECTIONS = 20;
const stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});

type In = { inbox: Uint8Array; control: SignalMessage };
type Out = { outbox: Uint8Array; signal: SignalMessage };
const echoMachine = setup({ types: {} as { events: InboxEvent<In>; emitted: OutboxEvent<Out> } }).createMachine({
  initial: 'echoing',
  states: {
    echoing: {
      on: {
        inbox: { actions: emit(({ event }) => ({ type: 'outbox' as const, data: event.data })) },
        control: { guard: ({ event }) => isShutdownRequest(event.data), target: 'done' },
      },
    },
    done: { type: 'final' },
  },
});
const MachineEcho = defineComponent({
  name: 'MachineEcho',
  inboxes: { inbox: box<Uint8Array>(), control: box<SignalMessage>() },
  outboxes: { outbox: box<Uint8Array>(), signal: box<SignalMessage>() },
  logic: echoMachine,
});

interface Seen {
  readonly created: AnyActorRef[];
  readonly events: { ref: AnyActorRef; type: string }[];
  readonly ends: Map<AnyActorRef, string>;
}

async function serveAndCount(protocol: () => ReturnType<typeof EchoProtocol> | typeof MachineEcho): Promise<Seen> {
  const seen: Seen = { created: [], events: [], ends: new Map() };
  let counting = false;
  const server = run(ConnectedServer({ host: '127.0.0.1', protocol }), {
    inspect: (event: InspectionEvent) => {
      if (!counting) return;
      const ref = event.actorRef as AnyActorRef;
      if (event.type === '@xstate.actor') seen.created.push(ref);
      if (event.type === '@xstate.event') seen.events.push({ ref, type: event.event.type });
      if (event.type === '@xstate.snapshot' && event.snapshot.status !== 'active') seen.ends.set(ref, event.snapshot.status);
    },
  });
  stops.push(() => server.stop());
  const { port } = await server.next('listening', { timeoutMs: 5000 });
  // One connection first, so one-time services (the Selector) are not counted.
  const warmUp = await connect(port);
  warmUp.write('w');
  await readBytes(warmUp, 1);
  warmUp.end();
  await closed(warmUp);
  await until(() => serverStats(server.actor)?.open === 0, 'the warm-up connection to close');
  counting = true;
  for (let n = 0; n < CONNECTIONS; n++) {
    const socket = await connect(port);
    socket.write(`hello ${n}`);
    expect((await readBytes(socket, `hello ${n}`.length)).toString()).toBe(`hello ${n}`);
    socket.end();
    await closed(socket);
  }
  await until(() => serverStats(server.actor)?.open === 0, 'every connection to close');
  await until(() => seen.created.every((ref) => ref.getSnapshot().status !== 'active'), 'every handler to end');
  return seen;
}

describe('actors per connection', () => {
  it('a body handler runs inside its connection: one XState actor per connection, the handler still inspected as a component', async () => {
    const seen = await serveAndCount(() => EchoProtocol());
    const actors = seen.created.filter((ref) => ref instanceof Actor);
    expect(actors).toHaveLength(CONNECTIONS);
    expect(new Set(actors.map((ref) => componentInfo(ref)?.component.name))).toEqual(new Set(['ConnectedSocketAdapter']));

    const handlers = seen.created.filter((ref) => !(ref instanceof Actor));
    expect(handlers).toHaveLength(CONNECTIONS);
    for (const handler of handlers) {
      expect(componentPath(handler)).toMatch(/^ConnectedServer\/\d+:EchoProtocol$/);
      expect(componentInfo(handler)?.component).toMatchObject({ inboxes: ['inbox', 'control'], outboxes: ['outbox', 'signal'] });
      expect(seen.events.some((e) => e.ref === handler && e.type === 'inbox')).toBe(true);
      expect(seen.events.some((e) => e.ref === handler && e.type === 'control')).toBe(true);
      expect(seen.ends.get(handler)).toBe('done');
    }
  });

  it('a handler written as a machine stays its own actor', async () => {
    const seen = await serveAndCount(() => MachineEcho);
    const actors = seen.created.filter((ref) => ref instanceof Actor);
    expect(actors).toHaveLength(2 * CONNECTIONS);
    expect(actors.filter((ref) => componentInfo(ref)?.component.name === 'MachineEcho')).toHaveLength(CONNECTIONS);
    expect(seen.created.filter((ref) => !(ref instanceof Actor))).toEqual([]);
  });
});
