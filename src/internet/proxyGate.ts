// PROXY protocol on a server: every connection must come from a trusted proxy and start with a valid
// header (v1 or v2) within `timeout`; the header names the real client. Runs before any TLS, so
// it works for implicit TLS and STARTTLS alike.
import net from 'node:net';
import type { ConnectionGate, GatedPeer } from '../../actors/connectionGate.js';
import { reason } from '../kernel/messages.js';
import { parseProxyHeader } from './proxyProtocol.js';
import { checkDuration } from './options.js';

/** PROXY protocol (HAProxy's, v1 text or v2 binary) on every connection of a server. */
export interface ProxyProtocolOptions {
  /**
   * Addresses or CIDR blocks (IPv4 or IPv6, e.g. '127.0.0.1', '10.0.0.0/8', 'fd00::/8') of the proxies
   * allowed to connect. A connection from anywhere else is closed unread. Required, not empty.
   */
  readonly trusted: readonly string[];
  /** Milliseconds the whole header may take to arrive. Default 5000. */
  readonly timeout?: number;
}

/** proxyProtocol `timeout`: how long the PROXY header may take to arrive. 5000 ms. */
export const DEFAULT_PROXY_TIMEOUT = 5000;

function parseTrusted(trusted: unknown, where: string): net.BlockList {
  if (!Array.isArray(trusted) || trusted.length === 0) {
    throw new TypeError(`${where}: proxyProtocol.trusted must be a non-empty array of addresses or CIDR blocks`);
  }
  const list = new net.BlockList();
  for (const entry of trusted as unknown[]) {
    const [address, prefixText, ...extra] = typeof entry === 'string' ? entry.split('/') : [];
    const family = address === undefined ? 0 : net.isIP(address);
    const prefix = prefixText === undefined ? undefined : /^[0-9]{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
    const maxPrefix = family === 6 ? 128 : 32;
    if (family === 0 || extra.length > 0 || (prefix !== undefined && !(prefix <= maxPrefix))) {
      throw new TypeError(`${where}: proxyProtocol.trusted entry ${JSON.stringify(entry)} is not an IPv4/IPv6 address or CIDR block`);
    }
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address!, type);
    else list.addSubnet(address!, prefix, type);
  }
  return list;
}

function isTrusted(list: net.BlockList, address: string | undefined): boolean {
  if (address === undefined) return false;
  if (net.isIPv4(address)) return list.check(address, 'ipv4');
  if (list.check(address, 'ipv6')) return true;
  // A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d; trust them by their IPv4 address.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped !== null && list.check(mapped[1]!, 'ipv4');
}

/** Validates the options (throws naming the bad one) and makes the gate the listener runs. */
export function proxyGate(options: ProxyProtocolOptions, where: string): ConnectionGate {
  if (options === null || typeof options !== 'object') throw new TypeError(`${where}: proxyProtocol must be an object with trusted (and timeout)`);
  const trusted = parseTrusted(options.trusted, where);
  const timeout = checkDuration(where, 'proxyProtocol.timeout', options.timeout, DEFAULT_PROXY_TIMEOUT);

  return (socket, admit, reject, drop) => {
    const proxy = socket.remoteAddress;
    // Gone before we looked (a reset right after connecting): nothing to judge.
    if (proxy === undefined) {
      drop();
      return;
    }
    if (!isTrusted(trusted, proxy)) {
      reject(reason('EPROXYUNTRUSTED', `${proxy ?? 'an unknown address'} is not a trusted proxy`));
      return;
    }
    let received: Buffer = Buffer.alloc(0);
    const settle = (): void => {
      clearTimeout(timer);
      socket.off('readable', onReadable);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
    };
    const refuse = (code: string, message: string): void => {
      settle();
      reject(reason(code, message));
    };
    // The peer left before a complete header: not a judgment on it (HAProxy's health checks do this).
    const onEnd = (): void => {
      settle();
      drop();
    };
    const onReadable = (): void => {
      let chunk: Buffer | null;
      while ((chunk = socket.read() as Buffer | null) !== null) {
        received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
        const result = parseProxyHeader(received);
        if (result.status === 'incomplete') continue;
        if (result.status === 'invalid') {
          refuse('EPROXYHEADER', result.message);
          return;
        }
        settle();
        // The client's first bytes came with the header: the CSA (or the TLS handshake) reads them next.
        if (received.length > result.length) socket.unshift(received.subarray(result.length));
        const { header } = result;
        const peer: GatedPeer = { proxy, proxyPort: socket.remotePort, proxyHeader: header };
        admit(header.command === 'PROXY' && header.source !== undefined ? { ...peer, peer: header.source, peerPort: header.sourcePort } : peer);
        return;
      }
    };
    const timer = setTimeout(() => refuse('ETIMEDOUT', `no complete PROXY header within ${timeout} ms`), timeout);
    socket.on('readable', onReadable);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
  };
}
