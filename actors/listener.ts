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
import { newCSA, producerFinished, reason, reasonFromError, shutdownCSA, type PeerInfo, type Reason } from '../src/kernel/messages.js';
import { registerComponent, deliverToInbox } from '../src/kernel/routing.js';
import { createChildActor, forgetChild, stopTree } from '../src/kernel/childActors.js';
import { emitFrom, indexScheduledEvents, parentOf } from '../src/kernel/xstateInternals.js';

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

/** TLS server options; `secure: true` means TLS from the first byte (implicit TLS). */
export type TCPServerTlsOptions = tls.TlsOptions & {
  readonly secure?: boolean;
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
  /** After an idle connection was asked to finish, destroy it if it has not closed within this. */
  readonly closeTimeout: number;
  /** Builds the component that owns one accepted socket (the CSA). */
  readonly createCSA: (socket: net.Socket, id: number) => AnyComponent;
}

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

function peerInfo(socket: net.Socket, fallbackPort: number): PeerInfo {
  return {
    peer: socket.remoteAddress ?? '0.0.0.0',
    peerPort: socket.remotePort ?? 0,
    localIp: socket.localAddress ?? '127.0.0.1',
    localPort: socket.localPort ?? fallbackPort,
  };
}

/** The ports to try for a portRange, starting at a random one (Kamaelia's makeTCPServerPort picks at random). */
function portsToTry(range: readonly [number, number]): number[] {
  const [low, high] = range;
  const count = high - low + 1;
  const start = Math.floor(Math.random() * count);
  return Array.from({ length: count }, (_, i) => low + ((start + i) % count));
}

export const listenerLogic = fromCallback<ListenerCommand | EventObject, ListenerActorInput, ListenerReport>(({ input: actorInput, sendBack, receive, self, system }) => {
  const input = actorInput.options as ListenerInput;
  const counts = actorInput.connections;
  // Thousands of connections stop in this system; keep each stop from scanning every timer.
  indexScheduledEvents(system);
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

  const serverOptions: net.ServerOpts = {
    allowHalfOpen: true, // a peer's FIN is a half-close: the CSA decides when our side ends
    noDelay: input.socketOptions.noDelay ?? true,
    keepAlive: input.socketOptions.keepAlive ?? false,
    keepAliveInitialDelay: input.socketOptions.keepAliveInitialDelay ?? 0,
    ...(input.socketOptions.highWaterMark !== undefined ? { highWaterMark: input.socketOptions.highWaterMark } : {}),
  };
  const server: net.Server = input.tls
    ? tls.createServer({ ...input.tls, ...serverOptions, handshakeTimeout: input.tls.handshakeTimeout ?? input.handshakeTimeout })
    : net.createServer(serverOptions);
  if (input.maxConnections !== undefined) server.maxConnections = input.maxConnections;

  const forget = (id: number, why: Reason | undefined): void => {
    const connection = connections.get(id);
    if (!connection) return;
    connections.delete(id);
    forgetChild(self, String(id));
    if (!connection.socket.destroyed) connection.socket.destroy(); // safety net: the CSA should have closed it
    counts.open--;
    announce(shutdownCSA(id, connection.csa, why));
    if (!accepting && counts.open === 0) report({ type: 'listener.drained' });
  };

  const onIdle = function (this: net.Socket & { kamaeliaId?: number }): void {
    const connection = this.kamaeliaId === undefined ? undefined : connections.get(this.kamaeliaId);
    if (!connection) return;
    if (connection.idle) {
      this.destroy(); // asked to finish an idle timeout ago and still open: the peer is not reading
      return;
    }
    connection.idle = true;
    this.setTimeout(input.closeTimeout);
    const why = reason('ETIMEDOUT', `no traffic for ${input.idleTimeout} ms`);
    deliverToInbox(connection.csa, 'control', producerFinished(why, { source: 'TCPServer' }));
  };

  const accept = (socket: net.Socket): void => {
    socket.on('error', ignoreSocketError);
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
    // Consumers link the CSA's boxes while handling newCSA, before it starts and reads its first byte.
    announce(newCSA(id, csa, peerInfo(socket, input.port)));
    csa.start();
  };

  server.on(input.tls ? 'secureConnection' : 'connection', accept);
  server.on('drop', () => report({ type: 'listener.refused' }));
  if (input.tls) {
    server.on('tlsClientError', (error: Error, socket: tls.TLSSocket) => {
      socket.destroy(); // with a tlsClientError listener Node leaves closing the socket to us
      report({ type: 'listener.handshakeFailed', reason: reasonFromError(error, 'ETLS') });
    });
  }

  const ports = input.portRange ? portsToTry(input.portRange) : [input.port];
  let attempt = 0;
  const listen = (): void => {
    const port = ports[attempt]!;
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
    bound = true;
    const address = server.address() as net.AddressInfo;
    report({ type: 'listener.bound', address: address.address, port: address.port, family: address.family === 'IPv6' ? 'IPv6' : 'IPv4' });
  });
  server.on('error', (error: NodeJS.ErrnoException) => {
    if (ended) return;
    if (bound) {
      report({ type: 'listener.acceptError', reason: reasonFromError(error, 'EACCEPT') });
      return;
    }
    if (input.portRange && error.code === 'EADDRINUSE' && attempt + 1 < ports.length) {
      attempt++;
      listen();
      return;
    }
    const why = reasonFromError(error, 'EBIND');
    const where = `${input.host ?? '(all interfaces)'}:${input.portRange ? `${input.portRange[0]}-${input.portRange[1]}` : input.port}`;
    report({ type: 'listener.bindFailed', reason: { code: why.code, message: `cannot listen on ${where}: ${why.message}` } });
  });
  listen();

  receive((event) => {
    const { type } = event;
    if (type === 'stopAccepting') {
      accepting = false;
      server.close();
    } else if (type === 'closeConnections') {
      const finish = producerFinished(undefined, { source: 'TCPServer' });
      for (const { csa } of [...connections.values()]) deliverToInbox(csa, 'control', finish);
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
    ended = true;
    accepting = false;
    server.close();
    for (const { csa, socket } of connections.values()) {
      stopTree(csa);
      socket.destroy();
    }
    connections.clear();
  };
});
