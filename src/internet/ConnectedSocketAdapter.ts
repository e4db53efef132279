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
import { checkDuration, DEFAULT_CLIENT_HANDSHAKE_TIMEOUT, DEFAULT_CLOSE_TIMEOUT } from './options.js';

export interface ConnectedSocketAdapterOptions {
  /** node:tls options used when a message arrives on makessl. `{ isServer: true, key, cert, ... }` for the server side. */
  readonly tls?: TlsUpgradeOptions;
  /** The socket is a tls.TLSSocket whose handshake is done: makessl is refused. */
  readonly secure?: boolean;
  /** How long a graceful close waits for the peer to close after our FIN (default {@link DEFAULT_CLOSE_TIMEOUT}, 5000 ms). */
  readonly closeTimeout?: number;
  /** How long a makessl handshake may take (default {@link DEFAULT_CLIENT_HANDSHAKE_TIMEOUT}, 30000 ms); then the CSA closes with ETIMEDOUT. */
  readonly handshakeTimeout?: number;
  /** The number carried in the shutdownCSA message on signal (a server's connection id; default 0). */
  readonly id?: number;
  /** Bytes to send before anything that arrives on inbox. */
  readonly initialWrites?: readonly (Uint8Array | string)[];
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

export function ConnectedSocketAdapter(socket: Socket, options: ConnectedSocketAdapterOptions = {}): typeof csaDefinition {
  if (!(socket instanceof Socket)) {
    throw new TypeError(`ConnectedSocketAdapter: socket must be a connected net.Socket or tls.TLSSocket, got ${describeValue(socket)}`);
  }
  return { ...csaDefinition, input: csaInput(socket, options) };
}
