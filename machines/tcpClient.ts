// TCPClient's lifecycle: delaying → connecting → open → closed | failed. Once connected it spawns a
// ConnectedSocketAdapter (child id `csa`) for the socket, passes its own inbox and makessl straight
// through to it and the CSA's outbox and sslready straight out of its own (Kamaelia's
// passthroughs). While open, the connection's own lifecycle (connected ⇄ upgradingTls → flushing →
// closed) is the CSA's: its chart, not a copy here. The node bindings (connector, CSA logic) and the
// wiring to the CSA (routing) are provided in by src/internet/TCPClient.ts; importing this opens no
// socket.
//
// Unlike Kamaelia: data and control that arrive before the connection exists are kept (a
// producerFinished then means "send what you have, then close"), the delay and connect timeout are
// timers, errors keep their codes, and exactly one terminal message leaves on signal.
import { assign, emit, enqueueActions, setup, type AnyActorRef, type EventObject } from 'xstate';
import {
  badMessage,
  describeValue,
  isBytes,
  isProducerFinished,
  isShutdownMicroprocess,
  producerFinished,
  reason,
  reasonFromError,
  type ControlMessage,
  type Reason,
  type SignalMessage,
} from '../src/kernel/messages.js';
import { connectedSocketAdapterMachine, type CsaInput, type CsaOutput, type SslReady } from './connectedSocketAdapter.js';
import { Opaque } from './opaque.js';
import { unboundAction, unboundActor } from './unbound.js';

/** Where and how to connect; `tls` holds node:tls options (kept opaque here). */
export interface ConnectRequest {
  readonly host: string;
  readonly port: number;
  readonly connectTimeoutMs: number;
  readonly secure: boolean;
  readonly tls: object | undefined;
  /** A replacement for dns.lookup (node:net's `lookup` option), kept opaque here. */
  readonly lookup?: unknown;
  /** Connect to this Unix domain socket instead of host:port. */
  readonly path?: string;
}

export interface TcpClientInput extends ConnectRequest {
  readonly delayMs: number;
  readonly closeTimeoutMs: number;
  readonly handshakeTimeoutMs: number;
  /** Queued bytes reaching this close TCPClient's inbox gate until the connection is up. */
  readonly pendingHighWaterMark: number;
  /** Keep our write side open after the server's FIN (node:net's allowHalfOpen). Absent means false. */
  readonly allowHalfOpen?: boolean;
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

/** What the connector actor reports: connected (with the socket) or failed (with why). */
export type ConnectorEvent = { type: 'connect.ok'; socket: Opaque<unknown> } | { type: 'connect.failed'; reason: Reason };

/** The events tcpClientMachine takes: its inboxes and its actors' reports. */
export type TcpClientEvent =
  | { type: 'inbox'; data: unknown }
  | { type: 'control'; data: SignalMessage }
  | { type: 'makessl'; data: unknown }
  | ConnectorEvent
  | { type: 'xstate.snapshot.csa'; snapshot: { value: unknown; context: { bytesIn: number; bytesOut: number } } }
  | { type: 'xstate.done.actor.csa'; output: CsaOutput }
  | { type: 'xstate.error.actor.connector'; error: unknown }
  | { type: 'xstate.error.actor.csa'; error: unknown };

/** What tcpClientMachine emits: its outboxes. */
export type TcpClientEmitted =
  | { type: 'outbox'; data: Buffer }
  | { type: 'signal'; data: SignalMessage }
  | { type: 'sslready'; data: SslReady };

/** tcpClientMachine's context. */
export interface TcpClientContext {
  readonly request: Opaque<ConnectRequest>;
  readonly host: string;
  readonly port: number;
  readonly delayMs: number;
  readonly closeTimeoutMs: number;
  readonly handshakeTimeoutMs: number;
  readonly pendingHighWaterMark: number;
  readonly allowHalfOpen: boolean;
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

/**
 * Before the connection exists: data and makessl are queued in order, producerFinished is kept for
 * later, shutdownMicroprocess ends at once (counting what was queued as unsent).
 */
const beforeConnection = {
  inbox: { actions: 'queue' },
  makessl: { actions: 'queueMakessl' },
  control: [
    { guard: 'isShutdownMicroprocess', target: 'closed', actions: 'abandonPending' },
    { guard: 'isProducerFinished', actions: 'rememberCloseRequest' },
    { actions: 'reportBadControl' },
  ],
} as const;

const USE = 'use TCPClient()';

/** TCPClient's lifecycle: `delaying` → `connecting` → `open` → `closed`, or `failed`; while open its CSA (child `csa`) runs the connection's own lifecycle. */
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
    /** No delay asked for: connect at once (XState's `after` of 0 ms is a timer, at least 1 ms in node). */
    noDelay: ({ context }) => context.delayMs === 0,
    // Used only on control transitions.
    isProducerFinished: ({ event }) => isProducerFinished((event as { data?: unknown }).data),
    isShutdownMicroprocess: ({ event }) => isShutdownMicroprocess((event as { data?: unknown }).data),
    // A reason that is only what our producer finished with (the close was graceful) is not a failure.
    // (The CSA's output has producerReason only when it is its reason, so no reason is never a failure.)
    csaFailed: ({ event }) => {
      const output = (event as Extract<TcpClientEvent, { type: 'xstate.done.actor.csa' }>).output;
      return output.reason !== output.producerReason;
    },
  },
  actions: {
    /** A control message that is neither kind of shutdown (or cannot even be read): reported, dropped. */
    reportBadControl: emit(({ event }) => ({
      type: 'signal' as const,
      data: badMessage(
        'control',
        reason('EBADMESSAGE', `TCPClient: control takes producerFinished or shutdownMicroprocess, got ${describeValue((event as { data?: unknown }).data)}; dropped`),
      ),
    })),
    /** Queues makessl before the connection exists: TLS starts once what came before it is written. */
    queueMakessl: ({ context }) => {
      context.pending.value.items.push(MAKESSL);
    },
    /** Queues inbox data that arrived before the connection exists; closes the gate when too much waits. */
    queue: enqueueActions(({ context, event, enqueue }) => {
      const pending = context.pending.value;
      const data = (event as { data?: unknown }).data;
      if (!isBytes(data)) {
        enqueue(
          emit({
            type: 'signal',
            data: badMessage('inbox', reason('EBADMESSAGE', `TCPClient: inbox takes Uint8Array or string, got ${describeValue(data)}; dropped`)),
          }),
        );
        return;
      }
      pending.items.push(data);
      // Buffer.byteLength takes a string (UTF-8) or any Uint8Array.
      pending.bytes += Buffer.byteLength(data);
      if (pending.bytes >= context.pendingHighWaterMark) enqueue('closeInboxGate');
    }),
    // Only on a producerFinished (the guard): the first one is the one acted on.
    rememberCloseRequest: ({ context, event }) => {
      context.pending.value.closeRequest ??= (event as { data: ControlMessage }).data;
    },
    /**
     * Wires the freshly spawned CSA in, then hands it what was queued from the first makessl on, in
     * order (what came before it went as the CSA's initial writes).
     */
    attachCsa: enqueueActions(({ context, enqueue }) => {
      enqueue('wireCsa');
      const pending = context.pending.value;
      for (const item of pending.items.splice(0)) {
        if (item === MAKESSL) enqueue({ type: 'deliverToCsa', params: { box: 'makessl', data: 'makessl (queued before the connection)' } });
        else enqueue({ type: 'deliverToCsa', params: { box: 'inbox', data: item } });
      }
      if (pending.closeRequest) enqueue({ type: 'deliverToCsa', params: { box: 'control', data: pending.closeRequest } });
      enqueue('reopenInboxGate');
    }),
    /** Puts `data` into the CSA's inbox `box` (routing, provided). */
    deliverToCsa: unboundAction('tcpClientMachine', 'deliverToCsa', USE) as (_: unknown, params: { box: string; data: unknown }) => void,
    /** Links the CSA's boxes to ours (passthroughs), names it for the inspector, and records how to undo that in csaLinks. */
    wireCsa: unboundAction('tcpClientMachine', 'wireCsa', USE),
    /** Too much is queued: producers hold back (flow control, provided). */
    closeInboxGate: unboundAction('tcpClientMachine', 'closeInboxGate', USE),
    /**
     * The CSA takes over: producers may send again. Reopening wakes them at once, and the CSA starts
     * only after this transition, so the provided action waits for that (a woken producer would pile
     * everything into the CSA's mailbox unchecked).
     */
    reopenInboxGate: unboundAction('tcpClientMachine', 'reopenInboxGate', USE),
    /** The CSA has ended: messages for it now stop at this (ending) client instead of a dead actor. */
    detachCsa: ({ context }) => {
      for (const undo of context.csaLinks.value.splice(0)) undo();
    },
    // These run only on their own event (control in open; the CSA's snapshot; the CSA's end).
    mirrorBytes: assign(({ event }) => {
      const { bytesIn, bytesOut } = (event as Extract<TcpClientEvent, { type: 'xstate.snapshot.csa' }>).snapshot.context;
      return { bytesIn, bytesOut };
    }),
    takeCsaOutput: assign(({ event }) => {
      const { bytesIn, bytesOut, unsentBytes, reason } = (event as Extract<TcpClientEvent, { type: 'xstate.done.actor.csa' }>).output;
      return { bytesIn, bytesOut, unsentBytes, reason };
    }),
    abandonPending: assign(({ context }) => ({ unsentBytes: context.unsentBytes + context.pending.value.bytes })),
  },
}).createMachine({
  id: 'TCPClient',
  context: ({ input }) => ({
    request: new Opaque<ConnectRequest>(
      {
        host: input.host,
        port: input.port,
        connectTimeoutMs: input.connectTimeoutMs,
        secure: input.secure,
        tls: input.tls,
        lookup: input.lookup,
        // The connector takes an undefined path as none.
        path: input.path,
      },
      input.path ?? `${input.host}:${input.port}`,
    ),
    host: input.host,
    port: input.port,
    delayMs: input.delayMs,
    closeTimeoutMs: input.closeTimeoutMs,
    handshakeTimeoutMs: input.handshakeTimeoutMs,
    pendingHighWaterMark: input.pendingHighWaterMark,
    allowHalfOpen: input.allowHalfOpen === true,
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
      always: { guard: 'noDelay', target: 'connecting' },
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
                allowHalfOpen: context.allowHalfOpen,
              };
              pending.items.splice(0, before.length);
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
      on: {
        // Passthroughs normally carry these to the CSA; a direct send lands here.
        inbox: { actions: { type: 'deliverToCsa', params: ({ event }) => ({ box: 'inbox', data: event.data }) } },
        makessl: { actions: { type: 'deliverToCsa', params: ({ event }) => ({ box: 'makessl', data: event.data }) } },
        control: { actions: { type: 'deliverToCsa', params: ({ event }) => ({ box: 'control', data: event.data }) } },
        // Byte counts for the inspector's client row; the CSA's states are its own.
        'xstate.snapshot.csa': { actions: 'mirrorBytes' },
        'xstate.error.actor.csa': {
          target: 'failed',
          actions: ['detachCsa', assign({ reason: ({ event }) => reasonFromError((event as { error?: unknown }).error) })],
        },
        'xstate.done.actor.csa': [
          { guard: 'csaFailed', target: 'failed', actions: ['detachCsa', 'takeCsaOutput'] },
          { target: 'closed', actions: ['detachCsa', 'takeCsaOutput'] },
        ],
      },
    },
    closed: {
      type: 'final',
      // The reason, if any, is the one our producer finished with: passed on after a graceful close.
      entry: enqueueActions(({ context, enqueue }) => {
        enqueue(emit({ type: 'signal', data: producerFinished(context.reason, { source: 'TCPClient', unsentBytes: context.unsentBytes }) }));
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
