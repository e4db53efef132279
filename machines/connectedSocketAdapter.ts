// The ConnectedSocketAdapter's lifecycle: connected → (upgradingTls → connected) → flushing → closed.
// A peer's FIN ends our side too (queued bytes go out, then our FIN), as node:net does by default;
// with allowHalfOpen it leaves it connected (writable) until our producer finishes or closeTimeout passes.
// The machine decides; its socket I/O is provided into it as actions (actors/socketBinding.ts), so a
// connection is this one actor, not the machine plus an I/O actor. Data does not pass through the
// machine: the binding takes inbox/makessl/ReadReady/SendReady as they are delivered (a direct
// receiver, see routing) and emits received chunks straight out of the CSA's outbox, so a chunk
// costs no machine transition. The machine sees lifecycle reports only, and a byte-count report at
// most every 100 ms (context.bytesIn / bytesOut, for the inspector).
// Pure: importing this opens no socket.
import type { Duplex } from 'node:stream';
import { and, assign, emit, not, setup, type AnyActorRef } from 'xstate';
import {
  badMessage,
  describeValue,
  isProducerFinished,
  producerFinished,
  isShutdownMicroprocess,
  shutdownCSA,
  socketShutdown,
  type BadMessage,
  type ProducerFinished,
  type Reason,
  type ShutdownCSA,
  type SignalMessage,
  type SocketShutdown,
} from '../src/kernel/messages.js';
import { Opaque } from './opaque.js';
import type { ReadReadiness, SendReadiness } from './selector.js';

/** Sent on sslready once the TLS handshake has completed. */
export interface SslReady {
  readonly kind: 'sslReady';
  /** The negotiated protocol, e.g. `TLSv1.3`. */
  readonly protocol: string | null;
  /** Whether the peer's certificate was verified (false when verification was turned off). */
  readonly authorized: boolean;
}

/** What the socket binding reports to the machine. */
export type SocketReport =
  | { type: 'socket.upgrading' }
  | { type: 'socket.secure'; protocol: string | null; authorized: boolean }
  | { type: 'socket.peerEnded' }
  | { type: 'socket.progress'; bytesIn: number; bytesOut: number }
  /**
   * The socket has closed. `unsentBytes`: bytes we were given and never wrote (still buffered when
   * it closed, or sent after our side had finished). `reason`: the socket's own error, if it failed.
   * The machine decides what the connection's end reason is.
   */
  | { type: 'socket.closed'; bytesIn: number; bytesOut: number; unsentBytes: number; reason?: Reason };

/** What the machine tells the binding (besides forwarding box messages it was sent directly). */
export type SocketCommand =
  | { type: 'socket.flush' }
  /** Close now (the machine keeps why, see CsaContext.abort). */
  | { type: 'socket.abort' }
  | { type: 'inbox'; data: unknown }
  | { type: 'makessl'; data: unknown }
  | { type: 'ReadReady'; data: ReadReadiness }
  | { type: 'SendReady'; data: SendReadiness };

/** Why the machine closed the socket itself: a timeout, whose reason is the end's. */
export interface SocketAbort {
  readonly reason: Reason;
}

/** The events connectedSocketAdapterMachine takes: its inboxes and its socket binding's reports. */
export type CsaEvent =
  | { type: 'inbox'; data: unknown }
  | { type: 'control'; data: SignalMessage }
  | { type: 'makessl'; data: unknown }
  | { type: 'ReadReady'; data: ReadReadiness }
  | { type: 'SendReady'; data: SendReadiness }
  /** closeTimeout has passed since the peer's FIN without our producer finishing. */
  | { type: 'csa.halfOpenTimeout' }
  /** handshakeTimeout has passed in upgradingTls. */
  | { type: 'csa.handshakeTimeout' }
  /** closeTimeout has passed in flushing without the peer closing. */
  | { type: 'csa.closeTimeout' }
  | SocketReport;

/** badMessage reports; producerFinished (source 'peer') when the peer half-closes; at the end shutdownCSA. */
export type CsaSignal = BadMessage | ProducerFinished | ShutdownCSA<AnyActorRef>;

/** The machine's timeouts: each is the event its timer sends when it runs out. */
export type CsaTimeout = 'csa.halfOpenTimeout' | 'csa.handshakeTimeout' | 'csa.closeTimeout';

/** What connectedSocketAdapterMachine emits: its outboxes. */
export type CsaEmitted =
  | { type: 'outbox'; data: Buffer }
  | { type: 'CreatorFeedback'; data: SocketShutdown }
  | { type: 'signal'; data: CsaSignal }
  | { type: 'sslready'; data: SslReady };

/** The binding's own settings, passed through the machine untouched (they hold node objects). */
export interface CsaBindingOptions {
  readonly socket: Duplex;
  /** Writes queued before the socket existed (TCPClient's pre-connect queue): sent first. */
  readonly initialWrites?: readonly (Uint8Array | string)[];
  /** node:tls options for makessl (`isServer: true` for the server side). */
  readonly tls?: object;
  /** The socket is already TLS (TCPClient with `secure: true`). */
  readonly secure?: boolean;
}

/** What connectedSocketAdapterMachine is started with. */
export interface CsaInput {
  readonly binding: CsaBindingOptions;
  /** Milliseconds a graceful close waits for the peer after our FIN before forcing it. */
  readonly closeTimeoutMs: number;
  /** Milliseconds a makessl handshake may take before the connection is closed with ETIMEDOUT. */
  readonly handshakeTimeoutMs: number;
  /** The id carried in shutdownCSA (a server's connection number). */
  readonly id: number;
  /**
   * After the peer's FIN, keep our write side open until our producer finishes (node:net's
   * allowHalfOpen). When false (node's default), the peer's FIN ends our side as soon as what is
   * queued is written. Absent means false.
   */
  readonly allowHalfOpen?: boolean;
}

/** connectedSocketAdapterMachine's context. */
export interface CsaContext {
  readonly binding: Opaque<CsaBindingOptions>;
  readonly closeTimeoutMs: number;
  readonly handshakeTimeoutMs: number;
  readonly id: number;
  readonly allowHalfOpen: boolean;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly secure: boolean;
  readonly peerEnded: boolean;
  readonly unsentBytes: number;
  readonly reason: Reason | undefined;
  /** The reason our producer finished with (an upstream error), passed on after a graceful close. */
  readonly producerReason: Reason | undefined;
  /** The timeout the machine closed the socket for, once it has (its reason is the end's). */
  readonly abort: SocketAbort | undefined;
  /** producerFinished arrived during the TLS handshake: flush and close once it is done. */
  readonly flushPending: boolean;
}

/** What connectedSocketAdapterMachine ends with. */
export interface CsaOutput {
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly unsentBytes: number;
  /** Why it ended: the socket's error, or else the reason its producer finished with. */
  readonly reason?: Reason;
  /** Set (the same object as `reason`) when the reason is the producer's and the close itself was graceful. */
  readonly producerReason?: Reason;
}

/**
 * Why the socket's close ends the connection: the timeout the machine closed it for; else the
 * socket's own error; else bytes dropped.
 */
function closeReason(context: CsaContext, closed: Extract<SocketReport, { type: 'socket.closed' }>): Reason | undefined {
  if (context.abort) return context.abort.reason;
  if (closed.reason) return closed.reason;
  if (closed.unsentBytes > 0) return { code: 'EUNSENT', message: `${closed.unsentBytes} bytes arrived after our side had finished writing and were dropped` };
  return undefined;
}

const handshakeTimedOut = (context: CsaContext): SocketAbort => ({
  reason: { code: 'ETIMEDOUT', message: `the TLS handshake did not complete within ${context.handshakeTimeoutMs} ms` },
});
const closeTimedOut = (context: CsaContext): SocketAbort => ({
  reason: { code: 'ECLOSETIMEOUT', message: `the peer did not close the connection within the close timeout (${context.closeTimeoutMs} ms)` },
});

/** The terminal reason: what went wrong with the socket, or else what the producer finished with. */
function endReason(context: CsaContext): Reason | undefined {
  return context.reason ?? context.producerReason;
}

/** The CSA's lifecycle: `connected` ⇄ `upgradingTls` → `flushing` → `closed`; the socket I/O is provided into it (see docs/csa.md). */
export const connectedSocketAdapterMachine = setup({
  types: {} as {
    context: CsaContext;
    input: CsaInput;
    events: CsaEvent;
    emitted: CsaEmitted;
    output: CsaOutput;
  },
  // The socket I/O. actors/socketBinding.ts provides the node:net binding; until then the machine
  // fails at start, saying what to use.
  actions: {
    openSocket: () => {
      throw new Error('connectedSocketAdapterMachine needs its socket I/O: use ConnectedSocketAdapter()');
    },
    /** Passes a box message (inbox, makessl, ReadReady, SendReady) sent to the machine itself to the socket. */
    forwardToSocket: () => {},
    flushSocket: () => {},
    abortSocket: () => {},
    // Timeouts are the I/O's timers, not XState delayed events: XState's stop of any actor scans every
    // delayed event in the system, which made closing thousands of connections quadratic.
    /** Sends `event` to the machine after `ms` (replacing a running timer for it). */
    startTimer: (_, _params: { event: CsaTimeout; ms: number }) => {},
    cancelTimer: (_, _params: { event: CsaTimeout }) => {},
    cancelTimers: () => {},
    /** Keeps why the machine is closing the socket (the end's reason is decided once it has closed). */
    rememberAbort: assign((_, params: SocketAbort) => ({ abort: params })),
  },
  guards: {
    isProducerFinished: ({ event }) => event.type === 'control' && isProducerFinished(event.data),
    isShutdownMicroprocess: ({ event }) => event.type === 'control' && isShutdownMicroprocess(event.data),
    allowsHalfOpen: ({ context }) => context.allowHalfOpen,
    flushPending: ({ context }) => context.flushPending,
  },
}).createMachine({
  id: 'ConnectedSocketAdapter',
  context: ({ input }) => ({
    binding: new Opaque(input.binding, 'socket'),
    closeTimeoutMs: input.closeTimeoutMs,
    handshakeTimeoutMs: input.handshakeTimeoutMs,
    id: input.id,
    allowHalfOpen: input.allowHalfOpen === true,
    bytesIn: 0,
    bytesOut: 0,
    secure: input.binding.secure === true,
    peerEnded: false,
    unsentBytes: 0,
    reason: undefined,
    producerReason: undefined,
    abort: undefined,
    flushPending: false,
  }),
  // One binding for the whole life of the socket. Stopping the actor runs no exit action, so the
  // provider also closes the socket when the actor stops (see actors/socketBinding.ts).
  entry: 'openSocket',
  initial: 'connected',
  on: {
    // Box messages normally reach the binding as they are delivered; these catch a direct send.
    inbox: { actions: 'forwardToSocket' },
    makessl: { actions: 'forwardToSocket' },
    ReadReady: { actions: 'forwardToSocket' },
    SendReady: { actions: 'forwardToSocket' },
    'socket.progress': { actions: assign({ bytesIn: ({ event }) => event.bytesIn, bytesOut: ({ event }) => event.bytesOut }) },
    'socket.closed': {
      target: '.closed',
      actions: assign({
        bytesIn: ({ event }) => event.bytesIn,
        bytesOut: ({ event }) => event.bytesOut,
        unsentBytes: ({ event }) => event.unsentBytes,
        reason: ({ context, event }) => closeReason(context, event),
      }),
    },
    control: [
      { guard: 'isShutdownMicroprocess', actions: 'abortSocket' },
      {
        guard: 'isProducerFinished',
        target: '.flushing',
        actions: assign({ producerReason: ({ event }) => (event as { data: { reason?: Reason } }).data.reason }),
      },
      {
        actions: emit(({ event }) => ({
          type: 'signal' as const,
          data: badMessage('control', {
            code: 'EBADMESSAGE',
            message: `ConnectedSocketAdapter: control takes producerFinished or shutdownMicroprocess, got ${describeValue((event as { data: unknown }).data)}; dropped`,
          }),
        })),
      },
    ],
  },
  states: {
    // The peer's FIN: producerFinished (source 'peer') on signal says its stream has ended (a server
    // gives it to the connection's handler). Without allowHalfOpen (node:net's default) our side
    // ends too: what is queued is written, then our FIN (flushing), and the connection closes at
    // once. With allowHalfOpen our write side stays open: what our producers still send goes out
    // until they finish, we are shut down, or closeTimeout passes.
    connected: {
      on: {
        'socket.upgrading': 'upgradingTls',
        // The binding reports the FIN once.
        'socket.peerEnded': [
          {
            guard: 'allowsHalfOpen',
            actions: [
              assign({ peerEnded: true }),
              { type: 'startTimer', params: ({ context }) => ({ event: 'csa.halfOpenTimeout', ms: context.closeTimeoutMs }) },
              emit({ type: 'signal' as const, data: producerFinished(undefined, { source: 'peer' }) }),
            ],
          },
          {
            target: 'flushing',
            actions: [assign({ peerEnded: true }), emit({ type: 'signal' as const, data: producerFinished(undefined, { source: 'peer' }) })],
          },
        ],
        'csa.halfOpenTimeout': 'flushing',
      },
    },
    upgradingTls: {
      // A peer that never answers the ClientHello must not hold the connection forever.
      entry: { type: 'startTimer', params: ({ context }) => ({ event: 'csa.handshakeTimeout', ms: context.handshakeTimeoutMs }) },
      exit: { type: 'cancelTimer', params: { event: 'csa.handshakeTimeout' } },
      on: {
        'socket.secure': [
          // Asked to close during the handshake: what was held goes out encrypted, then our FIN.
          { guard: 'flushPending', target: 'flushing', actions: assign({ secure: true }) },
          { target: 'connected', actions: assign({ secure: true }) },
        ],
        // Our FIN cannot go out mid-handshake: producerFinished is kept until the handshake is done.
        control: {
          guard: and(['isProducerFinished', not('isShutdownMicroprocess')]),
          actions: assign({ producerReason: ({ event }) => (event as { data: { reason?: Reason } }).data.reason, flushPending: true }),
        },
        // No socket.peerEnded here: a peer's FIN during the handshake fails it (the binding reports a
        // close with a reason), and the TLS socket is read only once the handshake is done.
        'csa.handshakeTimeout': {
          actions: [
            { type: 'rememberAbort', params: ({ context }) => handshakeTimedOut(context) },
            'abortSocket',
          ],
        },
      },
    },
    // Every queued byte is written, then FIN; the peer's remaining bytes are still delivered until it
    // closes or the close timeout passes.
    flushing: {
      entry: [
        { type: 'cancelTimer', params: { event: 'csa.halfOpenTimeout' } },
        'flushSocket',
        { type: 'startTimer', params: ({ context }) => ({ event: 'csa.closeTimeout', ms: context.closeTimeoutMs }) },
      ],
      // No exit action for the close timer: flushing leads only to closed, which cancels every timer.
      on: {
        'socket.peerEnded': { actions: assign({ peerEnded: true }) },
        // A close asked for just as a TLS upgrade began: the FIN goes once the handshake is done.
        'socket.secure': { actions: [assign({ secure: true }), 'flushSocket'] },
        // Already closing: a second producerFinished changes nothing (the first one's reason stands);
        // anything else is the root's badMessage.
        control: [{ guard: 'isShutdownMicroprocess', actions: 'abortSocket' }, { guard: 'isProducerFinished' }],
        // The peer may still have been sending: a cut close is never reported as a clean one.
        'csa.closeTimeout': {
          actions: [
            { type: 'rememberAbort', params: ({ context }) => closeTimedOut(context) },
            'abortSocket',
          ],
        },
      },
    },
    closed: {
      type: 'final',
      entry: [
        'cancelTimers',
        emit(({ context }) => ({
          type: 'CreatorFeedback' as const,
          data: socketShutdown(endReason(context), { source: 'ConnectedSocketAdapter', unsentBytes: context.unsentBytes }),
        })),
        emit(({ context, self }) => ({ type: 'signal' as const, data: shutdownCSA(context.id, self as AnyActorRef, endReason(context)) })),
      ],
    },
  },
  output: ({ context }) => {
    const reason = endReason(context);
    return {
      bytesIn: context.bytesIn,
      bytesOut: context.bytesOut,
      unsentBytes: context.unsentBytes,
      ...(reason ? { reason } : {}),
      ...(reason && reason === context.producerReason ? { producerReason: reason } : {}),
    };
  },
});

