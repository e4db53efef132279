// TCPClient(host, port, options): Kamaelia's TCP client. Inboxes inbox (bytes to send), control,
// makessl; outboxes outbox (bytes received), signal (exactly one terminal producerFinished, with
// reason { code, message } when an error ended it; badMessage reports), sslready.
import { isIP, type LookupFunction } from 'node:net';
import { domainToASCII } from 'node:url';
import { connector } from '../../actors/connector.js';
import type { ClientTlsOptions } from '../../actors/tlsUpgrade.js';
import { connectedSocketAdapterMachine, type SslReady } from '../../machines/connectedSocketAdapter.js';
import { tcpClientMachine, type TcpClientInput } from '../../machines/tcpClient.js';
import { box, defineComponent } from '../kernel/component.js';
import { connectedSocketAdapterLogic } from './ConnectedSocketAdapter.js';
import { checkBoolean, checkDuration, DEFAULT_CLIENT_HANDSHAKE_TIMEOUT, DEFAULT_CLOSE_TIMEOUT, DEFAULT_CONNECT_TIMEOUT } from './options.js';
import { describeValue, isBadMessage, type SignalMessage } from '../kernel/messages.js';
import { registerComponent } from '../kernel/registry.js';
import { addInboxPassthrough, deliverToInbox, linkToOwnOutbox, removeInboxPassthroughsTo, removeLinksBetween, setInboxOpen } from '../kernel/routing.js';
import { emitFrom } from '../kernel/xstateInternals.js';

/** Options of {@link TCPClient}. Durations are in milliseconds. */
export interface TCPClientOptions {
  /** Milliseconds to wait after starting before connecting. Control works meanwhile. @defaultValue 0 */
  readonly delay?: number;
  /** Milliseconds the connect (and, with `secure`, the TLS handshake) may take; 0 = no limit. @defaultValue 60000 ({@link DEFAULT_CONNECT_TIMEOUT}) */
  readonly connectTimeout?: number;
  /** Milliseconds a graceful close waits for the peer after our FIN. @defaultValue 5000 ({@link DEFAULT_CLOSE_TIMEOUT}) */
  readonly closeTimeout?: number;
  /** Milliseconds a makessl handshake may take; then the client fails with ETIMEDOUT. @defaultValue 30000 ({@link DEFAULT_CLIENT_HANDSHAKE_TIMEOUT}) */
  readonly handshakeTimeout?: number;
  /** node:tls options for makessl, or for TLS from the start with `secure: true`. Verification is on by default. @defaultValue none */
  readonly tls?: ClientTlsOptions;
  /** TLS from the start (tls.connect) instead of plain TCP. @defaultValue false */
  readonly secure?: boolean;
  /** Resolves the host name instead of dns.lookup (node:net's `lookup` option). @defaultValue dns.lookup */
  readonly lookup?: LookupFunction;
  /**
   * Connect to this Unix domain socket instead of host:port. `host` is then only a name (for
   * TLS's servername) and `port` may be 0.
   * @defaultValue none
   */
  readonly path?: string;
  /** Bytes queued before the connection is up at which the inbox gate closes (until the connection is up). @defaultValue 1048576 (1 MiB) */
  readonly pendingHighWaterMark?: number;
  /**
   * What the server's FIN (its end of the stream) does to our side. `false`, as in node:net: what
   * is already queued is written, then our FIN, and the client ends at once (later sends are
   * counted in `unsentBytes`, reason EUNSENT). `true`: our write side stays open until our own
   * producerFinished or shutdownMicroprocess, or `closeTimeout` after the FIN, for protocols that
   * go on sending after the peer has finished.
   * @defaultValue false
   */
  readonly allowHalfOpen?: boolean;
}

const DEFAULT_PENDING_HIGH_WATER_MARK = 1024 * 1024;
// What dns.lookup resolves once IDN labels are in A-label form: labels of letters, digits, hyphens
// and underscores (Docker/Compose service names such as db_1), up to 253 characters, optional final dot.
const DNS_NAME = /^(?=.{1,253}\.?$)[a-z0-9_-]{1,63}(?:\.[a-z0-9_-]{1,63})*\.?$/i;
// Before conversion: non-ASCII (for IDN) or name characters; domainToASCII would cut `a/b` to `a`.
const NAME_CHARACTERS = /^(?:[a-z0-9_.-]|[^\p{ASCII}])+$/iu;

/** The name to connect to: an IP address as given, a host name in ASCII (IDN converted), or undefined if neither. */
function connectableHost(host: unknown): string | undefined {
  if (typeof host !== 'string' || host === '') return undefined;
  if (isIP(host)) return host;
  if (!NAME_CHARACTERS.test(host)) return undefined;
  const ascii = domainToASCII(host);
  return DNS_NAME.test(ascii) ? ascii : undefined;
}

/** How the spawned CSA appears to componentPath() and the inspector. */
const csaComponentInfo = {
  kind: 'kamaelia.component' as const,
  name: 'ConnectedSocketAdapter',
  inboxes: ['inbox', 'control', 'ReadReady', 'SendReady', 'makessl'],
  outboxes: ['outbox', 'CreatorFeedback', 'signal', 'sslready'],
  logic: connectedSocketAdapterMachine,
};

/** The TCPClient machine with its node:net bindings and its wiring to the CSA. */
export const tcpClientLogic = tcpClientMachine.provide({
  actors: { connector, csa: connectedSocketAdapterLogic },
  actions: {
    deliverToCsa: ({ context }, { box, data }) => {
      if (context.csa) deliverToInbox(context.csa, box, data);
    },
    wireCsa: ({ context, self }) => {
      const csa = context.csa;
      if (!csa) return;
      registerComponent(csa, { component: csaComponentInfo, name: 'csa:ConnectedSocketAdapter', parent: self });
      // The CSA's own end (shutdownCSA) is ours to report; its badMessage reports pass through.
      const badMessages = csa.on('signal', (event: { data?: unknown }) => {
        if (isBadMessage(event.data)) emitFrom(self, { type: 'signal', data: event.data });
      });
      addInboxPassthrough(self, 'inbox', csa, 'inbox');
      addInboxPassthrough(self, 'makessl', csa, 'makessl');
      linkToOwnOutbox(csa, 'outbox', self, 'outbox');
      linkToOwnOutbox(csa, 'sslready', self, 'sslready');
      context.csaLinks.value.push(() => {
        removeInboxPassthroughsTo(self, csa);
        removeLinksBetween(csa, self);
        badMessages.unsubscribe();
      });
    },
    closeInboxGate: ({ self }) => setInboxOpen(self, 'inbox', false),
    reopenInboxGate: ({ self }) => queueMicrotask(() => setInboxOpen(self, 'inbox', true)),
  },
});

/**
 * Kamaelia's TCP client: connects to `host`:`port`; bytes or strings on `inbox` are sent, what the
 * server sends comes out of `outbox` as Buffers. `producerFinished` on `control` sends what is
 * queued, then closes; `shutdownMicroprocess` closes now; anything on `makessl` switches to TLS
 * (STARTTLS). It ends with exactly one `producerFinished` on `signal`, carrying `reason` (code
 * ECONNREFUSED, ETIMEDOUT, ECONNRESET, ...) when an error ended it. A bad host or port throws.
 *
 * @param host - an IP address (v4 or v6) or a host name
 * @param port - 1 to 65535 (0 with `path`)
 * @param options - see {@link TCPClientOptions}
 * @example
 * ```ts
 * const client = run(TCPClient('127.0.0.1', 7000));
 * client.send('inbox', 'hello\n');
 * console.log(String(await client.next('outbox')));
 * client.send('control', producerFinished());
 * await client.done;
 * ```
 */
export function TCPClient(host: string, port: number, options: TCPClientOptions = {}) {
  const connectTo = connectableHost(host);
  if (connectTo === undefined) {
    throw new TypeError(`TCPClient: host must be an IP address or a host name, got ${describeValue(host)}`);
  }
  const path = options.path;
  if (path !== undefined && (typeof path !== 'string' || path === '')) {
    throw new TypeError(`TCPClient: path must be a non-empty string (a Unix domain socket), got ${describeValue(path)}`);
  }
  if (typeof port !== 'number' || !Number.isInteger(port) || port < (path !== undefined ? 0 : 1) || port > 65535) {
    throw new RangeError(`TCPClient: port must be an integer from 1 to 65535, got ${describeValue(port)}`);
  }
  const pendingHighWaterMark = options.pendingHighWaterMark ?? DEFAULT_PENDING_HIGH_WATER_MARK;
  if (!Number.isInteger(pendingHighWaterMark) || pendingHighWaterMark <= 0) {
    throw new RangeError(`TCPClient: pendingHighWaterMark must be a positive integer, got ${describeValue(pendingHighWaterMark)}`);
  }
  const input: TcpClientInput = {
    host: connectTo,
    port,
    delayMs: checkDuration('TCPClient', 'delay', options.delay, 0),
    connectTimeoutMs: checkDuration('TCPClient', 'connectTimeout', options.connectTimeout, DEFAULT_CONNECT_TIMEOUT),
    closeTimeoutMs: checkDuration('TCPClient', 'closeTimeout', options.closeTimeout, DEFAULT_CLOSE_TIMEOUT),
    handshakeTimeoutMs: checkDuration('TCPClient', 'handshakeTimeout', options.handshakeTimeout, DEFAULT_CLIENT_HANDSHAKE_TIMEOUT),
    secure: options.secure === true,
    // makessl checks the certificate against the host we were given (tls.host / servername override).
    tls: { host: connectTo, ...options.tls },
    ...(options.lookup ? { lookup: options.lookup } : {}),
    ...(path !== undefined ? { path } : {}),
    pendingHighWaterMark,
    allowHalfOpen: checkBoolean('TCPClient', 'allowHalfOpen', options.allowHalfOpen, false),
  };
  return defineComponent({
    name: 'TCPClient',
    inboxes: { inbox: box<Uint8Array | string>(), control: box<SignalMessage>(), makessl: box<unknown>() },
    outboxes: { outbox: box<Buffer>(), signal: box<SignalMessage>(), sslready: box<SslReady>() },
    logic: tcpClientLogic,
    input,
  });
}
