// Lifecycle events of servers and their connections on node:diagnostics_channel, as undici and
// node:net publish theirs: APM agents and the OpenTelemetry bridge (src/otel) subscribe by channel
// name with no dependency on this package. Every publish first checks `hasSubscribers`, so with
// nobody listening a connection costs a few property reads and allocates nothing.
import diagnosticsChannel from 'node:diagnostics_channel';
import type net from 'node:net';
import { performance } from 'node:perf_hooks';
import type tls from 'node:tls';
import type { ConnectionGate } from '../../actors/connectionGate.js';
import type { ListenerObserver } from '../../actors/listenerObserver.js';
import type { PeerInfo, Reason } from '../kernel/messages.js';

/** The names of the channels this package publishes on (`diagnostics_channel.subscribe(name, fn)`). */
export const DIAGNOSTICS_CHANNELS = {
  /** {@link ServerEventMessage}: the server is bound and accepting. */
  serverListening: 'kamaelia-xstate:server:listening',
  /** {@link ServerEventMessage}: the server has stopped for good. */
  serverClosed: 'kamaelia-xstate:server:closed',
  /** {@link ServerErrorMessage}: accept() failed (EMFILE, ...); the server goes on. */
  acceptError: 'kamaelia-xstate:server:acceptError',
  /** {@link ConnectionOpenMessage}: a connection was accepted and is being served. */
  connectionOpen: 'kamaelia-xstate:connection:open',
  /** {@link ConnectionCloseMessage}: a connection ended, with its duration, byte counts and reason. */
  connectionClose: 'kamaelia-xstate:connection:close',
  /** {@link ServerErrorMessage}: a connection turned away at once because maxConnections was reached (code EMAXCONNECTIONS). */
  connectionRejected: 'kamaelia-xstate:connection:rejected',
  /** {@link TlsHandshakeStartMessage}: an implicit-TLS handshake began. */
  tlsHandshakeStart: 'kamaelia-xstate:tls:handshakeStart',
  /** {@link TlsHandshakeMessage}: an implicit-TLS handshake completed. */
  tlsHandshake: 'kamaelia-xstate:tls:handshake',
  /** {@link TlsHandshakeErrorMessage}: an implicit-TLS handshake failed or timed out. */
  tlsHandshakeError: 'kamaelia-xstate:tls:handshakeError',
  /** {@link ProxyAcceptedMessage}: a connection's PROXY header was read and its proxy trusted. */
  proxyAccepted: 'kamaelia-xstate:proxy:accepted',
  /** {@link ProxyRejectedMessage}: a connection was closed at the PROXY gate (untrusted, bad or missing header, timeout). */
  proxyRejected: 'kamaelia-xstate:proxy:rejected',
} as const;

/** One of {@link DIAGNOSTICS_CHANNELS}' names. */
export type DiagnosticsChannelName = (typeof DIAGNOSTICS_CHANNELS)[keyof typeof DIAGNOSTICS_CHANNELS];

/** The server an event is about. One object per server (and per bind), shared by all its events. */
export interface DiagnosticsServer {
  /** The component: 'TCPServer', 'ConnectedServer', 'SingleServer', ... */
  readonly name: string;
  /** 'tcp', or 'unix' for a Unix domain socket (OpenTelemetry's network.transport). */
  readonly transport: 'tcp' | 'unix';
  /** The bound address (the path for a Unix socket); '' until bound. */
  readonly address: string;
  /** The bound port; 0 until bound, and for a Unix socket. */
  readonly port: number;
  /** In a cluster's primary: the worker (1..N) whose server this is. Absent in the process that serves. */
  readonly worker?: number;
}

/** Payload of serverListening and serverClosed. */
export interface ServerEventMessage {
  readonly server: DiagnosticsServer;
}

/** Payload of acceptError and connectionRejected. */
export interface ServerErrorMessage {
  readonly server: DiagnosticsServer;
  readonly reason: Reason;
}

/** Payload of connectionOpen. */
export interface ConnectionOpenMessage {
  readonly server: DiagnosticsServer;
  /** The connection's number within its server (as in newCSA/shutdownCSA). */
  readonly id: number;
  /** The accepted socket (a TLSSocket with implicit TLS). Absent when relayed from a cluster worker. */
  readonly socket?: net.Socket;
}

/** Payload of connectionClose. */
export interface ConnectionCloseMessage {
  readonly server: DiagnosticsServer;
  readonly id: number;
  /** Absent when relayed from a cluster worker. */
  readonly socket?: net.Socket;
  /** Milliseconds from open to close (monotonic clock). */
  readonly durationMs: number;
  /** Bytes read from and written to the socket (node's socket.bytesRead/bytesWritten: for implicit TLS the application's bytes). */
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Why it ended, when an error ended it (ECONNRESET, ETIMEDOUT, ESHUTDOWN, ...). Absent for a clean close. */
  readonly reason?: Reason;
}

/** Payload of tlsHandshakeStart. */
export interface TlsHandshakeStartMessage {
  readonly server: DiagnosticsServer;
  /** The raw socket being secured. Absent when relayed from a cluster worker. */
  readonly socket?: net.Socket;
}

/** Payload of tlsHandshake. */
export interface TlsHandshakeMessage {
  readonly server: DiagnosticsServer;
  /** The TLS socket. Absent when relayed from a cluster worker. */
  readonly socket?: net.Socket;
  /** Milliseconds from the first byte of the connection to the completed handshake. */
  readonly durationMs: number;
  /** The negotiated protocol ('TLSv1.3', ...), when known. */
  readonly protocol?: string;
}

/** Payload of tlsHandshakeError. */
export interface TlsHandshakeErrorMessage {
  readonly server: DiagnosticsServer;
  /** Absent when relayed from a cluster worker. */
  readonly socket?: net.Socket;
  readonly durationMs: number;
  readonly reason: Reason;
}

/** Payload of proxyAccepted. */
export interface ProxyAcceptedMessage {
  readonly server: DiagnosticsServer;
  /** Absent when relayed from a cluster worker. */
  readonly socket?: net.Socket;
  /** What the header said: the client (`peer`, `peerPort`), the proxy's end, the header itself. */
  readonly peer: Partial<Omit<PeerInfo, 'localIp' | 'localPort'>>;
}

/** Payload of proxyRejected. */
export interface ProxyRejectedMessage {
  readonly server: DiagnosticsServer;
  /** Absent when relayed from a cluster worker. */
  readonly socket?: net.Socket;
  readonly reason: Reason;
}

/** Each channel's payload type, by channel name. */
export interface DiagnosticsMessages {
  'kamaelia-xstate:server:listening': ServerEventMessage;
  'kamaelia-xstate:server:closed': ServerEventMessage;
  'kamaelia-xstate:server:acceptError': ServerErrorMessage;
  'kamaelia-xstate:connection:open': ConnectionOpenMessage;
  'kamaelia-xstate:connection:close': ConnectionCloseMessage;
  'kamaelia-xstate:connection:rejected': ServerErrorMessage;
  'kamaelia-xstate:tls:handshakeStart': TlsHandshakeStartMessage;
  'kamaelia-xstate:tls:handshake': TlsHandshakeMessage;
  'kamaelia-xstate:tls:handshakeError': TlsHandshakeErrorMessage;
  'kamaelia-xstate:proxy:accepted': ProxyAcceptedMessage;
  'kamaelia-xstate:proxy:rejected': ProxyRejectedMessage;
}

const C = DIAGNOSTICS_CHANNELS;
const serverListening = diagnosticsChannel.channel(C.serverListening);
const serverClosed = diagnosticsChannel.channel(C.serverClosed);
const acceptError = diagnosticsChannel.channel(C.acceptError);
const connectionOpen = diagnosticsChannel.channel(C.connectionOpen);
const connectionClose = diagnosticsChannel.channel(C.connectionClose);
const connectionRejected = diagnosticsChannel.channel(C.connectionRejected);
const tlsHandshakeStart = diagnosticsChannel.channel(C.tlsHandshakeStart);
const tlsHandshake = diagnosticsChannel.channel(C.tlsHandshake);
const tlsHandshakeError = diagnosticsChannel.channel(C.tlsHandshakeError);
const proxyAccepted = diagnosticsChannel.channel(C.proxyAccepted);
const proxyRejected = diagnosticsChannel.channel(C.proxyRejected);
const byName = new Map<string, diagnosticsChannel.Channel>(
  [serverListening, serverClosed, acceptError, connectionOpen, connectionClose, connectionRejected, tlsHandshakeStart, tlsHandshake, tlsHandshakeError, proxyAccepted, proxyRejected].map(
    (channel) => [channel.name as string, channel],
  ),
);

/** True if anything listens on one of this package's channels (a cluster primary then asks its workers to relay). */
export function hasDiagnosticsSubscribers(): boolean {
  for (const channel of byName.values()) if (channel.hasSubscribers) return true;
  return false;
}

/** Publishes `message` on channel `name` if it has subscribers (the cluster relay re-publishes a worker's events this way). */
export function publishDiagnostics<N extends DiagnosticsChannelName>(name: N, message: DiagnosticsMessages[N]): void {
  const channel = byName.get(name);
  if (channel?.hasSubscribers) channel.publish(message);
}

const HANDSHAKE_CLOSED: Reason = { code: 'ECONNRESET', message: 'the connection closed during its TLS handshake' };
const MAX_CONNECTIONS: Reason = { code: 'EMAXCONNECTIONS', message: 'maxConnections reached: the connection was closed at once' };

/**
 * The observer a server's listener reports to: it publishes on the channels, and keeps the open and
 * handshake start times only while someone listens for the matching end.
 */
export function serverDiagnostics(name: string, unixPath: string | undefined): ListenerObserver & { readonly server: () => DiagnosticsServer } {
  let server: DiagnosticsServer = { name, transport: unixPath === undefined ? 'tcp' : 'unix', address: unixPath ?? '', port: 0 };
  // Keyed by socket, not id: a component definition run twice shares this observer, and ids restart.
  /** When each connection opened: kept only while connectionClose has subscribers. */
  const opened = new WeakMap<net.Socket, number>();
  /** How many are in `opened` (a close skips the lookup when none are). */
  let tracked = 0;
  /** When each implicit-TLS handshake began, by raw socket. */
  const handshakes = new WeakMap<net.Socket, number>();
  const handshakeTime = (raw: net.Socket | undefined): number | undefined => {
    if (raw === undefined) return undefined;
    const started = handshakes.get(raw);
    if (started !== undefined) handshakes.delete(raw);
    return started === undefined ? undefined : performance.now() - started;
  };
  const handshakeFailed = (raw: net.Socket | undefined, why: Reason): void => {
    const durationMs = handshakeTime(raw);
    if (durationMs === undefined || !tlsHandshakeError.hasSubscribers) return;
    tlsHandshakeError.publish({ server, ...(raw ? { socket: raw } : {}), durationMs, reason: why } satisfies TlsHandshakeErrorMessage);
  };
  return {
    server: () => server,
    listening(address, port) {
      server = { ...server, address, port };
      if (serverListening.hasSubscribers) serverListening.publish({ server } satisfies ServerEventMessage);
    },
    opened(id, socket) {
      if (connectionClose.hasSubscribers) {
        opened.set(socket, performance.now());
        tracked++;
      }
      if (connectionOpen.hasSubscribers) connectionOpen.publish({ server, id, socket } satisfies ConnectionOpenMessage);
    },
    closed(id, socket, why) {
      if (tracked === 0) return;
      const started = opened.get(socket);
      if (started === undefined) return; // nobody listened for closes when it opened
      opened.delete(socket);
      tracked--;
      if (!connectionClose.hasSubscribers) return;
      const message: ConnectionCloseMessage = {
        server,
        id,
        socket,
        durationMs: performance.now() - started,
        bytesIn: socket.bytesRead,
        bytesOut: socket.bytesWritten,
        ...(why ? { reason: why } : {}),
      };
      connectionClose.publish(message);
    },
    refused() {
      if (connectionRejected.hasSubscribers) connectionRejected.publish({ server, reason: MAX_CONNECTIONS } satisfies ServerErrorMessage);
    },
    acceptError(why) {
      if (acceptError.hasSubscribers) acceptError.publish({ server, reason: why } satisfies ServerErrorMessage);
    },
    handshakeStarted(raw) {
      if (!tlsHandshake.hasSubscribers && !tlsHandshakeError.hasSubscribers && !tlsHandshakeStart.hasSubscribers) return;
      handshakes.set(raw, performance.now());
      // A handshake cut short by the server's shutdown (or a client gone quiet) ends with no tlsClientError.
      raw.once('close', () => handshakeFailed(raw, HANDSHAKE_CLOSED));
      if (tlsHandshakeStart.hasSubscribers) tlsHandshakeStart.publish({ server, socket: raw } satisfies TlsHandshakeStartMessage);
    },
    handshakeDone(raw, secured) {
      const durationMs = handshakeTime(raw);
      if (durationMs === undefined || !tlsHandshake.hasSubscribers) return;
      const protocol = (secured as tls.TLSSocket).getProtocol?.() ?? undefined;
      tlsHandshake.publish({ server, socket: secured, durationMs, ...(protocol ? { protocol } : {}) } satisfies TlsHandshakeMessage);
    },
    handshakeFailed,
    handshakeDropped(raw) {
      handshakes.delete(raw);
    },
    serverClosed() {
      if (serverClosed.hasSubscribers) serverClosed.publish({ server } satisfies ServerEventMessage);
    },
  };
}

/**
 * `gate` (the PROXY protocol's) with its verdicts published on proxyAccepted/proxyRejected. With
 * neither channel subscribed when a connection arrives, the gate runs as it is.
 */
export function observedGate(gate: ConnectionGate, server: () => DiagnosticsServer): ConnectionGate {
  return (socket, admit, reject, drop) => {
    if (!proxyAccepted.hasSubscribers && !proxyRejected.hasSubscribers) {
      gate(socket, admit, reject, drop);
      return;
    }
    gate(
      socket,
      (peer) => {
        if (proxyAccepted.hasSubscribers) proxyAccepted.publish({ server: server(), socket, peer } satisfies ProxyAcceptedMessage);
        admit(peer);
      },
      (why) => {
        if (proxyRejected.hasSubscribers) proxyRejected.publish({ server: server(), socket, reason: why } satisfies ProxyRejectedMessage);
        reject(why);
      },
      // A peer that left before it could be judged (a health check) is neither accepted nor rejected.
      drop,
    );
  };
}
