// TCPServer(options): Kamaelia's TCPServer. It listens, makes a ConnectedSocketAdapter (CSA) for each
// accepted connection and announces it on protocolHandlerSignal (newCSA, then shutdownCSA when the
// CSA has ended). Its lifecycle is tcpServerMachine; the socket work is the listener actor.
import type net from 'node:net';
import type { AnyActorRef, CallbackActorLogic } from 'xstate';
import { listenerLogic, type ListenerInput, type ServerSocketOptions, type TCPServerTlsOptions } from '../../actors/listener.js';
import { tcpServerMachine, type ListenerActorInput, type ListenerCommand, type TcpServerInput } from '../../machines/tcpServer.js';
import { box, defineComponent, type AnyComponent } from '../kernel/component.js';
import { ConnectedSocketAdapter } from './ConnectedSocketAdapter.js';
import type { Listening, NewCSA, ShutdownCSA, SignalMessage } from '../kernel/messages.js';
import { checkBoolean, checkDuration, DEFAULT_CLOSE_TIMEOUT, DEFAULT_DRAIN_TIMEOUT, DEFAULT_SERVER_HANDSHAKE_TIMEOUT } from './options.js';
import { proxyGate, type ProxyProtocolOptions } from './proxyGate.js';
import { resolveSni } from './sni.js';
import { observedGate, serverDiagnostics } from './diagnostics.js';

export type { ServerSocketOptions, SniCertificates, TCPServerTlsOptions } from '../../actors/listener.js';

/** Options of {@link TCPServer} (and of ConnectedServer, SimpleServer, SingleServer). Durations are in milliseconds. */
export interface TCPServerOptions {
  /** 0 means any free port; the chosen one is reported on `listening`. @defaultValue 0 */
  readonly port?: number;
  /** Address to bind. @defaultValue all interfaces */
  readonly host?: string;
  /** Length of the kernel's queue of connections not yet accepted. @defaultValue 511 (Node's) */
  readonly backlog?: number;
  /** Pick a free port in [low, high] (Kamaelia's makeTCPServerPort); replaces `port`. @defaultValue none */
  readonly portRange?: readonly [number, number];
  /** Options of each accepted socket (noDelay, keepAlive, ...). @defaultValue `{ noDelay: true }` */
  readonly socketOptions?: ServerSocketOptions;
  /**
   * TLS. With `secure: true` every connection speaks TLS from its first byte (implicit TLS).
   * Otherwise the options are given to each CSA for server-side STARTTLS (a message on its makessl).
   * @defaultValue none (plain TCP)
   */
  readonly tls?: TCPServerTlsOptions;
  /** Milliseconds a TLS handshake may take, as Ranch and Thousand Island. @defaultValue 5000 ({@link DEFAULT_SERVER_HANDSHAKE_TIMEOUT}) */
  readonly handshakeTimeout?: number;
  /**
   * At most this many open connections. Beyond it a new connection is accepted and closed at once
   * (Node's server.maxConnections) and counted as refused; it does not wait.
   * @defaultValue no limit
   */
  readonly maxConnections?: number;
  /** Close a connection (gracefully: queued bytes are flushed) after this many ms without traffic. @defaultValue none */
  readonly idleTimeout?: number;
  /** After serverShutdown, how long open connections may continue before they are asked to close. @defaultValue 5000 ({@link DEFAULT_DRAIN_TIMEOUT}) */
  readonly drainTimeout?: number;
  /** How long a connection asked to close may take to flush and close before it is destroyed. @defaultValue 5000 ({@link DEFAULT_CLOSE_TIMEOUT}) */
  readonly closeTimeout?: number;
  /**
   * What a client's FIN does to the server's side of that connection. `true`: the handler gets
   * producerFinished on control and may still answer; our side ends when the handler finishes (or
   * `closeTimeout` after the FIN). `false` (node:net's default): what is queued is written, then our
   * FIN, and the connection ends at once. See ConnectedSocketAdapterOptions.allowHalfOpen.
   * @defaultValue true
   */
  readonly allowHalfOpen?: boolean;
  /** Builds the CSA for an accepted socket (Kamaelia's TCPServer.CSA hook). @defaultValue ConnectedSocketAdapter */
  readonly csa?: (socket: net.Socket, options: CSAOptions) => AnyComponent;
  /**
   * Take HAProxy's PROXY protocol (v1 or v2): each connection must come from a `trusted` proxy and
   * start with a header, read before any TLS; the handler's info.peer/peerPort are then the client's.
   * Others are closed unserved and counted in serverStats(...).proxyRejected.
   * @defaultValue off
   */
  readonly proxyProtocol?: ProxyProtocolOptions;
  /**
   * Listen on this Unix domain socket path instead of a TCP port (then `port`, `host` and
   * `portRange` are not given). The handler's info has localIp = the path, peer '' and ports 0.
   * @defaultValue none
   */
  readonly path?: string;
}

/** What TCPServer's `protocolHandlerSignal` outbox sends: a connection opened (newCSA, with its CSA actor) or closed (shutdownCSA). */
export type ProtocolHandlerSignal = NewCSA<AnyActorRef> | ShutdownCSA<AnyActorRef>;


const tcpServerLogic = tcpServerMachine.provide({
  // The machine types its listener loosely (it passes the input through); this is the real one.
  actors: { listener: listenerLogic as unknown as CallbackActorLogic<ListenerCommand, ListenerActorInput> },
});

function checkInteger(where: string, name: string, value: number | undefined, low: number, high: number): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < low || value > high) {
    throw new RangeError(`${where}: ${name} must be an integer from ${low} to ${high}, got ${String(value)}`);
  }
}

/** What TCPServer tells the CSA it makes for an accepted socket. */
export interface CSAOptions {
  /** The connection's number, carried in newCSA/shutdownCSA. */
  readonly id: number;
  /** Server-side TLS options for STARTTLS (a makessl message), when tls without `secure` was given. */
  readonly tls?: ServerStartTlsOptions;
  /** The socket is a TLSSocket already (implicit TLS). */
  readonly secure?: boolean;
  readonly closeTimeout: number;
  /** Milliseconds a STARTTLS handshake may take. */
  readonly handshakeTimeout: number;
  /** Keep the server's side writable after the client's FIN (TCPServerOptions.allowHalfOpen). */
  readonly allowHalfOpen: boolean;
}

/** The node:tls options a server gives each CSA for server-side STARTTLS. */
export type ServerStartTlsOptions = Omit<TCPServerTlsOptions, 'secure' | 'handshakeTimeout' | 'sni'> & { readonly isServer: true };

function defaultCSA(socket: net.Socket, options: CSAOptions): AnyComponent {
  return ConnectedSocketAdapter(socket, options) as AnyComponent;
}

function startTlsOptions(tls: TCPServerTlsOptions): ServerStartTlsOptions {
  const { secure: _secure, handshakeTimeout: _handshakeTimeout, sni: _sni, ...rest } = tls;
  return { ...rest, isServer: true };
}

/** Validates TCPServer options (throws naming the bad one) and makes the machine's input. */
export function tcpServerInput(options: TCPServerOptions, where = 'TCPServer'): TcpServerInput {
  if (options === null || typeof options !== 'object') throw new TypeError(`${where}: options must be an object`);
  checkInteger(where, 'port', options.port, 0, 65535);
  checkInteger(where, 'backlog', options.backlog, 0, 2 ** 31 - 1);
  checkInteger(where, 'maxConnections', options.maxConnections, 1, 2 ** 31 - 1);
  if (options.portRange !== undefined) {
    const [low, high] = options.portRange;
    checkInteger(where, 'portRange[0]', low, 1, 65535);
    checkInteger(where, 'portRange[1]', high, 1, 65535);
    if (low > high) throw new RangeError(`${where}: portRange [${low}, ${high}] is empty`);
  }
  if (options.host !== undefined && (typeof options.host !== 'string' || options.host === '')) {
    throw new TypeError(`${where}: host must be a non-empty string, got ${String(options.host)}`);
  }
  checkDuration(where, 'idleTimeout', options.idleTimeout);
  checkDuration(where, 'socketOptions.keepAliveInitialDelay', options.socketOptions?.keepAliveInitialDelay);
  if (options.tls?.secure && !(options.tls.key || options.tls.pfx || options.tls.SNICallback || options.tls.sni)) {
    throw new TypeError(`${where}: tls with secure: true needs a key and cert (or pfx, or sni, or SNICallback)`);
  }
  if (options.path !== undefined) {
    if (typeof options.path !== 'string' || options.path === '') throw new TypeError(`${where}: path must be a non-empty string, got ${String(options.path)}`);
    if (options.port || options.host !== undefined || options.portRange !== undefined) {
      throw new TypeError(`${where}: path (a Unix domain socket) cannot be given with port, host or portRange`);
    }
  }
  const tls = resolveSni(options.tls, where);
  const makeCSA = options.csa ?? defaultCSA;
  // Replaced by replaceTlsCredentials: STARTTLS connections made after it get the new credentials.
  let starttls = tls && !tls.secure ? startTlsOptions(tls) : undefined;
  const closeTimeout = checkDuration(where, 'closeTimeout', options.closeTimeout, DEFAULT_CLOSE_TIMEOUT);
  const handshakeTimeout = checkDuration(
    where,
    'tls.handshakeTimeout',
    tls?.handshakeTimeout,
    checkDuration(where, 'handshakeTimeout', options.handshakeTimeout, DEFAULT_SERVER_HANDSHAKE_TIMEOUT),
  );
  const drainTimeout = checkDuration(where, 'drainTimeout', options.drainTimeout, DEFAULT_DRAIN_TIMEOUT);
  const allowHalfOpen = checkBoolean(where, 'allowHalfOpen', options.allowHalfOpen, true);
  const observer = serverDiagnostics(where, options.path);
  const listener: ListenerInput = {
    port: options.port ?? 0,
    host: options.host,
    backlog: options.backlog,
    portRange: options.portRange,
    socketOptions: options.socketOptions ?? {},
    tls: tls?.secure ? tls : undefined,
    handshakeTimeout,
    maxConnections: options.maxConnections,
    idleTimeout: options.idleTimeout,
    closeTimeout,
    ...(options.proxyProtocol !== undefined ? { gate: observedGate(proxyGate(options.proxyProtocol, where), observer.server) } : {}),
    observer,
    ...(options.path !== undefined ? { path: options.path } : {}),
    replaceStartTls: (credentials) => {
      if (starttls) starttls = { ...starttls, ...credentials };
    },
    createCSA: (socket, id) => makeCSA(socket, { id, closeTimeout, handshakeTimeout, allowHalfOpen, ...(starttls ? { tls: starttls } : {}), ...(tls?.secure ? { secure: true } : {}) }),
  };
  return { drainTimeout, closeTimeout, listener };
}

/**
 * Kamaelia's TCPServer: listens and makes a ConnectedSocketAdapter for each accepted connection,
 * announcing it on `protocolHandlerSignal` (newCSA, then shutdownCSA); `listening` says where it is
 * bound; `serverShutdown` on `control` stops accepting and drains. Most programs want
 * ConnectedServer, which also gives each connection a handler.
 *
 * @param options - see {@link TCPServerOptions}
 * @example
 * ```ts
 * const server = run(TCPServer({ host: '127.0.0.1', port: 0 }));
 * console.log(await server.next('listening'));
 * ```
 */
export function TCPServer(options: TCPServerOptions = {}) {
  return defineComponent({
    name: 'TCPServer',
    inboxes: { control: box<SignalMessage>() },
    outboxes: {
      protocolHandlerSignal: box<ProtocolHandlerSignal>(),
      listening: box<Listening>(),
      signal: box<SignalMessage>(),
    },
    logic: tcpServerLogic,
    input: tcpServerInput(options),
  });
}

/** The TCPServer's actor logic, for components that run one as a child (ConnectedServer, SingleServer). */
export { tcpServerLogic };
