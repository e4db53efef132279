// A TCPServer's listening socket: binds it (each port of a portRange in turn, from a random one, as
// Kamaelia's makeTCPServerPort), closes it and listens again when told, and reports what Node says:
// bound, could not bind, an error while accepting, a connection turned away over maxConnections.
// Whether it should be listening is tcpServerMachine's decision (binding, listening, suspended,
// resuming, draining); this holds no such state: Node's own `server.listening` is the only fact read.
// close() cancels a listen still in flight (a host name being looked up, a cluster worker asking
// its primary): Node then emits neither 'listening' nor an error for it (nodejs/node#51929).
import net from 'node:net';
import tls from 'node:tls';
import type { ListenerReport } from '../machines/tcpServer.js';
import { reasonFromError } from '../src/kernel/messages.js';
import type { ListenerInput } from './listenerOptions.js';

/** The servers a listener needs: `server` listens; `tlsServer` (implicit TLS) runs the handshakes. */
export interface ListenerServers {
  readonly server: net.Server;
  readonly tlsServer: tls.Server | undefined;
}

/**
 * Makes the listener's servers. With implicit TLS and no gate the TLS server listens itself; with a
 * gate a plain server takes each connection first and hands it to TLS once it has passed.
 */
export function createServers(input: ListenerInput): ListenerServers {
  const serverOptions: net.ServerOpts = {
    allowHalfOpen: true, // a peer's FIN is a half-close: the CSA decides when our side ends
    noDelay: input.socketOptions.noDelay ?? true,
    keepAlive: input.socketOptions.keepAlive ?? false,
    keepAliveInitialDelay: input.socketOptions.keepAliveInitialDelay ?? 0,
    ...(input.socketOptions.highWaterMark !== undefined ? { highWaterMark: input.socketOptions.highWaterMark } : {}),
  };
  // Not half-open during a TLS handshake (a TLSSocket takes its raw socket's setting): a FIN or a
  // reset mid-handshake must fail it at once, not hold it until handshakeTimeout. The CSA's binding
  // makes the secured socket half-open once it has it.
  const tlsServer = input.tls ? tls.createServer({ ...input.tls, ...serverOptions, allowHalfOpen: false, handshakeTimeout: input.handshakeTimeout }) : undefined;
  const server: net.Server = tlsServer && !input.gate ? tlsServer : net.createServer(serverOptions);
  if (input.maxConnections !== undefined) server.maxConnections = input.maxConnections;
  return { server, tlsServer };
}

/** The ports to try for a portRange, starting at a random one (Kamaelia's makeTCPServerPort picks at random). */
function portsToTry(range: readonly [number, number]): number[] {
  const [low, high] = range;
  const count = high - low + 1;
  const start = Math.floor(Math.random() * count);
  return Array.from({ length: count }, (_, i) => low + ((start + i) % count));
}

export class ListeningSocket {
  /**
   * The listen in flight: the ports it may still try after EADDRINUSE (a portRange's), and where it
   * is trying, for the error message. The progress of one bind, not a lifecycle: the machine asked for it.
   */
  private untried: number[] = [];
  private where = '';

  constructor(
    private readonly server: net.Server,
    private readonly input: ListenerInput,
    private readonly report: (event: ListenerReport) => void,
  ) {
    server.on('listening', this.onListening);
    server.on('error', this.onError);
    server.on('drop', () => report({ type: 'listener.refused' }));
  }

  /** Whether the socket is listening now (Node's own fact). */
  get listening(): boolean {
    return this.server.listening;
  }

  /** The first bind: the port, or each port of the range in turn. Reports bound or bindFailed. */
  bind(): void {
    const { input } = this;
    const range = input.portRange;
    this.where = input.path ?? `${input.host ?? '(all interfaces)'}:${range ? `${range[0]}-${range[1]}` : input.port}`;
    const ports = range ? portsToTry(range) : [input.port];
    this.untried = ports.slice(1);
    this.listenOn(ports[0]!);
  }

  /** Listens again (after close) on `port`, or on the path. Reports bound or bindFailed. */
  reopen(port: number): void {
    this.where = this.input.path ?? `${this.input.host ?? '(all interfaces)'}:${port}`;
    this.untried = [];
    this.listenOn(port);
  }

  /** Closes the listening socket (and cancels a listen in flight); accepted connections are not touched. */
  close(): void {
    this.server.close();
  }

  private listenOn(port: number): void {
    const { input } = this;
    try {
      if (input.path !== undefined) {
        this.server.listen({ path: input.path, backlog: input.backlog });
        return;
      }
      this.server.listen({
        port,
        backlog: input.backlog,
        ...(input.host !== undefined ? { host: input.host } : {}),
        ...(input.socketOptions.ipv6Only !== undefined ? { ipv6Only: input.socketOptions.ipv6Only } : {}),
        ...(input.socketOptions.exclusive !== undefined ? { exclusive: input.socketOptions.exclusive } : {}),
      });
    } catch (error) {
      this.bindFailed(error);
    }
  }

  private readonly onListening = (): void => {
    this.untried = [];
    if (this.input.path !== undefined) {
      this.report({ type: 'listener.bound', address: this.input.path, port: 0, family: 'Unix' });
      return;
    }
    const address = this.server.address() as net.AddressInfo;
    this.report({ type: 'listener.bound', address: address.address, port: address.port, family: address.family === 'IPv6' ? 'IPv6' : 'IPv4' });
  };

  private readonly onError = (error: NodeJS.ErrnoException): void => {
    // While listening, an error is one accepting (EMFILE, ... when libuv could not absorb it);
    // otherwise the listen in flight failed.
    if (this.server.listening) {
      this.report({ type: 'listener.acceptError', reason: reasonFromError(error, 'EACCEPT') });
      return;
    }
    const next = error.code === 'EADDRINUSE' ? this.untried.shift() : undefined;
    if (next !== undefined) this.listenOn(next);
    else this.bindFailed(error);
  };

  private bindFailed(error: unknown): void {
    this.untried = [];
    const why = reasonFromError(error, 'EBIND');
    this.report({ type: 'listener.bindFailed', reason: { code: why.code, message: `cannot listen on ${this.where}: ${why.message}` } });
  }
}
