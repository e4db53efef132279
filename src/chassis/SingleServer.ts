// SingleServer(options): Kamaelia's SingleServer. One client at a time: what the client sends comes
// out of `outbox`, what arrives on `inbox` goes to the client (queued until a client is there, as in
// Kamaelia). When the client leaves, producerFinished goes out of `signal` and the next client is
// served. Fixes over Kamaelia: further clients are refused while one is served (the listener's
// maxConnections is 1: Node accepts and closes them at once, and they are counted in serverStats
// as refused) instead of being accepted into a CSA first; control stops it; stopping with no client is fine.
import type { AnyActorRef } from 'xstate';
import { box, defineComponent } from '../kernel/component.js';
import { ownActor } from '../kernel/componentLogic.js';
import {
  badMessage,
  describeValue,
  isBadMessage,
  isProducerFinished,
  isShutdownMicroprocess,
  producerFinished,
  reason,
  shutdownMicroprocess,
  type Listening,
  type SignalMessage,
} from '../kernel/messages.js';
import { innerTCPServer } from './innerTCPServer.js';
import { deliverToInbox, linkToOwnOutbox, removeLinksBetween } from '../kernel/routing.js';
import { tcpServerInput, type TCPServerOptions } from '../internet/TCPServer.js';
import { stopTree } from '../kernel/childActors.js';

/**
 * Options of {@link SingleServer}: TCPServer's, except `maxConnections` (it serves one client at a
 * time and refuses others meanwhile), which, like ConnectedServer's `workers`, it refuses with a TypeError.
 */
export type SingleServerOptions = Omit<TCPServerOptions, 'maxConnections'>;

interface Client {
  readonly id: number;
  readonly csa: AnyActorRef;
  /** Ends the subscription to the CSA's signal. */
  readonly unsubscribe: () => void;
}

/**
 * Kamaelia's SingleServer: serves one client at a time. What the client sends comes out of
 * `outbox`; what arrives on `inbox` goes to the client (queued until one is there). When the client
 * leaves, `producerFinished` goes out of `signal` and the next one is served; others are refused
 * meanwhile. `shutdownMicroprocess` on `control` stops it.
 *
 * @param options - see {@link SingleServerOptions}
 * @example
 * ```ts
 * const server = run(SingleServer({ host: '127.0.0.1', port: 1600 }));
 * for await (const bytes of server.messages('outbox')) console.log(String(bytes));
 * ```
 */
export function SingleServer(options: SingleServerOptions = {}) {
  if (options === null || typeof options !== 'object') throw new TypeError('SingleServer: options must be an object');
  // Options the type leaves out but JavaScript may pass: refused rather than silently overridden.
  const { maxConnections, workers } = options as { maxConnections?: unknown; workers?: unknown };
  if (maxConnections !== undefined) {
    throw new TypeError(`SingleServer: maxConnections is not an option: it serves one client at a time and refuses others meanwhile (got ${describeValue(maxConnections)}; ConnectedServer takes maxConnections)`);
  }
  if (workers !== undefined) throw new TypeError(`SingleServer: workers is not an option: one client at a time cannot be shared by processes (got ${describeValue(workers)})`);
  const input = tcpServerInput({ ...options, maxConnections: 1 }, 'SingleServer');
  return defineComponent({
    name: 'SingleServer',
    inboxes: { inbox: box<Uint8Array | string>(), control: box<SignalMessage>() },
    outboxes: { outbox: box<Uint8Array>(), signal: box<SignalMessage>(), listening: box<Listening>() },
    body: ({ on, send, finish, actor }) => {
      const self = ownActor(actor, 'SingleServer');
      let client: Client | undefined;
      const waiting: (Uint8Array | string)[] = [];
      const server = innerTCPServer(input, {
        self,
        owner: 'SingleServer',
        onNewCSA: (message) => {
          if (client) {
            // Only if the listener's limit was raced: close it before it reads anything.
            deliverToInbox(message.csa, 'control', shutdownMicroprocess());
            return;
          }
          const csa = message.csa;
          // Our inbox serves client after client, so it never finishes for one: when the client
          // half-closes, it gets what is queued and then its connection closes (as before the CSA
          // kept half-open connections writable). Bytes refused by the CSA are reported on signal.
          const csaSignal = csa.on('signal', (event: { data?: unknown }) => {
            if (isProducerFinished(event.data)) deliverToInbox(csa, 'control', producerFinished(undefined, { source: 'SingleServer' }));
            else if (isBadMessage(event.data)) send('signal', event.data);
          });
          client = { id: message.id, csa, unsubscribe: () => csaSignal.unsubscribe() };
          linkToOwnOutbox(csa, 'outbox', self, 'outbox');
          for (const data of waiting.splice(0)) deliverToInbox(csa, 'inbox', data);
        },
        onShutdownCSA: (message) => {
          if (client?.id !== message.id) return;
          removeLinksBetween(client.csa, self);
          client.unsubscribe();
          client = undefined;
          send('signal', producerFinished(message.reason, { source: 'SingleServer' }));
        },
        send: (box, message) => send(box, message as never),
        beforeEnd: () => {},
        finish,
      });

      on('inbox', (data) => {
        if (client) deliverToInbox(client.csa, 'inbox', data);
        else waiting.push(data);
      });
      on('control', (message) => {
        if (isShutdownMicroprocess(message)) deliverToInbox(server, 'control', message);
        // Upstream has no more for the client: it gets what was queued, then the connection closes.
        else if (isProducerFinished(message)) {
          if (client) deliverToInbox(client.csa, 'control', message);
        } else {
          const why = reason('EBADMESSAGE', `SingleServer: control takes shutdownMicroprocess or producerFinished, got ${describeValue(message)}; dropped`);
          send('signal', badMessage('control', why));
        }
      });
      server.start();
      return () => {
        if (client) {
          removeLinksBetween(client.csa, self);
          client.unsubscribe();
        }
        if (server.getSnapshot().status === 'active') stopTree(server);
      };
    },
  });
}
