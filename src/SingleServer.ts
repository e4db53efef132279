// SingleServer(options): Kamaelia's SingleServer. One client at a time: what the client sends comes
// out of `outbox`, what arrives on `inbox` goes to the client (queued until a client is there, as in
// Kamaelia). When the client leaves, producerFinished goes out of `signal` and the next client is
// served. Fixes over Kamaelia: further clients are refused while one is served (the listener's
// maxConnections is 1: Node accepts and closes them at once, and they are counted in serverStats
// as refused) instead of being accepted into a CSA first; control stops it; stopping with no client is fine.
import { createActor, type AnyActorRef } from 'xstate';
import { box, defineComponent } from './component.js';
import {
  isNewCSA,
  isProducerFinished,
  isShutdownMicroprocess,
  producerFinished,
  shutdownMicroprocess,
  type Listening,
  type NewCSA,
  type ShutdownCSA,
  type SignalMessage,
} from './messages.js';
import { linkToOwnOutbox, registerComponent, resolveInbox } from './routing.js';
import { registerServerStats } from './serverStats.js';
import { tcpServerInput, tcpServerLogic, type TCPServerOptions } from './TCPServer.js';
import { stopTree } from './xstateInternals.js';

export type SingleServerOptions = Omit<TCPServerOptions, 'maxConnections'>;

interface Client {
  readonly id: number;
  readonly csa: AnyActorRef;
  readonly unlink: () => void;
}

export function SingleServer(options: SingleServerOptions = {}) {
  const input = tcpServerInput({ ...options, maxConnections: 1 }, 'SingleServer');
  return defineComponent({
    name: 'SingleServer',
    inboxes: { inbox: box<Uint8Array | string>(), control: box<SignalMessage>() },
    outboxes: { outbox: box<Uint8Array>(), signal: box<SignalMessage>(), listening: box<Listening>() },
    body: ({ on, send, finish, self }) => {
      const server = createActor(tcpServerLogic, { parent: self, id: 'TCPServer', input });
      registerComponent(server, {
        component: { kind: 'kamaelia.component', name: 'TCPServer', inboxes: ['control'], outboxes: [], logic: tcpServerLogic },
        name: '0:TCPServer',
        parent: self,
      });
      registerServerStats(self, server);
      let client: Client | undefined;
      const waiting: (Uint8Array | string)[] = [];
      let endSignal: SignalMessage | undefined;

      server.on('protocolHandlerSignal', (event: { data: NewCSA<AnyActorRef> | ShutdownCSA<AnyActorRef> }) => {
        const message = event.data;
        if (isNewCSA(message)) {
          if (client) {
            // Only if the listener's limit was raced: close it before it reads anything.
            resolveInbox(message.csa, 'control')(shutdownMicroprocess());
            return;
          }
          client = { id: message.id, csa: message.csa, unlink: linkToOwnOutbox(message.csa, 'outbox', self, 'outbox') };
          const toClient = resolveInbox(message.csa, 'inbox');
          for (const data of waiting.splice(0)) toClient(data);
        } else if (client?.id === message.id) {
          client.unlink();
          client = undefined;
          send('signal', producerFinished(message.reason, { source: 'SingleServer' }));
        }
      });
      server.on('listening', (event: { data: Listening }) => send('listening', event.data));
      server.on('signal', (event: { data: SignalMessage }) => (endSignal = event.data));
      const serverEnded = (): void => {
        send('signal', endSignal ?? producerFinished(undefined, { source: 'SingleServer' }));
        // After XState has relayed the TCPServer's done event to us, so it does not meet a stopped actor.
        queueMicrotask(finish);
      };
      server.subscribe({ complete: serverEnded, error: serverEnded });

      on('inbox', (data) => {
        if (client) resolveInbox(client.csa, 'inbox')(data);
        else waiting.push(data);
      });
      on('control', (message) => {
        if (isShutdownMicroprocess(message)) resolveInbox(server, 'control')(message);
        // Upstream has no more for the client: it gets what was queued, then the connection closes.
        else if (isProducerFinished(message) && client) resolveInbox(client.csa, 'control')(message);
      });
      server.start();
      return () => {
        client?.unlink();
        if (server.getSnapshot().status === 'active') stopTree(server);
      };
    },
  });
}
