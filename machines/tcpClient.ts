// TCPClient's lifecycle: delaying → connecting → open { connected ⇄ upgradingTls → flushing } →
// closed | failed. Once connected it spawns a ConnectedSocketAdapter (child id `csa`) for the
// socket, passes its own inbox and makessl straight through to it and the CSA's outbox and
// sslready straight out of its own (Kamaelia's passthroughs), and mirrors the CSA's lifecycle
// states. The node bindings (connector, CSA logic) are provided in; importing this opens no socket.
//
// Unlike Kamaelia: data and control that arrive before the connection exists are kept (a
// producerFinished then means "send what you have, then close"), the delay and connect timeout are
// timers, errors keep their codes, and exactly one terminal message leaves on signal.
import { and, assign, emit, enqueueActions, not, setup, stateIn, type AnyActorRef, type EventObject } from 'xstate';
import { describeValue } from '../src/kernel/component.js';
import {
  badMessage,
  isBadMessage,
  isProducerFinished,
  isShutdownMicroprocess,
  producerFinished,
  reason,
  reasonFromError,
  type ControlMessage,
  type Reason,
  type SignalMessage,
} from '../src/kernel/messages.js';
import {
  addInboxPassthrough,
  deliverToInbox,
  linkToOwnOutbox,
  registerComponent,
  removeInboxPassthroughsTo,
  removeLinksBetween,
  setInboxOpen,
} from '../src/kernel/routing.js';
import { emitFrom } from '../src/kernel/xstateInternals.js';
import { connectedSocketAdapterMachine, type CsaInput, type CsaOutput, type SslReady } from './connectedSocketAdapter.js';
import { Opaque } from './opaque.js';
import { unboundActor } from './unboundActor.js';

/** Where and how to connect; `tls` holds node:tls options (kept opaque here). */
export interface ConnectRequest {
  readonly host: string;
  readonly port: number;
  readonly connectTimeoutMs: number;
  readonly secure: boolean;
  readonly tls: object | undefined;
  /** A replacement for dns.lookup (node:net's `lookup` option), kept opaque here. */
  readonly lookup?: unknown;
}

export interface TcpClientInput extends ConnectRequest {
  readonly delayMs: number;
  readonly closeTimeoutMs: number;
  readonly handshakeTimeoutMs: number;
  /** Queued bytes above this close TCPClient's inbox gate until the connection is up. */
  readonly pendingHighWaterMark: number;
}

const MAKESSL = Symbol('makessl');
type Pending = Uint8Array | string | typeof MAKESSL;

/** What arrived before the connection existed, in arrival order (makessl included). */
export class PendingQueue {
  readonly items: Pending[] = [];
  bytes = 0;
  /** A producerFinished that arrived early: once the CSA has the queued data, it closes. */
  closeRequest: ControlMessage | undefined;
}

export type ConnectorEvent = { type: 'connect.ok'; socket: Opaque<unknown> } | { type: 'connect.failed'; reason: Reason };

export type TcpClientEvent =
  | { type: 'inbox'; data: unknown }
  | { type: 'control'; data: SignalMessage }
  | { type: 'makessl'; data: unknown }
  | ConnectorEvent
  | { type: 'xstate.snapshot.csa'; snapshot: { value: unknown; context: { bytesIn: number; bytesOut: number } } }
  | { type: 'xstate.done.actor.csa'; output: CsaOutput }
  | { type: 'xstate.error.actor.connector'; error: unknown }
  | { type: 'xstate.error.actor.csa'; error: unknown };

export type TcpClientEmitted =
  | { type: 'outbox'; data: Buffer }
  | { type: 'signal'; data: SignalMessage }
  | { type: 'sslready'; data: SslReady };

export interface TcpClientContext {
  readonly request: Opaque<ConnectRequest>;
  readonly host: string;
  readonly port: number;
  readonly delayMs: number;
  readonly closeTimeoutMs: number;
  readonly handshakeTimeoutMs: number;
  readonly pendingHighWaterMark: number;
  readonly pending: Opaque<PendingQueue>;
  readonly socket: Opaque<unknown> | undefined;
  readonly csa: AnyActorRef | undefined;
  /** Undoes the passthroughs and links made to the CSA, once it has ended. */
  readonly csaLinks: Opaque<(() => void)[]>;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly unsentBytes: number;
  readonly reason: Reason | undefined;
}

function byteLength(data: Uint8Array | string): number {
  return typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
}

const csaIn =
  (state: string) =>
  ({ event }: { event: EventObject }): boolean =>
    event.type === 'xstate.snapshot.csa' && (event as Extract<TcpClientEvent, { type: 'xstate.snapshot.csa' }>).snapshot.value === state;

/**
 * Before the connection exists: data and makessl are queued in order, producerFinished is kept for
 * later, shutdownMicroprocess ends at once (counting what was queued as unsent).
 */
const beforeConnection = {
  inbox: { actions: 'queue' },
  makessl: { actions: 'queue' },
  control: [
    { guard: 'isShutdownMicroprocess', target: 'closed', actions: 'abandonPending' },
    { guard: 'isProducerFinished', actions: 'rememberCloseRequest' },
  ],
} as const;

export const tcpClientMachine = setup({
  types: {} as {
    context: TcpClientContext;
    input: TcpClientInput;
    events: TcpClientEvent;
    emitted: TcpClientEmitted;
  },
  actors: {
    // src/TCPClient.ts provides the node:net binding.
    connector: unboundActor<EventObject, ConnectRequest>('tcpClientMachine', 'connector', 'use TCPClient()'),
    csa: connectedSocketAdapterMachine,
  },
  delays: {
    connectDelay: ({ context }) => context.delayMs,
  },
  guards: {
    isProducerFinished: ({ event }) => event.type === 'control' && isProducerFinished(event.data),
    isShutdownMicroprocess: ({ event }) => event.type === 'control' && isShutdownMicroprocess(event.data),
    csaUpgrading: and([csaIn('upgradingTls'), not(stateIn({ open: 'upgradingTls' }))]),
    csaFlushing: and([csaIn('flushing'), not(stateIn({ open: 'flushing' }))]),
    csaConnected: and([csaIn('connected'), not(stateIn({ open: 'connected' }))]),
    csaFailed: ({ event }) => event.type === 'xstate.done.actor.csa' && event.output.reason !== undefined,
  },
  actions: {
    /** Queues a message that arrived before the connection exists; closes the gate when too much waits. */
    queue: ({ context, event, self }) => {
      const pending = context.pending.value;
      if (event.type === 'makessl') {
        pending.items.push(MAKESSL);
        return;
      }
      if (event.type !== 'inbox') return;
      const data = event.data;
      if (!(data instanceof Uint8Array) && typeof data !== 'string') {
        emitFrom(self, {
          type: 'signal',
          data: badMessage('inbox', reason('EBADMESSAGE', `TCPClient: inbox takes Uint8Array or string, got ${describeValue(data)}; dropped`)),
        });
        return;
      }
      pending.items.push(data);
      pending.bytes += byteLength(data);
      if (pending.bytes >= context.pendingHighWaterMark) setInboxOpen(self, 'inbox', false);
    },
    rememberCloseRequest: ({ context, event }) => {
      if (event.type === 'control' && isProducerFinished(event.data)) context.pending.value.closeRequest ??= event.data;
    },
    /** Wires the freshly spawned CSA in, then hands it what was queued, in order. */
    attachCsa: ({ context, self }) => {
      const csa = context.csa;
      if (!csa) return;
      registerComponent(csa, { component: csaComponentInfo, name: 'csa:ConnectedSocketAdapter', parent: self });
      // The CSA's own end (shutdownCSA) is ours to report; its badMessage reports pass through.
      const badMessages = csa.on('signal', (event: { data?: unknown }) => {
        if (isBadMessage(event.data)) emitFrom(self, { type: 'signal', data: event.data });
      });
      addInboxPassthrough(self, 'inbox', csa, 'inbox');
      addInboxPassthrough(self, 'makessl', csa, 'makessl');
      linkToOwnOutbox(csa, 'outbox', self, 'outbox');
      linkToOwnOutbox(csa, 'sslready', self, 'sslready');
      context.csaLinks.value.push(() => {
        removeInboxPassthroughsTo(self, csa);
        removeLinksBetween(csa, self);
        badMessages.unsubscribe();
      });
      const pending = context.pending.value;
      const firstMakessl = pending.items.indexOf(MAKESSL);
      const rest = firstMakessl < 0 ? [] : pending.items.slice(firstMakessl);
      pending.items.length = 0;
      pending.bytes = 0;
      for (const item of rest) {
        if (item === MAKESSL) deliverToInbox(csa, 'makessl', 'makessl (queued before the connection)');
        else deliverToInbox(csa, 'inbox', item);
      }
      if (pending.closeRequest) deliverToInbox(csa, 'control', pending.closeRequest);
      // Reopening wakes producers at once; the CSA starts only after this transition, so a woken
      // producer would pile everything into its mailbox unchecked. Let it start first.
      queueMicrotask(() => setInboxOpen(self, 'inbox', true));
    },
    /** The CSA has ended: messages for it now stop at this (ending) client instead of a dead actor. */
    detachCsa: ({ context }) => {
      for (const undo of context.csaLinks.value.splice(0)) undo();
    },
    forwardControl: ({ context, event }) => {
      if (event.type === 'control' && context.csa) deliverToInbox(context.csa, 'control', event.data);
    },
    mirrorBytes: assign(({ event, context }) =>
      event.type === 'xstate.snapshot.csa'
        ? { bytesIn: event.snapshot.context.bytesIn, bytesOut: event.snapshot.context.bytesOut }
        : { bytesIn: context.bytesIn, bytesOut: context.bytesOut },
    ),
    takeCsaOutput: assign({
      bytesIn: ({ event, context }) => (event.type === 'xstate.done.actor.csa' ? event.output.bytesIn : context.bytesIn),
      bytesOut: ({ event, context }) => (event.type === 'xstate.done.actor.csa' ? event.output.bytesOut : context.bytesOut),
      unsentBytes: ({ event, context }) => (event.type === 'xstate.done.actor.csa' ? event.output.unsentBytes : context.unsentBytes),
      reason: ({ event, context }) => (event.type === 'xstate.done.actor.csa' ? event.output.reason : context.reason),
    }),
    abandonPending: assign(({ context }) => ({ unsentBytes: context.unsentBytes + context.pending.value.bytes })),
  },
}).createMachine({
  id: 'TCPClient',
  context: ({ input }) => ({
    request: new Opaque<ConnectRequest>(
      { host: input.host, port: input.port, connectTimeoutMs: input.connectTimeoutMs, secure: input.secure, tls: input.tls, lookup: input.lookup },
      `${input.host}:${input.port}`,
    ),
    host: input.host,
    port: input.port,
    delayMs: input.delayMs,
    closeTimeoutMs: input.closeTimeoutMs,
    handshakeTimeoutMs: input.handshakeTimeoutMs,
    pendingHighWaterMark: input.pendingHighWaterMark,
    pending: new Opaque(new PendingQueue(), 'pending writes'),
    socket: undefined,
    csa: undefined,
    csaLinks: new Opaque<(() => void)[]>([], 'links to the CSA'),
    bytesIn: 0,
    bytesOut: 0,
    unsentBytes: 0,
    reason: undefined,
  }),
  initial: 'delaying',
  states: {
    // Kamaelia spins here and ignores control; this is a timer and control works.
    delaying: {
      after: { connectDelay: 'connecting' },
      on: { ...beforeConnection },
    },
    connecting: {
      invoke: { id: 'connector', src: 'connector', input: ({ context }) => context.request.value },
      on: {
        ...beforeConnection,
        'connect.ok': {
          target: 'open',
          actions: assign({
            socket: ({ event }) => event.socket,
            csa: ({ event, context, spawn }) => {
              const pending = context.pending.value;
              const firstMakessl = pending.items.indexOf(MAKESSL);
              const before = pending.items.slice(0, firstMakessl < 0 ? pending.items.length : firstMakessl) as (Uint8Array | string)[];
              const request = context.request.value;
              const input: CsaInput = {
                binding: {
                  socket: event.socket.value as CsaInput['binding']['socket'],
                  initialWrites: before,
                  ...(request.tls ? { tls: request.tls } : {}),
                  ...(request.secure ? { secure: true } : {}),
                },
                closeTimeoutMs: context.closeTimeoutMs,
                handshakeTimeoutMs: context.handshakeTimeoutMs,
                id: 0,
              };
              if (firstMakessl < 0) pending.items.length = 0;
              else pending.items.splice(0, firstMakessl);
              return spawn('csa', { id: 'csa', input, syncSnapshot: true });
            },
          }),
        },
        'connect.failed': { target: 'failed', actions: [assign({ reason: ({ event }) => event.reason }), 'abandonPending'] },
        // The connector is written not to throw; if it does anyway, fail rather than hang here.
        'xstate.error.actor.connector': {
          target: 'failed',
          actions: [assign({ reason: ({ event }) => reasonFromError((event as { error?: unknown }).error) }), 'abandonPending'],
        },
      },
    },
    open: {
      entry: 'attachCsa',
      initial: 'connected',
      on: {
        // Passthroughs normally carry these to the CSA; a direct send lands here.
        inbox: { actions: ({ context, event }) => context.csa && deliverToInbox(context.csa, 'inbox', event.data) },
        makessl: { actions: ({ context, event }) => context.csa && deliverToInbox(context.csa, 'makessl', event.data) },
        control: { actions: 'forwardControl' },
        'xstate.snapshot.csa': [
          { guard: 'csaUpgrading', target: '.upgradingTls', actions: 'mirrorBytes' },
          { guard: 'csaFlushing', target: '.flushing', actions: 'mirrorBytes' },
          { guard: 'csaConnected', target: '.connected', actions: 'mirrorBytes' },
          { actions: 'mirrorBytes' },
        ],
        'xstate.error.actor.csa': {
          target: 'failed',
          actions: ['detachCsa', assign({ reason: ({ event }) => reasonFromError((event as { error?: unknown }).error) })],
        },
        'xstate.done.actor.csa': [
          { guard: 'csaFailed', target: 'failed', actions: ['detachCsa', 'takeCsaOutput'] },
          { target: 'closed', actions: ['detachCsa', 'takeCsaOutput'] },
        ],
      },
      states: {
        connected: {},
        upgradingTls: {},
        flushing: {},
      },
    },
    closed: {
      type: 'final',
      entry: enqueueActions(({ context, enqueue }) => {
        enqueue(emit({ type: 'signal', data: producerFinished(undefined, { source: 'TCPClient', unsentBytes: context.unsentBytes }) }));
      }),
    },
    failed: {
      type: 'final',
      entry: enqueueActions(({ context, enqueue }) => {
        enqueue(emit({ type: 'signal', data: producerFinished(context.reason, { source: 'TCPClient', unsentBytes: context.unsentBytes }) }));
      }),
    },
  },
});

/** How the spawned CSA appears to componentPath() and the inspector. */
const csaComponentInfo = {
  kind: 'kamaelia.component' as const,
  name: 'ConnectedSocketAdapter',
  inboxes: ['inbox', 'control', 'ReadReady', 'SendReady', 'makessl'],
  outboxes: ['outbox', 'CreatorFeedback', 'signal', 'sslready'],
  logic: connectedSocketAdapterMachine,
};
