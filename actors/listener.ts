// The listener: the I/O half of TCPServer. It binds a node:net (or, for implicit TLS, node:tls)
// server, accepts connections, builds each connection's CSA as an actor whose parent is this
// listener, and reports to the tcpServerMachine. The connection table is a Map here, not XState
// context or children: XState copies those on every spawn/stop, which goes quadratic at 10k
// connections (shared/notes/xstate.md 3.4). CSA ids are integer-like (a counter).
import net from 'node:net';
import tls from 'node:tls';
import { fromCallback, type AnyActorRef, type EventObject } from 'xstate';
import type { ListenerActorInput, ListenerCommand, ListenerReport, TcpServerEmitted } from '../machines/tcpServer.js';
import type { AnyComponent } from '../src/kernel/component.js';
import { producerFinished, reason, reasonFromError, shutdownCSA, type NewCSA, type PeerInfo, type Reason } from '../src/kernel/messages.js';
import { registerComponent } from '../src/kernel/registry.js';
import { deliverToInbox } from '../src/kernel/routing.js';
import { createChildActor, forgetChild, parentOf, stopTree } from '../src/kernel/childActors.js';
import { emitFrom } from '../src/kernel/xstateInternals.js';
import type { ConnectionGate, GatedPeer } from './connectionGate.js';
import type { ListenerObserver } from './listenerObserver.js';

/** Socket options Node offers for a listening server and the sockets it accepts. */
export interface ServerSocketOptions {
  /** TCP_NODELAY on accepted sockets (Nagle off). Default true, as Ranch and Thousand Island. */
  readonly noDelay?: boolean;
  /** SO_KEEPALIVE on accepted sockets. */
  readonly keepAlive?: boolean;
  /** Milliseconds of quiet before the first keepalive probe. */
  readonly keepAliveInitialDelay?: number;
  /** Accept only IPv6 on an IPv6 host (no dual stack). */
  readonly ipv6Only?: boolean;
  /** Do not share the listening handle with cluster workers. */
  readonly exclusive?: boolean;
  /** Stream high-water mark of accepted sockets, bytes. */
  readonly highWaterMark?: number;
}

/** Certificates by the host name a client asks for (SNI): see TCPServerTlsOptions.sni. */
export type SniCertificates =
  | Readonly<Record<string, tls.SecureContextOptions>>
  | ((servername: string) => tls.SecureContextOptions | undefined);

/** TLS server options; `secure: true` means TLS from the first byte (implicit TLS). */
export type TCPServerTlsOptions = tls.TlsOptions & {
  readonly secure?: boolean;
  /**
   * A certificate per host name (SNI): `{ 'a.example': { key, cert }, '*.example.org': {...} }`, or a
   * function of the name returning `{ key, cert }` (undefined: the default). Names the map lacks, and
   * clients that send no name, get the default `key`/`cert`. Default: none.
   */
  readonly sni?: SniCertificates;
  /** Milliseconds a TLS handshake may take before the connection is closed; overrides the server's `handshakeTimeout` (default 5000, DEFAULT_SERVER_HANDSHAKE_TIMEOUT). */
  readonly handshakeTimeout?: number;
};

export interface ListenerInput {
  readonly port: number;
  readonly host: string | undefined;
  readonly backlog: number | undefined;
  readonly portRange: readonly [number, number] | undefined;
  readonly socketOptions: ServerSocketOptions;
  /** Present with `secure: true`: the listener speaks TLS from the start. */
  readonly tls: TCPServerTlsOptions | undefined;
  readonly handshakeTimeout: number;
  readonly maxConnections: number | undefined;
  /** Close a connection after this many milliseconds without traffic either way. */
  readonly idleTimeout: number | undefined;
  /** After an idle connection was asked to close, destroy it if it has not closed within this. */
  readonly closeTimeout: number;
  /** Builds the component that owns one accepted socket (the CSA). */
  readonly createCSA: (socket: net.Socket, id: number) => AnyComponent;
  /** Every connection passes it (the PROXY protocol header) before TLS and before it gets a CSA. */
  readonly gate?: ConnectionGate;
  /** Listen on this Unix domain socket instead of a TCP port. */
  readonly path?: string;
  /** Takes new TLS credentials for STARTTLS connections made from now on (see the replaceTls command). */
  readonly replaceStartTls?: (options: tls.SecureContextOptions) => void;
  /** Told each lifecycle fact (src/internet/diagnostics.ts publishes them on node:diagnostics_channel). */
  readonly observer?: ListenerObserver;
}

/** Commands a running server's owner may give its listener directly (src/internet/acceptControl.ts). */
export type ListenerOperation =
  /** Close the listening socket, keeping open connections; resumeAccepting listens again on the same port or path. */
  | { type: 'suspendAccepting' }
  | { type: 'resumeAccepting' }
  /** New connections get these credentials (Node's setSecureContext); open ones keep theirs. */
  | { type: 'replaceTls'; options: tls.SecureContextOptions };

interface Connection {
  readonly socket: net.Socket;
  readonly csa: AnyActorRef;
  idle: boolean;
}

const DONE_PREFIX = 'xstate.done.actor.';
const ERROR_PREFIX = 'xstate.error.actor.';

// Listeners shared by every socket, so a connection costs no closures for them.
function ignoreSocketError(): void {
  // The CSA reports socket errors; this only keeps an error before it subscribes from crashing the process.
}

/** The reason in a CSA's output ({ bytesIn, bytesOut, unsentBytes, reason? }); a custom CSA may have none. */
function outputReason(output: unknown): Reason | undefined {
  if (output === null || typeof output !== 'object') return undefined;
  const why = (output as { reason?: unknown }).reason;
  if (why === null || typeof why !== 'object') return undefined;
  const { code, message } = why as { code?: unknown; message?: unknown };
  return typeof code === 'string' && typeof message === 'string' ? { code, message } : undefined;
}

function peerInfo(socket: net.Socket, fallbackPort: number, gated: GatedPeer | undefined, path: string | undefined): PeerInfo {
  // A Unix domain socket's client is unnamed: no address, no port; the local end is the path.
  if (path !== undefined) return { peer: '', peerPort: 0, localIp: path, localPort: 0, ...gated };
  const own: PeerInfo = {
    peer: socket.remoteAddress ?? '0.0.0.0',
    peerPort: socket.remotePort ?? 0,
    localIp: socket.localAddress ?? '127.0.0.1',
    localPort: socket.localPort ?? fallbackPort,
  };
  return gated ? { ...own, ...gated } : own;
}

/** Where a lazy PeerInfo reads its fields from, and what it read. */
interface PeerInfoSource {
  readonly socket: net.Socket;
  readonly port: number;
  readonly gated: GatedPeer | undefined;
  readonly path: string | undefined;
  resolved?: PeerInfo;
}

const infoSource = Symbol('peerInfoSource');

function lazyField(key: keyof PeerInfo): PropertyDescriptor {
  return {
    enumerable: true,
    get(this: { [infoSource]: PeerInfoSource }) {
      const source = this[infoSource];
      source.resolved ??= peerInfo(source.socket, source.port, source.gated, source.path);
      return source.resolved[key];
    },
  };
}

const ownFields = ['peer', 'peerPort', 'localIp', 'localPort'] as const;
const ownDescriptors = Object.fromEntries(ownFields.map((key) => [key, lazyField(key)]));
const gatedDescriptors = Object.fromEntries([...ownFields, 'proxy', 'proxyPort', 'proxyHeader'].map((key) => [key, lazyField(key as keyof PeerInfo)]));

/**
 * A connection's PeerInfo whose addresses are read from the socket (getpeername, getsockname: ~10%
 * of an accept) only when a field is first read. Every factory gets one however it is declared; most
 * never look. The fields are own enumerable getters with shared functions, so spreading, JSON and
 * deep equality see plain values.
 */
function lazyPeerInfo(socket: net.Socket, port: number, gated: GatedPeer | undefined, path: string | undefined): PeerInfo {
  const info = {};
  Object.defineProperty(info, infoSource, { value: { socket, port, gated, path } satisfies PeerInfoSource });
  return Object.defineProperties(info, gated ? gatedDescriptors : ownDescriptors) as PeerInfo;
}

/** newCSA whose info reads the socket's addresses only when a handler asks for one. */
class Announcement implements NewCSA<AnyActorRef> {
  readonly kind = 'newCSA' as const;
  readonly info: PeerInfo;

  constructor(
    readonly id: number,
    readonly csa: AnyActorRef,
    socket: net.Socket,
    port: number,
    gated: GatedPeer | undefined,
    path: string | undefined,
  ) {
    this.info = lazyPeerInfo(socket, port, gated, path);
  }
}

/** How a gated connection is found again once TLS has wrapped its socket: the proxy's end of it. */
function gateKey(socket: net.Socket): string {
  return `${socket.remoteAddress}|${socket.remotePort}`;
}

/** The ports to try for a portRange, starting at a random one (Kamaelia's makeTCPServerPort picks at random). */
function portsToTry(range: readonly [number, number]): number[] {
  const [low, high] = range;
  const count = high - low + 1;
  const start = Math.floor(Math.random() * count);
  return Array.from({ length: count }, (_, i) => low + ((start + i) % count));
}

export const listenerLogic = fromCallback<ListenerCommand | EventObject, ListenerActorInput, ListenerReport>(({ input: actorInput, sendBack, receive, self }) => {
  const input = actorInput.options as ListenerInput;
  const counts = actorInput.connections;
  const report = (event: ListenerReport): void => sendBack(event);
  // Announced on the server machine's own outbox without a macrostep of it (its counts are ours).
  const announce = (data: Extract<TcpServerEmitted, { type: 'protocolHandlerSignal' }>['data']): void =>
    emitFrom(serverRef, { type: 'protocolHandlerSignal', data });
  const connections = new Map<number, Connection>();
  const serverRef = parentOf(self) ?? self;
  let nextId = 0;
  let bound = false;
  let accepting = true;
  let ended = false;
  let suspended = false;
  /** The port actually bound, so resumeAccepting listens on the same one. */
  let boundPort = input.port;

  const serverOptions: net.ServerOpts = {
    allowHalfOpen: true, // a peer's FIN is a half-close: the CSA decides when our side ends
    noDelay: input.socketOptions.noDelay ?? true,
    keepAlive: input.socketOptions.keepAlive ?? false,
    keepAliveInitialDelay: input.socketOptions.keepAliveInitialDelay ?? 0,
    ...(input.socketOptions.highWaterMark !== undefined ? { highWaterMark: input.socketOptions.highWaterMark } : {}),
  };
  const tlsServer = input.tls
    ? tls.createServer({ ...input.tls, ...serverOptions, handshakeTimeout: input.handshakeTimeout })
    : undefined;
  // With a gate, a plain listener takes the connection first and hands it to TLS once it has passed.
  const server: net.Server = tlsServer && !input.gate ? tlsServer : net.createServer(serverOptions);
  if (input.maxConnections !== undefined) server.maxConnections = input.maxConnections;
  const gate = input.gate;
  /** Sockets still at the gate. */
  const gating = new Set<net.Socket>();
  /** What the gate said of connections now in their TLS handshake. */
  const gated = new Map<string, GatedPeer>();

  /**
   * Implicit TLS: connections still in their handshake (the raw sockets). They count as open, so a
   * drain waits for them, and a shutdown closes them: one must not finish its handshake and be
   * served after the server has said it is done.
   */
  const handshaking = new Set<net.Socket>();
  const handshakeOver = (raw: net.Socket | undefined): void => {
    if (raw === undefined || !handshaking.delete(raw)) return;
    counts.open--;
    if (!accepting && counts.open === 0) report({ type: 'listener.drained' });
  };
  const closeHandshakes = (): void => {
    for (const raw of [...handshaking]) raw.destroy(); // 'close' counts each one down
  };
  /** The raw socket a server-side TLSSocket wraps (node:tls keeps it as `_parent`). */
  const rawOf = (secured: net.Socket): net.Socket | undefined => (secured as net.Socket & { _parent?: net.Socket })._parent;

  const forget = (id: number, why: Reason | undefined): void => {
    const connection = connections.get(id);
    if (!connection) return;
    connections.delete(id);
    forgetChild(self, String(id));
    if (!connection.socket.destroyed) connection.socket.destroy(); // safety net: the CSA should have closed it
    counts.open--;
    input.observer?.closed(id, connection.socket, why);
    announce(shutdownCSA(id, connection.csa, why));
    if (!accepting && counts.open === 0) report({ type: 'listener.drained' });
  };

  const onIdle = function (this: net.Socket & { kamaeliaId?: number }): void {
    const connection = this.kamaeliaId === undefined ? undefined : connections.get(this.kamaeliaId);
    if (!connection) return;
    if (connection.idle) {
      this.destroy(); // asked to close an idle timeout ago and still open: the peer is not reading
      return;
    }
    connection.idle = true;
    this.setTimeout(input.closeTimeout);
    const why = reason('ETIMEDOUT', `no traffic for ${input.idleTimeout} ms`);
    deliverToInbox(connection.csa, 'control', producerFinished(why, { source: 'TCPServer' }));
  };

  const accept = (socket: net.Socket, gatedPeer?: GatedPeer): void => {
    socket.on('error', ignoreSocketError);
    if (tlsServer) handshakeOver(rawOf(socket));
    if (tlsServer) input.observer?.handshakeDone(rawOf(socket), socket);
    if (gate && tlsServer) {
      const key = gateKey(socket);
      gatedPeer = gated.get(key);
      gated.delete(key);
    }
    if (!accepting || ended) {
      socket.destroy(); // a TLS handshake that completed after we stopped accepting
      return;
    }
    const id = nextId++;
    let component: AnyComponent;
    let csa: AnyActorRef;
    try {
      component = input.createCSA(socket, id);
      csa = createChildActor(self, component, String(id), `${id}:${component.name}`);
    } catch (error) {
      socket.destroy();
      report({ type: 'listener.acceptError', reason: reasonFromError(error, 'ECSA') });
      input.observer?.acceptError(reasonFromError(error, 'ECSA'));
      return;
    }
    // In paths and the inspector a CSA sits under the TCPServer, not under its listener.
    registerComponent(csa, { component, name: `${id}:${component.name}`, parent: serverRef });
    connections.set(id, { socket, csa, idle: false });
    if (input.idleTimeout !== undefined) {
      (socket as net.Socket & { kamaeliaId?: number }).kamaeliaId = id;
      socket.setTimeout(input.idleTimeout);
      socket.on('timeout', onIdle);
    }
    counts.open++;
    counts.accepted++;
    input.observer?.opened(id, socket);
    // Consumers link the CSA's boxes while handling newCSA, before it starts and reads its first byte.
    announce(new Announcement(id, csa, socket, input.port, gatedPeer, input.path));
    csa.start();
  };

  const passGate = (socket: net.Socket): void => {
    socket.on('error', ignoreSocketError);
    gating.add(socket);
    gate!(
      socket,
      (peer) => {
        gating.delete(socket);
        if (!tlsServer) accept(socket, peer);
        else if (accepting && !ended) {
          gated.set(gateKey(socket), peer);
          socket.once('close', () => gated.delete(gateKey(socket)));
          tlsServer.emit('connection', socket); // node:tls's own handshake, with its timeout and SNI
        } else socket.destroy();
      },
      () => {
        gating.delete(socket);
        socket.destroy();
        if (accepting && !ended) counts.proxyRejected++;
      },
    );
  };
  if (gate) server.on('connection', passGate);
  if (tlsServer) tlsServer.on('secureConnection', accept);
  else if (!gate) server.on('connection', accept);
  server.on('drop', () => report({ type: 'listener.refused' }));
  server.on('drop', () => input.observer?.refused());
  if (tlsServer) {
    // node:tls has wrapped the raw socket by now (its own 'connection' listener came first).
    tlsServer.on('connection', (raw: net.Socket) => {
      if (!accepting || ended) {
        raw.destroy();
        return;
      }
      handshaking.add(raw);
      counts.open++;
      input.observer?.handshakeStarted(raw);
      raw.once('close', () => handshakeOver(raw));
    });
    tlsServer.on('tlsClientError', (error: Error, socket: tls.TLSSocket) => {
      handshakeOver(rawOf(socket));
      socket.destroy(); // with a tlsClientError listener Node leaves closing the socket to us
      report({ type: 'listener.handshakeFailed', reason: reasonFromError(error, 'ETLS') });
      input.observer?.handshakeFailed(rawOf(socket), reasonFromError(error, 'ETLS'));
    });
  }
  const dropGated = (): void => {
    for (const socket of gating) socket.destroy();
    gating.clear();
  };

  const ports = input.portRange ? portsToTry(input.portRange) : [input.port];
  let attempt = 0;
  const listen = (): void => {
    if (input.path !== undefined) {
      server.listen({ path: input.path, backlog: input.backlog });
      return;
    }
    const port = bound ? boundPort : ports[attempt]!;
    server.listen({
      port,
      backlog: input.backlog,
      ...(input.host !== undefined ? { host: input.host } : {}),
      ...(input.socketOptions.ipv6Only !== undefined ? { ipv6Only: input.socketOptions.ipv6Only } : {}),
      ...(input.socketOptions.exclusive !== undefined ? { exclusive: input.socketOptions.exclusive } : {}),
    });
  };
  server.on('listening', () => {
    if (ended) {
      server.close(); // stopped while the bind was under way
      return;
    }
    if (bound) return; // listening again after resumeAccepting
    bound = true;
    if (input.path !== undefined) {
      report({ type: 'listener.bound', address: input.path, port: 0, family: 'Unix' });
      input.observer?.listening(input.path, 0, 'Unix');
      return;
    }
    const address = server.address() as net.AddressInfo;
    boundPort = address.port;
    report({ type: 'listener.bound', address: address.address, port: address.port, family: address.family === 'IPv6' ? 'IPv6' : 'IPv4' });
    input.observer?.listening(address.address, address.port, address.family === 'IPv6' ? 'IPv6' : 'IPv4');
  });
  server.on('error', (error: NodeJS.ErrnoException) => {
    if (ended) return;
    if (bound) {
      report({ type: 'listener.acceptError', reason: reasonFromError(error, 'EACCEPT') });
      input.observer?.acceptError(reasonFromError(error, 'EACCEPT'));
      return;
    }
    if (input.portRange && error.code === 'EADDRINUSE' && attempt + 1 < ports.length) {
      attempt++;
      listen();
      return;
    }
    const why = reasonFromError(error, 'EBIND');
    const where =
      input.path ?? `${input.host ?? '(all interfaces)'}:${input.portRange ? `${input.portRange[0]}-${input.portRange[1]}` : input.port}`;
    report({ type: 'listener.bindFailed', reason: { code: why.code, message: `cannot listen on ${where}: ${why.message}` } });
  });
  listen();

  receive((event) => {
    const { type } = event;
    if (type === 'suspendAccepting') {
      if (!accepting || suspended || !bound) return;
      suspended = true;
      server.close();
    } else if (type === 'resumeAccepting') {
      if (!accepting || !suspended || ended) return;
      suspended = false;
      listen();
    } else if (type === 'replaceTls') {
      const options = (event as Extract<ListenerOperation, { type: 'replaceTls' }>).options;
      try {
        tlsServer?.setSecureContext(options);
        input.replaceStartTls?.(options);
      } catch (error) {
        report({ type: 'listener.acceptError', reason: reasonFromError(error, 'ETLS') }); // checked by the caller; never fatal here
      }
    } else if (type === 'stopAccepting') {
      accepting = false;
      server.close();
      dropGated();
      closeHandshakes();
    } else if (type === 'closeConnections') {
      const closeRequest = producerFinished(undefined, { source: 'TCPServer' });
      for (const { csa } of [...connections.values()]) deliverToInbox(csa, 'control', closeRequest);
    } else if (type === 'destroyConnections') {
      for (const [id, { csa }] of [...connections]) {
        stopTree(csa);
        forget(id, reason('ESHUTDOWN', 'closed by server shutdown'));
      }
    } else if (type.startsWith(DONE_PREFIX)) {
      // The CSA's output carries why it ended (ECONNRESET, a TLS code, ...): shutdownCSA passes it on.
      forget(Number(type.slice(DONE_PREFIX.length)), outputReason((event as { output?: unknown }).output));
    } else if (type.startsWith(ERROR_PREFIX)) {
      forget(Number(type.slice(ERROR_PREFIX.length)), reasonFromError((event as { error?: unknown }).error));
    }
  });

  return () => {
    for (const [id, { socket }] of connections) input.observer?.closed(id, socket, reason('ESHUTDOWN', 'the server was stopped'));
    input.observer?.serverClosed();
    ended = true;
    accepting = false;
    server.close();
    dropGated();
    closeHandshakes();
    for (const { csa, socket } of connections.values()) {
      stopTree(csa);
      socket.destroy();
    }
    connections.clear();
  };
});
