// ConnectedSocketAdapter(socket, options): Kamaelia's CSA over an already-connected net.Socket
// (or tls.TLSSocket). Inboxes inbox, control, ReadReady, SendReady, makessl; outboxes outbox,
// CreatorFeedback, signal, sslready. See docs/csa.md.
import { Socket } from 'node:net';
import { connectedSocketAdapterLogic } from '../../actors/socketBinding.js';
import type { TlsUpgradeOptions } from '../../actors/tlsUpgrade.js';
import type { CsaInput, CsaSignal, SslReady } from '../../machines/connectedSocketAdapter.js';
import type { ReadReadiness, SendReadiness } from '../../machines/selector.js';
import { box, defineComponent } from '../kernel/component.js';
import { describeValue } from '../kernel/messages.js';
import type { SignalMessage, SocketShutdown } from '../kernel/messages.js';
import { checkBoolean, checkDuration, DEFAULT_CLIENT_HANDSHAKE_TIMEOUT, DEFAULT_CLOSE_TIMEOUT } from './options.js';

/** Options of {@link ConnectedSocketAdapter}. */
export interface ConnectedSocketAdapterOptions {
  /** node:tls options used when a message arrives on makessl. `{ isServer: true, key, cert, ... }` for the server side. @defaultValue none (makessl is refused) */
  readonly tls?: TlsUpgradeOptions;
  /** The socket is a tls.TLSSocket whose handshake is done: makessl is refused. @defaultValue false */
  readonly secure?: boolean;
  /** Milliseconds a graceful close waits for the peer to close after our FIN. @defaultValue 5000 ({@link DEFAULT_CLOSE_TIMEOUT}) */
  readonly closeTimeout?: number;
  /** Milliseconds a makessl handshake may take; then the CSA closes with ETIMEDOUT. @defaultValue 30000 ({@link DEFAULT_CLIENT_HANDSHAKE_TIMEOUT}) */
  readonly handshakeTimeout?: number;
  /** The number carried in the shutdownCSA message on signal (a server's connection id). @defaultValue 0 */
  readonly id?: number;
  /** Bytes to send before anything that arrives on inbox. @defaultValue none */
  readonly initialWrites?: readonly (Uint8Array | string)[];
  /**
   * What the peer's FIN does to our side. `false`, as in node:net: what is already queued is
   * written, then our FIN, and the CSA ends. `true`: our write side stays open until our producer
   * finishes, a shutdownMicroprocess, or `closeTimeout` after the FIN (servers made by TCPServer use
   * `true`, so a handler may still answer a client that has half-closed).
   * @defaultValue false
   */
  readonly allowHalfOpen?: boolean;
}

/** The CSA machine with its node:net binding. */
export { connectedSocketAdapterLogic };

export function csaInput(socket: Socket, options: ConnectedSocketAdapterOptions): CsaInput {
  const closeTimeoutMs = checkDuration('ConnectedSocketAdapter', 'closeTimeout', options.closeTimeout, DEFAULT_CLOSE_TIMEOUT);
  return {
    binding: {
      socket,
      ...(options.tls ? { tls: options.tls } : {}),
      ...(options.secure ? { secure: true } : {}),
      ...(options.initialWrites ? { initialWrites: options.initialWrites } : {}),
    },
    closeTimeoutMs,
    handshakeTimeoutMs: checkDuration('ConnectedSocketAdapter', 'handshakeTimeout', options.handshakeTimeout, DEFAULT_CLIENT_HANDSHAKE_TIMEOUT),
    id: options.id ?? 0,
    allowHalfOpen: checkBoolean('ConnectedSocketAdapter', 'allowHalfOpen', options.allowHalfOpen, false),
  };
}

// One definition (box lists, logic) shared by every connection; only the input differs. A server
// makes a CSA per accepted socket, and rebuilding the definition checked nine box names each time.
const csaDefinition = defineComponent({
  name: 'ConnectedSocketAdapter',
  inboxes: {
    inbox: box<Uint8Array | string>(),
    control: box<SignalMessage>(),
    ReadReady: box<ReadReadiness>(),
    SendReady: box<SendReadiness>(),
    makessl: box<unknown>(),
  },
  outboxes: {
    outbox: box<Buffer>(),
    CreatorFeedback: box<SocketShutdown>(),
    signal: box<CsaSignal>(),
    sslready: box<SslReady>(),
  },
  logic: connectedSocketAdapterLogic,
});

/**
 * Kamaelia's ConnectedSocketAdapter (CSA) for a socket you already have: bytes or strings on
 * `inbox` are written, what the peer sends comes out of `outbox`, `makessl` upgrades to TLS, and
 * the socket is read only while downstream can take more. See docs/csa.md for its machine.
 *
 * @param socket - a connected net.Socket (or tls.TLSSocket with `secure: true`)
 * @param options - see {@link ConnectedSocketAdapterOptions}
 * @example
 * ```ts
 * net.createServer((socket) => void run(Pipeline(ConnectedSocketAdapter(socket), ConsoleEchoer()))).listen(7000);
 * ```
 */
export function ConnectedSocketAdapter(socket: Socket, options: ConnectedSocketAdapterOptions = {}): typeof csaDefinition {
  if (!(socket instanceof Socket)) {
    throw new TypeError(`ConnectedSocketAdapter: socket must be a connected net.Socket or tls.TLSSocket, got ${describeValue(socket)}`);
  }
  return { ...csaDefinition, input: csaInput(socket, options) };
}
