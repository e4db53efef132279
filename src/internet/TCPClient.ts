// TCPClient(host, port, options): Kamaelia's TCP client. Inboxes inbox (bytes to send), control,
// makessl; outboxes outbox (bytes received), signal (exactly one terminal producerFinished, with
// reason { code, message } when an error ended it; badMessage reports), sslready.
import { isIP, type LookupFunction } from 'node:net';
import { connector } from '../../actors/connector.js';
import type { ClientTlsOptions } from '../../actors/tlsUpgrade.js';
import type { SslReady } from '../../machines/connectedSocketAdapter.js';
import { tcpClientMachine, type TcpClientInput } from '../../machines/tcpClient.js';
import { box, defineComponent, describeValue } from '../kernel/component.js';
import { checkTimeout, connectedSocketAdapterLogic, DEFAULT_CLOSE_TIMEOUT_MS, DEFAULT_HANDSHAKE_TIMEOUT_MS } from './ConnectedSocketAdapter.js';
import type { SignalMessage } from '../kernel/messages.js';

export interface TCPClientOptions {
  /** Milliseconds to wait after starting before connecting (default 0). Control works meanwhile. */
  readonly delay?: number;
  /** Milliseconds the connect (and, with `secure`, the TLS handshake) may take; 0 = no limit (default 60000). */
  readonly connectTimeout?: number;
  /** Milliseconds a graceful close waits for the peer after our FIN (default 5000). */
  readonly closeTimeout?: number;
  /** Milliseconds a makessl handshake may take (default 30000); then the client fails with ETIMEDOUT. */
  readonly handshakeTimeout?: number;
  /** node:tls options for makessl, or for TLS from the start with `secure: true`. Verification is on by default. */
  readonly tls?: ClientTlsOptions;
  /** TLS from the start (tls.connect) instead of plain TCP. */
  readonly secure?: boolean;
  /** Resolves the host name instead of dns.lookup (node:net's `lookup` option). */
  readonly lookup?: LookupFunction;
  /** Bytes queued before the connection is up above which the inbox gate closes (default 1 MiB). */
  readonly pendingHighWaterMark?: number;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 60_000;
const DEFAULT_PENDING_HIGH_WATER_MARK = 1024 * 1024;
// RFC 1123 host names (labels of letters, digits and hyphens), optionally with a trailing dot.
const HOST_NAME = /^(?=.{1,253}\.?$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

/** The TCPClient machine with its node:net bindings. */
export const tcpClientLogic = tcpClientMachine.provide({ actors: { connector, csa: connectedSocketAdapterLogic } });

export function TCPClient(host: string, port: number, options: TCPClientOptions = {}) {
  if (typeof host !== 'string' || !(isIP(host) || HOST_NAME.test(host))) {
    throw new TypeError(`TCPClient: host must be an IP address or a host name, got ${describeValue(host)}`);
  }
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(`TCPClient: port must be an integer from 1 to 65535, got ${describeValue(port)}`);
  }
  const pendingHighWaterMark = options.pendingHighWaterMark ?? DEFAULT_PENDING_HIGH_WATER_MARK;
  if (!Number.isInteger(pendingHighWaterMark) || pendingHighWaterMark <= 0) {
    throw new RangeError(`TCPClient: pendingHighWaterMark must be a positive integer, got ${describeValue(pendingHighWaterMark)}`);
  }
  const input: TcpClientInput = {
    host,
    port,
    delayMs: checkTimeout('TCPClient', 'delay', options.delay, 0),
    connectTimeoutMs: checkTimeout('TCPClient', 'connectTimeout', options.connectTimeout, DEFAULT_CONNECT_TIMEOUT_MS),
    closeTimeoutMs: checkTimeout('TCPClient', 'closeTimeout', options.closeTimeout, DEFAULT_CLOSE_TIMEOUT_MS),
    handshakeTimeoutMs: checkTimeout('TCPClient', 'handshakeTimeout', options.handshakeTimeout, DEFAULT_HANDSHAKE_TIMEOUT_MS),
    secure: options.secure === true,
    tls: options.tls,
    ...(options.lookup ? { lookup: options.lookup } : {}),
    pendingHighWaterMark,
  };
  return defineComponent({
    name: 'TCPClient',
    inboxes: { inbox: box<Uint8Array | string>(), control: box<SignalMessage>(), makessl: box<unknown>() },
    outboxes: { outbox: box<Buffer>(), signal: box<SignalMessage>(), sslready: box<SslReady>() },
    logic: tcpClientLogic,
    input,
  });
}
