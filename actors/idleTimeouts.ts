// A server's idleTimeout: a connection with no traffic either way for that long is asked to close
// (its CSA gets producerFinished with ETIMEDOUT: what is queued is flushed, then FIN); one still open
// closeTimeout later is destroyed (the peer is not reading). Node's socket.setTimeout keeps the clock.
import type net from 'node:net';
import type { AnyActorRef } from 'xstate';
import { producerFinished, reason } from '../src/kernel/messages.js';
import { deliverToInbox } from '../src/kernel/routing.js';

interface Watched {
  readonly csa: AnyActorRef;
  /** Asked to close already: the next timeout destroys it. The timer's own stage, not the CSA's state. */
  askedToClose: boolean;
}

export class IdleTimeouts {
  /** Socket → its CSA; dropped with the socket. Kept here, not written onto the socket. */
  private readonly watched = new WeakMap<net.Socket, Watched>();
  /** One 'timeout' listener for every socket (a closure per connection costs memory). */
  private readonly onTimeout: (this: net.Socket) => void;

  constructor(
    private readonly idleMs: number,
    private readonly closeMs: number,
  ) {
    const timedOut = (socket: net.Socket): void => this.timedOut(socket);
    this.onTimeout = function (this: net.Socket) {
      timedOut(this);
    };
  }

  /** Starts timing `socket`, owned by `csa`. */
  watch(socket: net.Socket, csa: AnyActorRef): void {
    this.watched.set(socket, { csa, askedToClose: false });
    socket.setTimeout(this.idleMs);
    socket.on('timeout', this.onTimeout);
  }

  private timedOut(socket: net.Socket): void {
    const watched = this.watched.get(socket);
    if (!watched) return;
    if (watched.askedToClose) {
      socket.destroy(); // asked to close an idle timeout ago and still open: the peer is not reading
      return;
    }
    watched.askedToClose = true;
    socket.setTimeout(this.closeMs);
    const why = reason('ETIMEDOUT', `no traffic for ${this.idleMs} ms`);
    deliverToInbox(watched.csa, 'control', producerFinished(why, { source: 'TCPServer' }));
  }
}
