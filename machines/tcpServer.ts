// The TCPServer lifecycle: binding → listening → draining → closed, or binding → failed; accepting
// can be suspended (listening ⇄ suspended, resuming in between). Pure: the listening socket lives in
// the `listener` actor (actors/listener.ts), provided by src/TCPServer.ts; the machine decides when
// it listens, and the listener carries that out and reports what happened.
// Per connection the machine takes no event: the listener counts connections in `connections` (a
// plain object the machine holds and reads) and announces newCSA/shutdownCSA on the machine's
// protocolHandlerSignal itself; the machine hears `listener.drained` when a drain has emptied it.
import { assign, emit, fromCallback, sendTo, setup, type AnyActorRef } from 'xstate';
import {
  badMessage,
  describeValue,
  isControlMessage,
  isServerShutdown,
  isShutdownMicroprocess,
  listening,
  reason,
  producerFinished,
  type Listening,
  type NewCSA,
  type Reason,
  type ShutdownCSA,
  type SignalMessage,
} from '../src/kernel/messages.js';

/** What tcpServerMachine is started with. */
export interface TcpServerInput {
  /** After serverShutdown, how long open connections may go on before they are asked to close. */
  readonly drainTimeout: number;
  /** After connections were asked to close (flush, then close), how long before they are destroyed. */
  readonly closeTimeout: number;
  /** Passed through to the listener actor (its options). */
  readonly listener: unknown;
}

/** A server's counters, as serverStats(handle.actor) reports them. */
export interface TcpServerStats {
  /** Connections accepted and not yet closed. */
  readonly open: number;
  readonly accepted: number;
  /** Connections turned away because maxConnections was reached. */
  readonly refused: number;
  /**
   * TLS handshakes that failed or timed out (implicit TLS). A client that closes or resets before
   * sending a byte (a port probe, a load balancer's plain TCP check) began none and is not counted;
   * one that stays silent is, at handshakeTimeout.
   */
  readonly handshakeFailures: number;
  readonly lastHandshakeFailure: Reason | undefined;
  /**
   * Connections the server could not take after accepting began: an error Node reported on the
   * listening socket (`EMFILE`, `ENFILE`, ... when libuv could not absorb it), or a connection whose
   * CSA could not be made (`ECSA`: the `csa` option threw). None stops the server. Under file
   * descriptor exhaustion libuv usually accepts and closes the excess connections itself, without
   * telling Node: those are not counted (nothing in Node says they happened); see docs/deploy.md.
   */
  readonly acceptErrors: number;
  /** The most recent of those errors. */
  readonly lastAcceptError: Reason | undefined;
  /**
   * Connections closed at the PROXY protocol gate after judging them: an untrusted address, a bad
   * header, or no complete header within the timeout. A peer that closes or resets before it can be
   * judged (a load balancer's health check) is not counted.
   */
  readonly proxyRejected: number;
}

/**
 * Open and accepted connections, kept by the listener in place (a machine event per accept and per
 * close cost two macrosteps a connection). The machine reads `open` in its guards.
 */
export interface ConnectionCounts {
  open: number;
  accepted: number;
  /** Kept here too (the listener counts them in place): see TcpServerStats.proxyRejected. */
  proxyRejected: number;
}

/** The listener actor's input: the options the machine passes through, and the counters it fills in. */
export interface ListenerActorInput {
  readonly options: unknown;
  readonly connections: ConnectionCounts;
}

/** tcpServerMachine's context. */
export interface TcpServerContext extends Omit<TcpServerStats, 'open' | 'accepted' | 'proxyRejected'> {
  readonly connections: ConnectionCounts;
  readonly drainTimeout: number;
  readonly closeTimeout: number;
  readonly listenerInput: unknown;
  readonly address: Listening | undefined;
  /** The shutdown request that ended the server, re-sent on signal (as Kamaelia's Graphline does, G10). */
  readonly endMessage: SignalMessage | undefined;
  readonly failure: Reason | undefined;
}

/** What the listener actor reports. */
export type ListenerReport =
  /** The listening socket is listening: first bound, or listening again after reopenListeningSocket. */
  | { type: 'listener.bound'; address: string; port: number; family: 'IPv4' | 'IPv6' | 'Unix' }
  /** It could not listen (first bind, or reopenListeningSocket). */
  | { type: 'listener.bindFailed'; reason: Reason }
  /** The last connection closed while the listening socket was closed. */
  | { type: 'listener.drained' }
  | { type: 'listener.refused' }
  | { type: 'listener.handshakeFailed'; reason: Reason }
  | { type: 'listener.acceptError'; reason: Reason };

/** What the machine asks of the listener actor. */
export type ListenerCommand =
  /** Close the listening socket for good, and every connection still at the PROXY gate or in its TLS handshake. */
  | { type: 'stopAccepting' }
  /** Close the listening socket only (suspended accepting): connections, gated or handshaking ones too, go on. */
  | { type: 'closeListeningSocket' }
  /** Listen again on `port` (the one first bound; ignored for a Unix socket path). Reports bound or bindFailed. */
  | { type: 'reopenListeningSocket'; port: number }
  /** Ask every connection to close: flush what is queued, then close. */
  | { type: 'closeConnections' }
  /** Close every connection now. */
  | { type: 'destroyConnections' };

/**
 * Operations on a running server from outside its graph (src/internet/acceptControl.ts):
 * `suspendAccepting` closes the listening socket while open connections go on; `resumeAccepting`
 * listens again on the same port or path.
 */
export type AcceptControlEvent = { type: 'suspendAccepting' } | { type: 'resumeAccepting' };

/** The events tcpServerMachine takes: `control`, accept control, and its listener's reports. */
export type TcpServerEvent = { type: 'control'; data: SignalMessage } | AcceptControlEvent | ListenerReport;

/** What tcpServerMachine emits: its outboxes (listening, signal, protocolHandlerSignal). */
export type TcpServerEmitted =
  | { type: 'protocolHandlerSignal'; data: NewCSA<AnyActorRef> | ShutdownCSA<AnyActorRef> }
  | { type: 'listening'; data: Listening }
  | { type: 'signal'; data: SignalMessage };

/** Stands in until src/TCPServer.ts provides the real listener: reports that nothing can listen. */
const unprovidedListener = fromCallback<ListenerCommand, ListenerActorInput>(({ sendBack }) => {
  sendBack({ type: 'listener.bindFailed', reason: { code: 'ENOLISTENER', message: 'tcpServerMachine: no listener actor was provided' } });
});

const isPromptShutdown = (message: unknown): boolean => isShutdownMicroprocess(message) && !isServerShutdown(message);

/** A shutdown while the server is up (listening, suspended or resuming): drain, or close every connection now. */
const shutdownTransitions = [
  { guard: 'serverShutdown', target: 'draining', actions: 'rememberEndMessage' },
  { guard: 'promptShutdown', target: 'draining.destroying', actions: 'rememberEndMessage' },
] as const;

/**
 * TCPServer's lifecycle: `binding` → `listening` → `draining` → `closed` (or `failed`), its I/O
 * provided by a listener actor. `suspendAccepting` takes `listening` to `suspended` (the listening
 * socket closed, connections going on); `resumeAccepting` goes through `resuming` (listening again)
 * back to `listening`, or back to `suspended` if the port cannot be had (counted in acceptErrors).
 */
export const tcpServerMachine = setup({
  types: {} as {
    context: TcpServerContext;
    input: TcpServerInput;
    events: TcpServerEvent;
    emitted: TcpServerEmitted;
  },
  actors: { listener: unprovidedListener },
  delays: {
    drainTimeout: ({ context }) => context.drainTimeout,
    closeTimeout: ({ context }) => context.closeTimeout,
  },
  guards: {
    noConnections: ({ context }) => context.connections.open === 0,
    serverShutdown: ({ event }) => event.type === 'control' && isServerShutdown(event.data),
    promptShutdown: ({ event }) => event.type === 'control' && isPromptShutdown(event.data),
    anyShutdown: ({ event }) => event.type === 'control' && isShutdownMicroprocess(event.data),
  },
  actions: {
    // The latest request wins: a shutdownMicroprocess during a drain is what ended the server.
    rememberEndMessage: assign({ endMessage: ({ context, event }) => (event.type === 'control' ? event.data : context.endMessage) }),
  },
}).createMachine({
  id: 'tcpServer',
  context: ({ input }) => ({
    drainTimeout: input.drainTimeout,
    closeTimeout: input.closeTimeout,
    listenerInput: input.listener,
    address: undefined,
    endMessage: undefined,
    failure: undefined,
    connections: { open: 0, accepted: 0, proxyRejected: 0 },
    refused: 0,
    handshakeFailures: 0,
    lastHandshakeFailure: undefined,
    acceptErrors: 0,
    lastAcceptError: undefined,
  }),
  invoke: {
    id: 'listener',
    src: 'listener',
    input: ({ context }: { context: TcpServerContext }): ListenerActorInput => ({ options: context.listenerInput, connections: context.connections }),
  },
  on: {
    'listener.refused': { actions: assign({ refused: ({ context }) => context.refused + 1 }) },
    'listener.handshakeFailed': {
      actions: assign({
        handshakeFailures: ({ context }) => context.handshakeFailures + 1,
        lastHandshakeFailure: ({ event }) => event.reason,
      }),
    },
    'listener.acceptError': {
      actions: assign({ acceptErrors: ({ context }) => context.acceptErrors + 1, lastAcceptError: ({ event }) => event.reason }),
    },
    // Whatever no state took: a control message of no kind we know (or one that cannot be read) is
    // reported and dropped; producerFinished and repeated shutdowns are simply not acted on.
    control: {
      guard: ({ event }) => !isControlMessage(event.data),
      actions: emit(({ event }) => ({
        type: 'signal' as const,
        data: badMessage('control', reason('EBADMESSAGE', `TCPServer: control takes serverShutdown or shutdownMicroprocess, got ${describeValue(event.data)}; dropped`)),
      })),
    },
  },
  initial: 'binding',
  states: {
    binding: {
      on: {
        'listener.bound': {
          target: 'listening',
          actions: [
            assign({ address: ({ event }) => listening(event.address, event.port, event.family) }),
            emit(({ event }) => ({ type: 'listening' as const, data: listening(event.address, event.port, event.family) })),
          ],
        },
        'listener.bindFailed': { target: 'failed', actions: assign({ failure: ({ event }) => event.reason }) },
        control: { guard: 'anyShutdown', target: 'closed', actions: 'rememberEndMessage' },
      },
    },
    listening: {
      on: {
        control: shutdownTransitions,
        suspendAccepting: 'suspended',
      },
    },
    suspended: {
      entry: sendTo('listener', { type: 'closeListeningSocket' }),
      on: {
        control: shutdownTransitions,
        resumeAccepting: 'resuming',
      },
    },
    // Listening again. Closing the socket meanwhile (suspended again, or a shutdown) cancels the
    // listen in flight: Node then reports neither listening nor an error (nodejs/node#51929).
    resuming: {
      entry: sendTo('listener', ({ context }) => ({ type: 'reopenListeningSocket' as const, port: context.address?.port ?? 0 })),
      on: {
        control: shutdownTransitions,
        suspendAccepting: 'suspended',
        'listener.bound': 'listening',
        // The port was taken while suspended: still suspended, and resumeAccepting may try again.
        'listener.bindFailed': {
          target: 'suspended',
          actions: assign({ acceptErrors: ({ context }) => context.acceptErrors + 1, lastAcceptError: ({ event }) => event.reason }),
        },
      },
    },
    draining: {
      entry: sendTo('listener', { type: 'stopAccepting' }),
      always: { guard: 'noConnections', target: 'closed' },
      on: {
        control: { guard: 'promptShutdown', target: '.destroying', actions: 'rememberEndMessage' },
        'listener.drained': { guard: 'noConnections', target: 'closed' },
      },
      initial: 'waiting',
      states: {
        waiting: { after: { drainTimeout: 'closing' } },
        closing: {
          entry: sendTo('listener', { type: 'closeConnections' }),
          after: { closeTimeout: 'destroying' },
        },
        destroying: { entry: sendTo('listener', { type: 'destroyConnections' }) },
      },
    },
    closed: {
      type: 'final',
      entry: emit(({ context }) => ({
        type: 'signal' as const,
        data: context.endMessage ?? producerFinished(undefined, { source: 'TCPServer' }),
      })),
    },
    failed: {
      type: 'final',
      entry: emit(({ context }) => ({ type: 'signal' as const, data: producerFinished(context.failure, { source: 'TCPServer' }) })),
    },
  },
});
