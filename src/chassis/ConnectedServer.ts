// ConnectedServer (Kamaelia's ServerCore), SimpleServer and FastRestartServer: a TCPServer plus, for
// every connection, the handler component returned by `protocol(info)`, wired to the connection's
// CSA as Kamaelia does:
//   CSA.outbox → handler.inbox, handler.outbox → CSA.inbox, handler.signal → CSA.control,
//   handler.makessl → CSA.makessl and CSA.sslready → handler.sslready (server-side STARTTLS),
//   handler.serversignal → the server's own control (a handler may stop the whole server),
// and socketShutdown on handler.control once the connection is gone.
// Fixes over Kamaelia: a handler that throws closes only its own connection; a handler that ends
// closes its connection (after flushing); one that ignores socketShutdown is stopped, not leaked.
// A handler written as a body (defineComponent({ body })) is hosted: it runs without an XState actor
// of its own (kernel/hostedBody.ts), so a connection costs one actor, its CSA.
import type { AnyActorRef, Subscription } from 'xstate';
import type { AnyComponent } from '../kernel/component.js';
import type { ComponentRef } from '../kernel/componentRef.js';
import { assertComponent, box, defineComponent } from '../kernel/component.js';
import { ownActor } from '../kernel/componentLogic.js';
import {
  badMessage,
  describeValue,
  isBadMessage,
  isProducerFinished,
  isShutdownMicroprocess,
  producerFinished,
  reason,
  reasonFromError,
  socketShutdown,
  type Listening,
  type NewCSA,
  type PeerInfo,
  type Reason,
  type SignalMessage,
} from '../kernel/messages.js';
import { deliverFromOutbox, deliverToInbox, linkToInbox, removeLinksBetween } from '../kernel/routing.js';
import { checkClusterOptions, clusterPrimary, type ClusterOptions } from './clusterPrimary.js';
import { isClusterWorker, joinCluster } from './clusterWorker.js';
import { innerTCPServer } from './innerTCPServer.js';
import { tcpServerInput, type TCPServerOptions } from '../internet/TCPServer.js';
import { createChildActor, forgetChild, stopTree } from '../kernel/childActors.js';
import { hostBody, isHostable } from '../kernel/hostedBody.js';
import type { CheckedHandler } from './connectionHandler.js';

/** Options of {@link ConnectedServer} and FastRestartServer: the TCPServer and cluster options, and `protocol`. */
export interface ConnectedServerOptions<H extends AnyComponent = AnyComponent> extends TCPServerOptions, ClusterOptions {
  /**
   * Makes the component that handles one connection. Called once per connection. Its boxes are
   * checked by the compiler (see {@link CheckedHandler}): bytes in, bytes or strings out.
   */
  readonly protocol: (info: PeerInfo) => H;
}

/** The options with `protocol`'s handler checked: a handler that does not fit is a compile error naming the box. */
type CheckedServerOptions<O extends { readonly protocol: (...args: never[]) => AnyComponent }, H> = O & { readonly protocol: (...args: Parameters<O['protocol']>) => CheckedHandler<H> };

interface Connection {
  readonly csa: AnyActorRef;
  readonly handler: ComponentRef;
  /** The subscriptions made in openConnection (the CSA's signal; the handler's serversignal), ended on close. */
  readonly csaSignal: Subscription;
  readonly serverSignal: Subscription | undefined;
}

function isActive(ref: ComponentRef): boolean {
  return ref.getSnapshot().status === 'active';
}

/**
 * Whether the CSA's machine is already closing its write side (flushing, or told to once its TLS
 * handshake is done): a handler that passed producerFinished on its signal as it ended has told it.
 */
function isClosing(csa: AnyActorRef): boolean {
  const snapshot = csa.getSnapshot() as { value?: unknown; context?: { flushPending?: unknown } };
  return snapshot.value === 'flushing' || snapshot.context?.flushPending === true;
}

/**
 * Shared by ConnectedServer, SimpleServer and FastRestartServer; `protocolCaller(options)` gives how
 * the factory is called, once options is known to be an object with a `protocol` function. The info
 * it gets reads the socket's addresses only when a field is first read.
 */
function serverCore<O extends ConnectedServerOptions | SimpleServerOptions>(name: string, options: O, protocolCaller: (options: O) => (info: PeerInfo) => AnyComponent) {
  if (options === null || typeof options !== 'object') throw new TypeError(`${name}: options must be an object`);
  if (typeof options.protocol !== 'function') {
    throw new TypeError(`${name}: protocol must be a function returning the component that handles one connection`);
  }
  const callProtocol = protocolCaller(options);
  const input = tcpServerInput(options, name);
  checkClusterOptions(options, name);
  // With workers, the primary process supervises; the workers run this same call and serve.
  if (options.workers !== undefined && !isClusterWorker()) return clusterPrimary(name, { ...options, ...input });
  const inCluster = options.workers !== undefined;
  return defineComponent({
    name,
    inboxes: { control: box<SignalMessage>() },
    outboxes: { listening: box<Listening>(), signal: box<SignalMessage>() },
    body: ({ on, onChildEnded, send, finish, actor }) => {
      const self = ownActor(actor, name);
      const connections = new Map<number, Connection>();

      // `from` names where the message came from when it was not our own control inbox. Reading a
      // message never throws (kindOf), so a hostile one is reported and dropped, never fatal.
      const control = (message: unknown, from?: { box: string; where: string }): void => {
        if (isShutdownMicroprocess(message)) deliverToInbox(server, 'control', message);
        // producerFinished (upstream ended) is not a reason to stop serving, as in Kamaelia.
        else if (!isProducerFinished(message)) {
          const what = `${name}: ${from ? `${from.where} sent on ${from.box}` : 'control takes'} shutdownMicroprocess, serverShutdown or producerFinished`;
          send('signal', badMessage(from?.box ?? 'control', reason('EBADMESSAGE', `${what}, got ${describeValue(message)}; dropped`)));
        }
      };

      const closeConnection = (id: number, why?: Reason): void => {
        const connection = connections.get(id);
        if (!connection) return;
        connections.delete(id);
        forgetChild(self, String(id));
        // The links made in openConnection, both ways (records, not one undo closure per link).
        removeLinksBetween(connection.csa, connection.handler);
        removeLinksBetween(connection.handler, connection.csa);
        connection.csaSignal.unsubscribe();
        connection.serverSignal?.unsubscribe();
        const { handler } = connection;
        if (!isActive(handler)) return;
        deliverToInbox(handler, 'control', socketShutdown(why, { source: name }));
        // Most handlers end on it at once; one that did not gets a turn of the event loop to end
        // on its own, and one that ignores it is not leaked.
        if (!isActive(handler)) return;
        setImmediate(() => {
          if (isActive(handler)) stopTree(handler);
        });
      };

      const handlerEnded = (id: number, failure?: { readonly error: unknown }): void => {
        const connection = connections.get(id);
        if (!connection || !isActive(connection.csa)) return;
        // It will produce no more: the CSA flushes what it was given and closes.
        if (failure !== undefined) {
          deliverFromOutbox(connection.handler, 'signal', producerFinished(reasonFromError(failure.error), { source: name }));
          return;
        }
        // Once is enough: a handler that passed the end on as it finished (EchoProtocol does) has set
        // the CSA closing. What it sent may still wait in the CSA's mailbox behind the event that
        // woke the handler, so look once that has run.
        const { csa } = connection;
        queueMicrotask(() => {
          if (isActive(csa) && !isClosing(csa)) deliverToInbox(csa, 'control', producerFinished(undefined, { source: name }));
        });
      };

      const openConnection = (announced: NewCSA<AnyActorRef>): void => {
        const { id, csa } = announced;
        let component: AnyComponent;
        try {
          component = callProtocol(announced.info);
          assertComponent(component, `${name}: protocol(info)`);
        } catch (error) {
          deliverToInbox(csa, 'control', producerFinished(reasonFromError(error), { source: name }));
          return;
        }
        // A body handler runs inside its connection, without an actor of its own (one actor per
        // connection: the CSA); a machine handler is its own actor.
        const handler = isHostable(component)
          ? hostBody(self, component, String(id), `${id}:${component.name}`, (failure) => handlerEnded(id, failure))
          : createChildActor(self, component, String(id), `${id}:${component.name}`);
        linkToInbox(csa, 'outbox', handler, 'inbox');
        linkToInbox(handler, 'outbox', csa, 'inbox');
        linkToInbox(handler, 'signal', csa, 'control');
        // The CSA closes a STARTTLS handshake that takes longer than the server's handshakeTimeout.
        if (component.outboxes.includes('makessl')) linkToInbox(handler, 'makessl', csa, 'makessl');
        if (component.inboxes.includes('sslready')) linkToInbox(csa, 'sslready', handler, 'sslready');
        // The CSA's signal: the client's half-close is the end of the handler's input (it answers,
        // then ends, and the CSA closes after flushing); what the CSA refused (bytes the handler
        // sent that are not bytes) is reported on the server's signal, naming the connection.
        const csaSignal = csa.on('signal', (event: { data?: unknown }) => {
          const message = event.data;
          if (isProducerFinished(message)) {
            if (isActive(handler)) deliverToInbox(handler, 'control', producerFinished(undefined, { source: 'peer' }));
          } else if (isBadMessage(message)) {
            // What reached the connection's inbox came from the handler's outbox: say so, so the
            // reader looks at the handler rather than at the socket.
            const from = message.box === 'inbox' ? `from ${component.name}'s outbox: ` : '';
            send('signal', badMessage(message.box, reason(message.reason.code, `connection ${id} (${announced.info.peer}:${announced.info.peerPort}): ${from}${message.reason.message}`)));
          }
        });
        const serverSignal = component.outboxes.includes('serversignal')
          ? handler.on('serversignal', (event: { data?: unknown }) => control(event.data, { box: 'serversignal', where: `connection ${id} (${announced.info.peer}:${announced.info.peerPort})` }))
          : undefined;
        connections.set(id, { csa, handler, csaSignal, serverSignal });
        handler.start();
      };

      const server = innerTCPServer(input, {
        self,
        owner: name,
        onNewCSA: openConnection,
        onShutdownCSA: (message) => closeConnection(message.id, message.reason),
        send: (box, message) => send(box, message as never),
        beforeEnd: () => {
          for (const id of [...connections.keys()]) closeConnection(id);
        },
        finish,
      });
      if (inCluster) joinCluster(self);
      on('control', (message) => control(message));
      // Handlers are our children: XState reports their end to us (no subscription per connection).
      onChildEnded((id, failure) => handlerEnded(Number(id), failure));
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

/**
 * Kamaelia's ServerCore: a TCPServer that gives every connection its own handler, made by
 * `protocol(info)` and wired to the connection (its inbox gets the bytes, its outbox is written,
 * its signal closes the connection). `listening` says where it is bound; `serverShutdown` on
 * `control` stops accepting and drains. The handler's boxes are checked by the compiler.
 *
 * @param options - see {@link ConnectedServerOptions} (and TCPServerOptions)
 * @example
 * ```ts
 * const server = run(ConnectedServer({ host: '127.0.0.1', port: 1601, protocol: () => EchoProtocol() }));
 * const { address, port } = await server.next('listening');
 * process.once('SIGINT', () => server.send('control', serverShutdown()));
 * ```
 */
export function ConnectedServer<H extends AnyComponent>(options: CheckedServerOptions<ConnectedServerOptions<H>, H>) {
  return serverCore('ConnectedServer', options, (checked) => checked.protocol);
}

/** Options of {@link SimpleServer}: as ConnectedServer's, with a `protocol` that takes no arguments. */
export interface SimpleServerOptions<H extends AnyComponent = AnyComponent> extends TCPServerOptions, ClusterOptions {
  /** Makes the component that handles one connection; called with no arguments, as Kamaelia's SimpleServer. Checked as ConnectedServer's. */
  readonly protocol: () => H;
}

/**
 * ConnectedServer whose protocol factory takes no arguments (Kamaelia's SimpleServer).
 *
 * @param options - see {@link SimpleServerOptions}
 * @example
 * ```ts
 * run(SimpleServer({ port: 1601, protocol: () => EchoProtocol() }));
 * ```
 */
export function SimpleServer<H extends AnyComponent>(options: CheckedServerOptions<SimpleServerOptions<H>, H>) {
  return serverCore('SimpleServer', options, (checked) => () => checked.protocol());
}

/**
 * Kamaelia's FastRestartServer sets SO_REUSEADDR so a restarted server can bind a port whose old
 * connections are still in TIME_WAIT. libuv sets SO_REUSEADDR on every listening TCP socket, so
 * here it is ConnectedServer under another name, kept for Kamaelia programs.
 */
export function FastRestartServer<H extends AnyComponent>(options: CheckedServerOptions<ConnectedServerOptions<H>, H>) {
  return serverCore('FastRestartServer', options, (checked) => checked.protocol);
}
