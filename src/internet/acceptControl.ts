// Operating a running server from outside its graph: suspend and resume accepting, and replace its
// TLS certificate and key. Suspending and resuming are events of the server's tcpServerMachine (its
// `suspended` state: drawn, inspectable, walked by the model tests); replacing credentials changes
// no state and goes to its listener directly, as serverStats reads the machine directly.
import tls from 'node:tls';
import type { AnyActorRef, AnyMachineSnapshot } from 'xstate';
import type { ListenerOperation } from '../../actors/listener.js';
import { findRecord, recordOf } from '../kernel/actorRecord.js';
import { tcpServerOf } from './serverStats.js';

declare module '../kernel/actorRecord.js' {
  interface ActorRecord {
    /** Who carries out operations for a server that has no listener of its own (a cluster primary) (acceptControl.ts). */
    operator?: (operation: ListenerOperation) => boolean;
  }
}

export function registerOperator(server: AnyActorRef, operate: (operation: ListenerOperation) => boolean): void {
  recordOf(server).operator = operate;
}

/**
 * Carries out `operation` on the server run by `ref`: accept control through its machine, replaceTls
 * through its listener. False if `ref` runs no server, or (accept control) its machine cannot take
 * the operation in its state.
 */
export function operateListener(ref: AnyActorRef, operation: ListenerOperation): boolean {
  const operator = findRecord(ref)?.operator;
  if (operator) return operator(operation);
  const server = tcpServerOf(ref);
  const snapshot = server?.getSnapshot() as (AnyMachineSnapshot & { children?: Record<string, AnyActorRef | undefined> }) | undefined;
  const listener = snapshot?.children?.listener;
  if (!server || snapshot?.status !== 'active' || !listener || listener.getSnapshot().status !== 'active') return false;
  if (operation.type === 'replaceTls') {
    listener.send(operation);
    return true;
  }
  if (!snapshot.can(operation)) return false;
  server.send(operation);
  return true;
}

/**
 * Stops accepting new connections of the server run by `ref` (a handle's `actor`): its machine goes
 * to `suspended` and its listening socket closes (new clients are refused by the OS); open
 * connections, and those still in a TLS handshake or at the PROXY gate, go on. Returns true if the
 * server took it (it was listening, or resuming); false if `ref` is not a running server, or one
 * still binding, already suspended or shutting down. For a cluster primary: true if a worker runs.
 */
export function suspendAccepting(ref: AnyActorRef): boolean {
  return operateListener(ref, { type: 'suspendAccepting' });
}

/**
 * Listens again, on the same port or path, after suspendAccepting: the machine goes through
 * `resuming` to `listening`, or back to `suspended` if the port was taken meanwhile (counted in
 * serverStats' acceptErrors, the reason in lastAcceptError). Returns true if the server took it (it
 * was suspended); false if `ref` is not a running server or not a suspended one. For a cluster
 * primary: true if a worker runs.
 */
export function resumeAccepting(ref: AnyActorRef): boolean {
  return operateListener(ref, { type: 'resumeAccepting' });
}

/**
 * Replaces the TLS credentials (key, cert, ca, ... as node:tls createSecureContext takes) of the
 * server run by `ref`: connections from now on get them (implicit TLS and STARTTLS); open
 * connections keep theirs. `tls.sni` certificates are not replaced. Returns false if `ref` is not a running server.
 */
export function replaceTlsCredentials(ref: AnyActorRef, credentials: tls.SecureContextOptions): boolean {
  if (credentials === null || typeof credentials !== 'object') throw new TypeError('replaceTlsCredentials: credentials must be an object with key and cert');
  try {
    tls.createSecureContext(credentials); // a bad key or certificate fails here, not in the running server
  } catch (error) {
    throw new TypeError(`replaceTlsCredentials: not a usable key and certificate: ${(error as Error).message}`);
  }
  return operateListener(ref, { type: 'replaceTls', options: credentials });
}
