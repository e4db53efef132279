// The PeerInfo a server's protocol factory gets with each connection (peer, peerPort, localIp,
// localPort, and the proxy's when a PROXY gate admitted it), read from the socket lazily.
import type net from 'node:net';
import type { PeerInfo } from '../src/kernel/messages.js';
import type { GatedPeer } from './connectionGate.js';

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
export function lazyPeerInfo(socket: net.Socket, port: number, gated: GatedPeer | undefined, path: string | undefined): PeerInfo {
  const info = {};
  Object.defineProperty(info, infoSource, { value: { socket, port, gated, path } satisfies PeerInfoSource });
  return Object.defineProperties(info, gated ? gatedDescriptors : ownDescriptors) as PeerInfo;
}
