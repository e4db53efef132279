// A connection gate (the PROXY protocol header, src/internet/proxyGate.ts) hooked into a listener:
// every new socket waits at the gate; one it admits goes on (to TLS, or straight to a CSA) with what
// the gate learnt; one it rejects is closed and counted in proxyRejected; one whose peer left before
// it could be judged is closed uncounted. Stopping accepting closes every socket still waiting.
import type net from 'node:net';
import type { ConnectionCounts } from '../machines/tcpServer.js';
import type { ConnectionGate, GatedPeer } from './connectionGate.js';

function ignoreSocketError(): void {
  // The CSA reports socket errors once it has one; until then an error only closes the socket.
}

export class GateHookup {
  /** Sockets at the gate. One the listener closed (dropAll) is no longer here: the gate's verdict on it is ignored. */
  private readonly waiting = new Set<net.Socket>();

  constructor(
    private readonly gate: ConnectionGate,
    private readonly counts: ConnectionCounts,
    private readonly admitted: (socket: net.Socket, peer: GatedPeer) => void,
  ) {}

  /** A new connection: to the gate with it. */
  readonly take = (socket: net.Socket): void => {
    socket.on('error', ignoreSocketError);
    this.waiting.add(socket);
    this.gate(
      socket,
      (peer) => {
        if (this.waiting.delete(socket)) this.admitted(socket, peer);
        else socket.destroy();
      },
      () => {
        if (this.waiting.delete(socket)) this.counts.proxyRejected++;
        socket.destroy();
      },
      () => {
        this.waiting.delete(socket);
        socket.destroy();
      },
    );
  };

  /** Closes every socket still at the gate. */
  dropAll(): void {
    for (const socket of this.waiting) socket.destroy();
    this.waiting.clear();
  }
}
