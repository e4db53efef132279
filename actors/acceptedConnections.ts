// The connections a TCPServer has accepted, each owned by its CSA: an actor made under the listener
// (so its end reaches the listener as xstate.done.actor.<id>), registered under the server for paths
// and the inspector, and announced on the server's protocolHandlerSignal (newCSA, then shutdownCSA).
// A Map, not XState context or children: XState copies those on every spawn/stop, which goes
// quadratic at 10k connections (shared/notes/xstate.md 3.4). CSA ids are integer-like (a counter).
import type net from 'node:net';
import type { AnyActorRef } from 'xstate';
import type { ConnectionCounts, ListenerReport, TcpServerEmitted } from '../machines/tcpServer.js';
import type { AnyComponent } from '../src/kernel/component.js';
import { producerFinished, reason, reasonFromError, shutdownCSA, type NewCSA, type PeerInfo, type Reason } from '../src/kernel/messages.js';
import { deliverToInbox } from '../src/kernel/routing.js';
import { createChildActor, forgetChild, stopTree } from '../src/kernel/childActors.js';
import { emitFrom } from '../src/kernel/xstateInternals.js';
import type { GatedPeer } from './connectionGate.js';
import type { IdleTimeouts } from './idleTimeouts.js';
import type { ListenerInput } from './listenerOptions.js';
import { lazyPeerInfo } from './peerInfo.js';

interface Connection {
  readonly socket: net.Socket;
  readonly csa: AnyActorRef;
}

// Shared by every socket, so a connection costs no closure for it.
function ignoreSocketError(): void {
  // The CSA reports socket errors; this only keeps an error before it subscribes from crashing the process.
}

/** newCSA whose info reads the socket's addresses only when a handler asks for one. */
class Announcement implements NewCSA<AnyActorRef> {
  readonly kind = 'newCSA' as const;
  readonly info: PeerInfo;

  constructor(
    readonly id: number,
    readonly csa: AnyActorRef,
    socket: net.Socket,
    port: number,
    gated: GatedPeer | undefined,
    path: string | undefined,
  ) {
    this.info = lazyPeerInfo(socket, port, gated, path);
  }
}

export class AcceptedConnections {
  private readonly table = new Map<number, Connection>();
  private nextId = 0;

  constructor(
    /** The listener actor: the CSAs' parent. */
    private readonly owner: AnyActorRef,
    /** The TCPServer: CSAs sit under it in paths, and it announces them. */
    private readonly server: AnyActorRef,
    private readonly input: ListenerInput,
    private readonly counts: ConnectionCounts,
    private readonly report: (event: ListenerReport) => void,
    /** Called when a connection's end took `open` down (the listener may be drained). */
    private readonly countedDown: () => void,
    private readonly idle: IdleTimeouts | undefined,
  ) {}

  /** Gives `socket` a CSA and announces it; the CSA starts once the announcement was handled. */
  accept(socket: net.Socket, gated: GatedPeer | undefined): void {
    socket.on('error', ignoreSocketError);
    const { input } = this;
    const id = this.nextId++;
    let component: AnyComponent;
    let csa: AnyActorRef;
    try {
      component = input.createCSA(socket, id);
      // In paths and the inspector a CSA sits under the TCPServer, not under its listener.
      csa = createChildActor(this.owner, component, String(id), `${id}:${component.name}`, this.server);
    } catch (error) {
      socket.destroy();
      this.report({ type: 'listener.acceptError', reason: reasonFromError(error, 'ECSA') });
      return;
    }
    this.table.set(id, { socket, csa });
    this.idle?.watch(socket, csa);
    this.counts.open++;
    this.counts.accepted++;
    input.observer?.opened(id, socket);
    // Consumers link the CSA's boxes while handling newCSA, before it starts and reads its first byte.
    this.announce(new Announcement(id, csa, socket, input.port, gated, input.path));
    csa.start();
  }

  /** The CSA of connection `id` ended (`why`, if it failed): forget it and announce shutdownCSA. */
  ended(id: number, why: Reason | undefined): void {
    const connection = this.table.get(id);
    if (!connection) return;
    this.table.delete(id);
    forgetChild(this.owner, String(id));
    if (!connection.socket.destroyed) connection.socket.destroy(); // safety net: the CSA should have closed it
    this.counts.open--;
    this.input.observer?.closed(id, connection.socket, why);
    this.announce(shutdownCSA(id, connection.csa, why));
    this.countedDown();
  }

  /** Asks every connection to close: its CSA flushes what is queued, then closes. */
  askAllToClose(): void {
    const closeRequest = producerFinished(undefined, { source: 'TCPServer' });
    for (const { csa } of [...this.table.values()]) deliverToInbox(csa, 'control', closeRequest);
  }

  /** Closes every connection now, announcing each. */
  destroyAll(): void {
    for (const [id, { csa }] of [...this.table]) {
      stopTree(csa);
      this.ended(id, reason('ESHUTDOWN', 'closed by server shutdown'));
    }
  }

  /** The listener is stopping: every CSA is stopped and its socket closed, unannounced. */
  stop(): void {
    const connections = [...this.table];
    this.table.clear();
    const stopped = reason('ESHUTDOWN', 'the server was stopped');
    for (const [id, { csa, socket }] of connections) {
      stopTree(csa);
      socket.destroy();
      this.input.observer?.closed(id, socket, stopped);
    }
  }

  // Announced on the server machine's own outbox without a macrostep of it (its counts are ours).
  private announce(data: Extract<TcpServerEmitted, { type: 'protocolHandlerSignal' }>['data']): void {
    emitFrom(this.server, { type: 'protocolHandlerSignal', data });
  }
}
