// Operating a running server from outside its graph: suspend and resume accepting, and replace its
// TLS certificate and key. They act on the server's listener directly (not through its control
// inbox), as serverStats reads it directly: they change no state of the server's lifecycle.
import tls from 'node:tls';
import type { AnyActorRef } from 'xstate';
import type { ListenerOperation } from '../../actors/listener.js';
import { tcpServerOf } from './serverStats.js';

/** Who carries out operations for a server that has no listener of its own (a cluster primary). */
const operators = new WeakMap<AnyActorRef, (operation: ListenerOperation) => boolean>();

export function registerOperator(server: AnyActorRef, operate: (operation: ListenerOperation) => boolean): void {
  operators.set(server, operate);
}

/** Carries out `operation` on the listener of the server run by `ref`; false if there is none running. */
export function operateListener(ref: AnyActorRef, operation: ListenerOperation): boolean {
  const operator = operators.get(ref);
  if (operator) return operator(operation);
  const server = tcpServerOf(ref);
  const listener = (server?.getSnapshot() as { children?: Record<string, AnyActorRef | undefined> } | undefined)?.children?.listener;
  if (!listener || listener.getSnapshot().status !== 'active') return false;
  listener.send(operation);
  return true;
}

/**
 * Stops accepting new connections of the server run by `ref` (a handle's `actor`): its listening
 * socket closes (new clients are refused by the OS), open connections go on. Returns false if `ref`
 * is not a running server.
 */
export function suspendAccepting(ref: AnyActorRef): boolean {
  return operateListener(ref, { type: 'suspendAccepting' });
}

/** Listens again, on the same port or path, after suspendAccepting. Returns false if `ref` is not a running server. */
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
