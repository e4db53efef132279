// serverStats(ref): the counters of a running TCPServer, ConnectedServer or SingleServer (open,
// accepted, refused, handshake failures, ...). They live in the tcpServerMachine's context (open and
// accepted in its `connections` object, which the listener updates in place); a
// server that runs a TCPServer inside registers it here.
import type { AnyActorRef } from 'xstate';
import type { TcpServerContext, TcpServerStats } from '../../machines/tcpServer.js';
import { findRecord, recordOf } from '../kernel/actorRecord.js';

declare module '../kernel/actorRecord.js' {
  interface ActorRecord {
    /** The TCPServer a server runs inside, or a function that totals the stats (a cluster primary's workers) (serverStats.ts). */
    statsFrom?: AnyActorRef | (() => TcpServerStats | undefined);
  }
}

export function registerServerStats(server: AnyActorRef, tcpServer: AnyActorRef | (() => TcpServerStats | undefined)): void {
  recordOf(server).statsFrom = tcpServer;
}

/** The TCPServer actor that `ref` (a server, or a TCPServer itself) runs, if any. */
export function tcpServerOf(ref: AnyActorRef): AnyActorRef | undefined {
  const found = findRecord(ref)?.statsFrom ?? ref;
  return typeof found === 'function' ? undefined : found;
}

/** The counters of the server run by `ref` (a handle's `actor`), or undefined if it is not a server. */
export function serverStats(ref: AnyActorRef): TcpServerStats | undefined {
  const found = findRecord(ref)?.statsFrom ?? ref;
  if (typeof found === 'function') return found();
  const snapshot = found.getSnapshot() as { context?: Partial<TcpServerContext> };
  const context = snapshot.context;
  if (!context || typeof context.connections?.open !== 'number') return undefined;
  const { connections, refused, handshakeFailures, lastHandshakeFailure, acceptErrors, lastAcceptError } = context as TcpServerContext;
  return {
    open: connections.open,
    accepted: connections.accepted,
    refused,
    handshakeFailures,
    lastHandshakeFailure,
    acceptErrors,
    lastAcceptError,
    proxyRejected: connections.proxyRejected,
  };
}
