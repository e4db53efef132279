// What a listener tells an observer of its connections (src/internet/diagnostics.ts publishes it on
// node:diagnostics_channel). The listener knows only this shape; each call is one line at the point
// where the fact is known, and costs a property read when no observer is given.
import type net from 'node:net';
import type { Reason } from '../src/kernel/messages.js';

export interface ListenerObserver {
  /** The listening socket is bound (again after resumeAccepting too). */
  listening(address: string, port: number, family: 'IPv4' | 'IPv6' | 'Unix'): void;
  /** A connection was accepted and given its CSA, as connection `id`. */
  opened(id: number, socket: net.Socket): void;
  /** Connection `id` has ended; `why` is its reason when it ended in an error. */
  closed(id: number, socket: net.Socket, why: Reason | undefined): void;
  /** A connection was turned away at once because maxConnections was reached. */
  refused(): void;
  /** accept() (or building a connection's CSA) failed; the server goes on. */
  acceptError(why: Reason): void;
  /** Implicit TLS: a raw connection began its handshake. */
  handshakeStarted(raw: net.Socket): void;
  /** Implicit TLS: the handshake of `raw` completed; `secured` is the TLS socket. */
  handshakeDone(raw: net.Socket | undefined, secured: net.Socket): void;
  /** Implicit TLS: the handshake of `raw` failed or timed out. */
  handshakeFailed(raw: net.Socket | undefined, why: Reason): void;
  /** Implicit TLS: `raw` went before sending a byte (no handshake began): reported nowhere. */
  handshakeDropped(raw: net.Socket): void;
  /** The listener has stopped for good (the server ended). */
  serverClosed(): void;
}
