// What a TCPServer's listener is made with (src/internet/TCPServer.ts validates and builds it), and
// the operations its owner may ask of a running server from outside its graph.
import type { ListenerObserver } from './listenerObserver.js';
import type net from 'node:net';
import type tls from 'node:tls';
import type { AcceptControlEvent } from '../machines/tcpServer.js';
import type { AnyComponent } from '../src/kernel/component.js';
import type { ConnectionGate } from './connectionGate.js';

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

/** New connections get these credentials (Node's setSecureContext); open ones keep theirs. Taken by the listener. */
export interface ReplaceTlsOperation {
  readonly type: 'replaceTls';
  readonly options: tls.SecureContextOptions;
}

/**
 * Operations a running server's owner may ask for (src/internet/acceptControl.ts; a cluster primary
 * passes them to its workers). Suspending and resuming accepting are events of tcpServerMachine
 * (its `suspended` state); replacing TLS credentials changes no state and goes to the listener.
 */
export type ListenerOperation = AcceptControlEvent | ReplaceTlsOperation;
