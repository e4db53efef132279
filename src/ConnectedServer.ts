// ConnectedServer (Kamaelia's ServerCore), SimpleServer and FastRestartServer: a TCPServer plus, for
// every connection, the handler component returned by `protocol(info)`, wired to the connection's
// CSA as Kamaelia does:
//   CSA.outbox → handler.inbox, handler.outbox → CSA.inbox, handler.signal → CSA.control,
//   handler.makessl → CSA.makessl and CSA.sslready → handler.sslready (server-side STARTTLS),
//   handler.serversignal → the server's own control (a handler may stop the whole server),
// and socketShutdown on handler.control once the connection is gone.
// Fixes over Kamaelia: a handler that throws closes only its own connection; a handler that ends
// closes its connection (after flushing); one that ignores socketShutdown is stopped, not leaked.
import { createActor, type AnyActorRef } from 'xstate';
import type { AnyComponent } from './component.js';
import { assertComponent, box, defineComponent } from './component.js';
import {
  isNewCSA,
  isShutdownMicroprocess,
  producerFinished,
  reason,
  reasonFromError,
  shutdownMicroprocess,
  socketShutdown,
  type Listening,
  type NewCSA,
  type PeerInfo,
  type ShutdownCSA,
  type SignalMessage,
} from './messages.js';
import { deliverAlongLinks, linkToInbox, registerComponent, resolveInbox } from './routing.js';
import { registerServerStats } from './serverStats.js';
import { DEFAULT_HANDSHAKE_TIMEOUT, tcpServerInput, tcpServerLogic, type TCPServerOptions } from './TCPServer.js';
import { stopTree } from './xstateInternals.js';

export interface ConnectedServerOptions extends TCPServerOptions {
  /** Makes the component that handles one connection. Called once per connection. */
  readonly protocol: (info: PeerInfo) => AnyComponent;
}

interface Connection {
  readonly csa: AnyActorRef;
  readonly handler: AnyActorRef;
  readonly unlinks: (() => void)[];
}

const TCP_SERVER_NAME = 'TCPServer';

/**
 * Links handler.makessl → CSA.makessl, closing the connection if the TLS handshake has not finished
 * (sslready) within `timeoutMs`: a stalled STARTTLS client must not hold a connection forever.
 */
function watchStartTls(handler: AnyActorRef, csa: AnyActorRef, timeoutMs: number): () => void {
  const toMakessl = resolveInbox(csa, 'makessl');
  let watchdog: NodeJS.Timeout | undefined;
  const expire = (): void => {
    const why = reason('ETIMEDOUT', `TLS handshake did not finish within ${timeoutMs} ms`);
    resolveInbox(csa, 'control')(shutdownMicroprocess(why));
  };
  const requests = handler.on('makessl', (event: { data?: unknown }) => {
    watchdog ??= setTimeout(expire, timeoutMs);
    toMakessl(event.data);
  });
  const ready = csa.on('sslready', () => clearTimeout(watchdog));
  return () => {
    requests.unsubscribe();
    ready.unsubscribe();
    clearTimeout(watchdog);
  };
}

function isActive(ref: AnyActorRef): boolean {
  return ref.getSnapshot().status === 'active';
}

/** Shared by ConnectedServer, SimpleServer and FastRestartServer; `callProtocol` is how the factory is called. */
function serverCore(name: string, options: ConnectedServerOptions, callProtocol: (info: PeerInfo) => AnyComponent) {
  if (options === null || typeof options !== 'object') throw new TypeError(`${name}: options must be an object`);
  if (typeof options.protocol !== 'function') {
    throw new TypeError(`${name}: protocol must be a function returning the component that handles one connection`);
  }
  const input = tcpServerInput(options, name);
  const handshakeTimeout = options.tls?.handshakeTimeout ?? options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT;
  return defineComponent({
    name,
    inboxes: { control: box<SignalMessage>() },
    outboxes: { listening: box<Listening>(), signal: box<SignalMessage>() },
    body: ({ on, send, finish, self }) => {
      const connections = new Map<number, Connection>();
      const server = createActor(tcpServerLogic, { parent: self, id: TCP_SERVER_NAME, input });
      registerComponent(server, {
        component: { kind: 'kamaelia.component', name: TCP_SERVER_NAME, inboxes: ['control'], outboxes: [], logic: tcpServerLogic },
        name: `0:${TCP_SERVER_NAME}`,
        parent: self,
      });
      registerServerStats(self, server);
      const toServer = resolveInbox(server, 'control');
      let endSignal: SignalMessage | undefined;

      const control = (message: unknown): void => {
        if (isShutdownMicroprocess(message)) toServer(message);
        // producerFinished (upstream ended) is not a reason to stop serving, as in Kamaelia.
      };

      const closeConnection = (id: number): void => {
        const connection = connections.get(id);
        if (!connection) return;
        connections.delete(id);
        for (const unlink of connection.unlinks) unlink();
        const { handler } = connection;
        if (!isActive(handler)) return;
        resolveInbox(handler, 'control')(socketShutdown(undefined, { source: name }));
        // One turn of the event loop to end on its own; a handler that ignores it is not leaked.
        setImmediate(() => {
          if (isActive(handler)) stopTree(handler);
        });
      };

      const handlerEnded = (id: number, error?: unknown): void => {
        const connection = connections.get(id);
        if (!connection || !isActive(connection.csa)) return;
        // It will produce no more: the CSA flushes what it was given and closes.
        const why = error === undefined ? undefined : reasonFromError(error);
        if (error !== undefined) deliverAlongLinks(connection.handler, 'signal', producerFinished(why, { source: name }));
        else resolveInbox(connection.csa, 'control')(producerFinished(undefined, { source: name }));
      };

      const openConnection = ({ id, csa, info }: NewCSA<AnyActorRef>): void => {
        let component: AnyComponent;
        try {
          component = callProtocol(info);
          assertComponent(component, `${name}: protocol(info)`);
        } catch (error) {
          resolveInbox(csa, 'control')(producerFinished(reasonFromError(error), { source: name }));
          return;
        }
        const handler = createActor(component.logic, { parent: self, id: String(id), input: component.input });
        registerComponent(handler, { component, name: `${id}:${component.name}`, parent: self });
        const unlinks = [
          linkToInbox(csa, 'outbox', handler, 'inbox'),
          linkToInbox(handler, 'outbox', csa, 'inbox'),
          linkToInbox(handler, 'signal', csa, 'control'),
        ];
        if (component.outboxes.includes('makessl')) unlinks.push(watchStartTls(handler, csa, handshakeTimeout));
        if (component.inboxes.includes('sslready')) unlinks.push(linkToInbox(csa, 'sslready', handler, 'sslready'));
        if (component.outboxes.includes('serversignal')) {
          const subscription = handler.on('serversignal', (event: { data?: unknown }) => control(event.data));
          unlinks.push(() => subscription.unsubscribe());
        }
        connections.set(id, { csa, handler, unlinks });
        handler.subscribe({ complete: () => handlerEnded(id), error: (error: unknown) => handlerEnded(id, error) });
        handler.start();
      };

      server.on('protocolHandlerSignal', (event: { data: NewCSA<AnyActorRef> | ShutdownCSA<AnyActorRef> }) => {
        if (isNewCSA(event.data)) openConnection(event.data);
        else closeConnection(event.data.id);
      });
      server.on('listening', (event: { data: Listening }) => send('listening', event.data));
      server.on('signal', (event: { data: SignalMessage }) => (endSignal = event.data));
      const serverEnded = (): void => {
        for (const id of [...connections.keys()]) closeConnection(id);
        send('signal', endSignal ?? producerFinished(undefined, { source: name }));
        // After XState has relayed the TCPServer's done event to us, so it does not meet a stopped actor.
        queueMicrotask(finish);
      };
      server.subscribe({ complete: serverEnded, error: serverEnded });

      on('control', control);
      server.start();
      return () => {
        for (const { handler, csa } of connections.values()) {
          stopTree(handler);
          stopTree(csa);
        }
        connections.clear();
        if (isActive(server)) stopTree(server);
      };
    },
  });
}

/** Kamaelia's ServerCore: `protocol(info)` makes each connection's handler. */
export function ConnectedServer(options: ConnectedServerOptions) {
  return serverCore('ConnectedServer', options, (info) => options.protocol(info));
}

export interface SimpleServerOptions extends TCPServerOptions {
  /** Makes the component that handles one connection; called with no arguments, as Kamaelia's SimpleServer. */
  readonly protocol: () => AnyComponent;
}

/** ConnectedServer whose protocol factory takes no arguments. */
export function SimpleServer(options: SimpleServerOptions) {
  return serverCore('SimpleServer', options, () => options.protocol());
}

/**
 * Kamaelia's FastRestartServer sets SO_REUSEADDR so a restarted server can bind a port whose old
 * connections are still in TIME_WAIT. libuv sets SO_REUSEADDR on every listening TCP socket, so
 * here it is ConnectedServer under another name, kept for Kamaelia programs.
 */
export function FastRestartServer(options: ConnectedServerOptions) {
  return serverCore('FastRestartServer', options, (info) => options.protocol(info));
}
