// What createTestModel knows about the library's own machines and message vocabulary, so that
// `createTestModel(tcpClientMachine)` walks every state with no options: sample events with the
// payloads guards look at, a typical input, and what the server's listener does besides sending
// events (it counts connections in the machine's context).
import type { AnyActorRef, AnyEventObject, AnyMachineSnapshot, AnyStateMachine, EventObject } from 'xstate';
import { connectedSocketAdapterMachine, Opaque, tcpClientMachine, tcpServerMachine } from '../../machines/index.js';
import type { ConnectionCounts } from '../../machines/tcpServer.js';
import { producerFinished, reason, serverShutdown, shutdownMicroprocess } from '../kernel/messages.js';
import type { StubHandle, StubReaction, WalkAction, WalkTimers } from './stubActors.js';

/** The vocabulary's sample events, by type (any machine that handles the type gets them). */
const SAMPLES: Readonly<Record<string, readonly AnyEventObject[]>> = {
  control: [
    { type: 'control', data: producerFinished() },
    { type: 'control', data: shutdownMicroprocess() },
    { type: 'control', data: serverShutdown() },
    { type: 'control', data: { kind: 'notAControlMessage' } },
  ],
  inbox: [{ type: 'inbox', data: Buffer.from('data') }],
  makessl: [{ type: 'makessl', data: 'makessl' }],
  'connect.ok': [{ type: 'connect.ok', socket: new Opaque({}, 'socket') }],
  'connect.failed': [{ type: 'connect.failed', reason: reason('ECONNREFUSED', 'connection refused') }],
  'socket.secure': [{ type: 'socket.secure', protocol: 'TLSv1.3', authorized: true }],
  'socket.progress': [{ type: 'socket.progress', bytesIn: 1, bytesOut: 1 }],
  'socket.closed': [
    { type: 'socket.closed', bytesIn: 0, bytesOut: 0, unsentBytes: 0 },
    { type: 'socket.closed', bytesIn: 0, bytesOut: 0, unsentBytes: 0, reason: reason('ECONNRESET', 'the peer reset the connection') },
  ],
  'listener.bound': [{ type: 'listener.bound', address: '127.0.0.1', port: 8000, family: 'IPv4' }],
  'listener.bindFailed': [{ type: 'listener.bindFailed', reason: reason('EADDRINUSE', 'address in use') }],
  'listener.handshakeFailed': [{ type: 'listener.handshakeFailed', reason: reason('ECONNRESET', 'the peer reset the handshake') }],
  'listener.acceptError': [{ type: 'listener.acceptError', reason: reason('EMFILE', 'too many open files') }],
};

const CLOSE_TIMEOUT_MS = 2000;
const HANDSHAKE_TIMEOUT_MS = 5000;

const INPUTS = new Map<unknown, unknown>([
  [
    tcpClientMachine.config,
    {
      host: '127.0.0.1',
      port: 8000,
      connectTimeoutMs: 5000,
      secure: false,
      tls: undefined,
      delayMs: 0,
      closeTimeoutMs: CLOSE_TIMEOUT_MS,
      handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
      pendingHighWaterMark: 65536,
    },
  ],
  [connectedSocketAdapterMachine.config, { binding: { socket: {} }, closeTimeoutMs: CLOSE_TIMEOUT_MS, handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS, id: 1 }],
  [tcpServerMachine.config, { drainTimeout: 1000, closeTimeout: 1000, listener: {} }],
]);

/** The listener counts connections in the server's context in place; a drain that empties it says so. */
const LISTENER_EFFECTS: Readonly<Record<string, (stub: StubHandle) => void>> = {
  'a connection opens': (stub) => {
    const counts = (stub.input as { connections: ConnectionCounts }).connections;
    // Only while the server is listening (not binding, suspended, resuming or draining).
    if (stub.ref._parent?.getSnapshot().value !== 'listening') return;
    counts.open += 1;
    counts.accepted += 1;
  },
  'a connection closes': (stub) => {
    const counts = (stub.input as { connections: ConnectionCounts }).connections;
    if (counts.open === 0) return;
    counts.open -= 1;
    if (counts.open === 0 && stub.received.some((event) => event.type === 'stopAccepting')) stub.sendBack({ type: 'listener.drained' });
  },
};

/**
 * The socket binding's contract, as the CSA relies on it: an abort closes at once (the socket's
 * own facts, no reason: the machine keeps why it aborted), and once both our flush and the peer's
 * FIN happened the socket is closed.
 */
function socketBindingReacts(event: EventObject, stub: StubHandle, direction: 'received' | 'sent'): void {
  const closedCleanly = { type: 'socket.closed', bytesIn: 0, bytesOut: 0, unsentBytes: 0 };
  if (direction === 'sent') {
    // Our FIN was out already: the peer's FIN completes the close.
    if (event.type === 'socket.peerEnded' && stub.received.some((received) => received.type === 'flushSocket')) stub.sendBack(closedCleanly);
    return;
  }
  if (event.type === 'abortSocket') {
    // The binding reports only what happened to the socket; the machine decides the end's reason.
    stub.sendBack(closedCleanly);
  } else if (event.type === 'flushSocket' && stub.sent.some((sent) => sent.type === 'socket.peerEnded')) {
    stub.sendBack(closedCleanly);
  }
}

/** Where a socket binding is in its life, from what it sent and was told. */
function bindingPhase(stub: StubHandle): { upgrading: boolean; secure: boolean; peerEnded: boolean; flushed: boolean; closed: boolean } {
  let upgrading = false;
  let secure = false;
  for (const event of stub.sent) {
    if (event.type === 'socket.upgrading') upgrading = true;
    if (event.type === 'socket.secure') {
      upgrading = false;
      secure = true;
    }
  }
  return {
    upgrading,
    secure,
    peerEnded: stub.sent.some((event) => event.type === 'socket.peerEnded'),
    flushed: stub.received.some((event) => event.type === 'flushSocket'),
    closed: stub.sent.some((event) => event.type === 'socket.closed'),
  };
}

/**
 * What a real socket binding can report: nothing after closed; secure only during an upgrade we
 * have not cut short with our FIN; a peer's FIN during a handshake fails the handshake (so neither
 * peerEnded nor a clean close then); a clean close only after our flush; no reset seen after the
 * peer's FIN; one upgrade at a time.
 */
function socketBindingCan(event: EventObject, stub: StubHandle): boolean {
  const phase = bindingPhase(stub);
  if (phase.closed) return false;
  const withReason = (event as { reason?: unknown }).reason !== undefined;
  switch (event.type) {
    case 'socket.secure':
      // Our FIN during the handshake ends it.
      return phase.upgrading && !phase.flushed;
    case 'socket.upgrading':
      return !phase.upgrading && !phase.secure && !phase.peerEnded;
    case 'socket.peerEnded':
      return !phase.upgrading && !phase.peerEnded;
    case 'socket.closed':
      // After the peer's FIN node reads no more, so a reset then goes unseen (measured: the
      // connection closes cleanly when we finish); a clean close needs our flush.
      return withReason ? !phase.peerEnded : phase.flushed && !phase.upgrading;
    default:
      return true;
  }
}

/** The binding's phase as part of the state key: the same machine state with a handshake pending is another state. */
export function bindingKey(stub: StubHandle): string {
  const phase = bindingPhase(stub);
  return Object.entries(phase)
    .filter(([, on]) => on)
    .map(([name]) => name)
    .join('+');
}

/**
 * A listener answers a listen in flight (the first bind, or a reopen while the server is resuming)
 * once, bound or not; closing the socket cancels it (Node reports nothing for a cancelled listen).
 * It reports connections only once bound.
 */
function listenerCan(event: EventObject, stub: StubHandle): boolean {
  if (event.type === 'listener.bound' || event.type === 'listener.bindFailed') {
    const server = stub.ref._parent?.getSnapshot().value;
    return server === 'binding' || server === 'resuming';
  }
  return stub.sent.some((sent) => sent.type === 'listener.bound');
}

/** Destroying the connections closes them all at once: the drain is over. */
function listenerReacts(event: EventObject, stub: StubHandle, direction: 'received' | 'sent'): void {
  if (direction !== 'received' || event.type !== 'destroyConnections') return;
  const counts = (stub.input as { connections: ConnectionCounts }).connections;
  if (counts.open === 0) return;
  counts.open = 0;
  stub.sendBack({ type: 'listener.drained' });
}

/** The CSA's timers (its I/O's, not XState's) on the walk's clock, per actor and timeout event. */
const csaTimers = new WeakMap<AnyActorRef, Map<string, { id: unknown; clock: WalkTimers }>>();
function timersOf(self: AnyActorRef): Map<string, { id: unknown; clock: WalkTimers }> {
  let timers = csaTimers.get(self);
  if (!timers) csaTimers.set(self, (timers = new Map()));
  return timers;
}

/**
 * The library's walk stand-ins: TCPClient's routing (what it delivers to its CSA arrives; wiring
 * and gates are no-ops) and the CSA's timers (on the walk's clock: one running out is a step).
 */
const LIBRARY_ACTIONS: LibraryDefaults['actions'] = {
  startTimer: ({ self, clock }, params) => {
    const { event, ms } = params as { event: string; ms: number };
    const timers = timersOf(self);
    const running = timers.get(event);
    if (running) running.clock.clearTimeout(running.id);
    const id = clock.setTimeout(() => {
      timers.delete(event);
      self.send({ type: event });
    }, ms);
    timers.set(event, { id, clock });
  },
  cancelTimer: ({ self }, params) => {
    const { event } = params as { event: string };
    const timers = timersOf(self);
    const running = timers.get(event);
    if (running) running.clock.clearTimeout(running.id);
    timers.delete(event);
  },
  cancelTimers: ({ self }) => {
    const timers = timersOf(self);
    for (const running of timers.values()) running.clock.clearTimeout(running.id);
    timers.clear();
  },
  deliverToCsa: ({ context }, params) => {
    const { box, data } = params as { box: string; data: unknown };
    (context as { csa?: AnyActorRef }).csa?.send({ type: box, data } as EventObject);
  },
  wireCsa: () => undefined,
  closeInboxGate: () => undefined,
  reopenInboxGate: () => undefined,
};

export interface LibraryDefaults {
  readonly input: unknown;
  samples(type: string): readonly EventObject[] | undefined;
  actorEvents(src: string): readonly string[] | undefined;
  actorEffects(src: string): Readonly<Record<string, (stub: StubHandle) => void>>;
  /** I/O provided as actions: the library's socket binding. */
  readonly io: Readonly<Record<string, readonly string[]>>;
  /** Routing and flow control the walk does without. */
  readonly actions: Readonly<Record<string, WalkAction>>;
  /** Events the machines raise themselves (never sent from outside). */
  readonly internalEvents: readonly string[];
  actorKey(src: string): ((stub: StubHandle) => string) | undefined;
  actorCan(src: string): ((event: EventObject, stub: StubHandle) => boolean) | undefined;
  actorReactions(src: string): StubReaction | undefined;
  readonly serializeState: ((snapshot: AnyMachineSnapshot) => string) | undefined;
  readonly onStub: undefined;
}

type ChildMap = Record<string, { getSnapshot(): { value?: unknown; status: string } } | undefined>;

/**
 * The library's machines guard on state only (the client on its CSA's state, the server on whether
 * connections are open), so two snapshots differing only in byte counts or flags are one state.
 */
function libraryStateKey(machine: AnyStateMachine): ((snapshot: AnyMachineSnapshot) => string) | undefined {
  if (machine.config === tcpServerMachine.config) {
    return (snapshot) => JSON.stringify([snapshot.status, snapshot.value, (snapshot.context as { connections: ConnectionCounts }).connections.open > 0]);
  }
  if (machine.config === tcpClientMachine.config || machine.config === connectedSocketAdapterMachine.config) {
    const describe = (snapshot: { status: string; value?: unknown; children?: unknown }): unknown[] => [
      snapshot.status,
      snapshot.value,
      Object.entries((snapshot.children ?? {}) as ChildMap).map(([id, ref]) => [id, ref && describe(ref.getSnapshot())]),
    ];
    return (snapshot) => JSON.stringify(describe(snapshot));
  }
  return undefined;
}

export function libraryDefaults(machine: AnyStateMachine): LibraryDefaults {
  const isServer = machine.config === tcpServerMachine.config;
  const isLibrary = INPUTS.has(machine.config);
  return {
    input: INPUTS.get(machine.config),
    samples: (type) => SAMPLES[type],
    // listener.drained comes from a drain emptying the server (an effect above), never on its own.
    actorEvents: (src) => (isServer && src === 'listener' ? tcpServerMachine.events.filter((type) => type.startsWith('listener.') && type !== 'listener.drained') : undefined),
    // Only for the library's machines: a user's machine may use these names for other things.
    io: isLibrary ? { socket: ['openSocket', 'forwardToSocket', 'flushSocket', 'abortSocket'] } : {},
    actions: isLibrary ? LIBRARY_ACTIONS : {},
    internalEvents: isLibrary ? ['csa.halfOpenTimeout', 'csa.handshakeTimeout', 'csa.closeTimeout'] : [],
    actorKey: (src) => (src === 'socket' ? bindingKey : undefined),
    actorCan: (src) => (src === 'socket' ? socketBindingCan : isServer && src === 'listener' ? listenerCan : undefined),
    actorReactions: (src) => (src === 'socket' ? socketBindingReacts : isServer && src === 'listener' ? listenerReacts : undefined),
    actorEffects: (src) => (isServer && src === 'listener' ? LISTENER_EFFECTS : {}),
    serializeState: libraryStateKey(machine),
    onStub: undefined,
  };
}
