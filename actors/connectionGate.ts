// A connection gate: something a connection must pass before the listener accepts it into a CSA
// (the PROXY protocol header, read in src/internet/proxyGate.ts). The listener only knows this shape.
import type net from 'node:net';
import type { PeerInfo, Reason } from '../src/kernel/messages.js';

/** What a gate learnt about the peer; it replaces the socket's own view in the handler's info. */
export type GatedPeer = Partial<Omit<PeerInfo, 'localIp' | 'localPort'>>;

/**
 * Called with each new socket (before any TLS). Calls `admit` once the socket may be served, with
 * what it learnt, having put back any bytes it read past its own; `reject` with why it may not (a
 * judgment: counted as a rejection); or `drop` when the peer went away before it could be judged
 * (not counted: a load balancer's health check connects and closes). Exactly one of them, at most once.
 */
export type ConnectionGate = (socket: net.Socket, admit: (peer: GatedPeer) => void, reject: (why: Reason) => void, drop: () => void) => void;
