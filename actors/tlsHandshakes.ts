// Implicit TLS: the connections still in their handshake, by their raw socket. They count as open,
// so a drain waits for them, and a shutdown closes them: none may finish its handshake and be served
// after the server said it was done. What the PROXY gate learnt of a connection waits here too,
// until its handshake is over and it gets a CSA.
import net from 'node:net';
import type tls from 'node:tls';
import type { ConnectionCounts } from '../machines/tcpServer.js';
import type { GatedPeer } from './connectionGate.js';

/**
 * The raw socket a server-side TLSSocket wraps. node:tls's 'connection' event gives the raw socket,
 * 'secureConnection' and 'tlsClientError' the TLSSocket, and no public API links the two: node:tls
 * keeps the raw one as the private `_parent` (TLSSocket.prototype._init, Node 20 to 24). This is the
 * one place that reads it; if Node changes it, this throws at the first TLS connection rather than
 * leaving handshakes counted as open for ever.
 */
export function rawSocketOf(secured: tls.TLSSocket): net.Socket {
  const raw = (secured as tls.TLSSocket & { _parent?: unknown })._parent;
  if (!(raw instanceof net.Socket)) {
    throw new Error(`kamaelia-xstate: node:tls ${process.version} no longer keeps a server-side TLSSocket's raw socket as _parent; actors/tlsHandshakes.ts must be updated`);
  }
  return raw;
}

export class TlsHandshakes {
  /** Raw socket in its handshake → what the gate learnt of it (null: no gate). */
  private readonly pending = new Map<net.Socket, GatedPeer | null>();
  /** Raw sockets closeAll closed mid-handshake (only at a shutdown, so a set costs nothing before). */
  private readonly closedHere = new WeakSet<net.Socket>();
  /** One 'close' listener for every raw socket (a closure per connection costs memory). */
  private readonly onRawClose: (this: net.Socket) => void;

  constructor(
    private readonly counts: ConnectionCounts,
    /** Called when a handshake that ended on its own took `open` down (the listener may be drained). */
    private readonly countedDown: () => void,
    /** Told first when a client closes before sending a byte (no handshake began: see listener.ts). */
    private readonly silentlyGone: (raw: net.Socket) => void = () => {},
  ) {
    const closed = (raw: net.Socket): void => {
      if (!this.forget(raw)) return;
      if (this.goneWithoutAByte(raw)) this.silentlyGone(raw);
      this.countedDown();
    };
    this.onRawClose = function (this: net.Socket) {
      closed(this);
    };
  }

  /** A raw connection begins its handshake (node:tls has wrapped it, or is about to). */
  begin(raw: net.Socket, gated: GatedPeer | null): void {
    this.pending.set(raw, gated);
    this.counts.open++;
    raw.once('close', this.onRawClose);
  }

  /**
   * `secured` finished its handshake: what the gate learnt of it (null: no gate), or undefined if it
   * is not one we were waiting for (a shutdown closed it meanwhile): then it must not be served.
   */
  finish(secured: tls.TLSSocket): GatedPeer | null | undefined {
    const raw = rawSocketOf(secured);
    const gated = this.pending.get(raw);
    if (gated === undefined || !this.forget(raw)) return undefined;
    return gated;
  }

  /** `secured`'s handshake failed. */
  fail(secured: tls.TLSSocket): void {
    if (this.forget(rawSocketOf(secured))) this.countedDown();
  }

  /**
   * Whether the client went before sending a byte (a port probe, a load balancer's plain TCP check):
   * no handshake began. Not when closeAll closed it (that end is ours, not the client's).
   */
  goneWithoutAByte(raw: net.Socket): boolean {
    return raw.bytesRead === 0 && !this.closedHere.has(raw);
  }

  /** Closes every connection still in its handshake (the caller checks for a drain once). */
  closeAll(): void {
    for (const raw of this.pending.keys()) {
      this.counts.open--;
      this.closedHere.add(raw);
      raw.destroy(); // its 'close' finds it forgotten
    }
    this.pending.clear();
  }

  private forget(raw: net.Socket): boolean {
    if (!this.pending.delete(raw)) return false;
    this.counts.open--;
    return true;
  }
}
