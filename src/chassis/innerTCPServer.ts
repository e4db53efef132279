// The TCPServer that ConnectedServer and SingleServer run inside themselves: a child actor of the
// outer server whose listening message is passed on, whose connections are reported to `onSignal`,
// and whose end ends the outer server with the TCPServer's terminal message.
import { createActor, type AnyActorRef } from 'xstate';
import type { TcpServerInput } from '../../machines/tcpServer.js';
import { isBadMessage, isNewCSA, producerFinished, reasonFromError, type Listening, type NewCSA, type ShutdownCSA, type SignalMessage } from '../kernel/messages.js';
import { registerComponent } from '../kernel/registry.js';
import { registerServerStats } from '../internet/serverStats.js';
import { tcpServerLogic } from '../internet/TCPServer.js';

const NAME = 'TCPServer';

export interface InnerServerHooks {
  readonly self: AnyActorRef;
  /** The outer server's name, for the end signal when the TCPServer sent none. */
  readonly owner: string;
  readonly onNewCSA: (message: NewCSA<AnyActorRef>) => void;
  readonly onShutdownCSA: (message: ShutdownCSA<AnyActorRef>) => void;
  readonly send: (box: 'listening' | 'signal', message: Listening | SignalMessage) => void;
  /** Runs when the TCPServer has ended, before the outer server sends its end signal and finishes. */
  readonly beforeEnd: () => void;
  readonly finish: () => void;
}

/** Creates (not yet started) the inner TCPServer actor and wires it to its owner. */
export function innerTCPServer(input: TcpServerInput, hooks: InnerServerHooks): AnyActorRef {
  const server = createActor(tcpServerLogic, { parent: hooks.self, id: NAME, input });
  registerComponent(server, {
    component: { kind: 'kamaelia.component', name: NAME, inboxes: ['control'], outboxes: ['protocolHandlerSignal', 'listening', 'signal'], logic: tcpServerLogic },
    name: `0:${NAME}`,
    parent: hooks.self,
  });
  registerServerStats(hooks.self, server);
  let endSignal: SignalMessage | undefined;
  server.on('protocolHandlerSignal', (event: { data: NewCSA<AnyActorRef> | ShutdownCSA<AnyActorRef> }) => {
    if (isNewCSA(event.data)) hooks.onNewCSA(event.data);
    else hooks.onShutdownCSA(event.data);
  });
  server.on('listening', (event: { data: Listening }) => hooks.send('listening', event.data));
  // badMessage reports pass on at once; anything else on signal is the TCPServer's end.
  server.on('signal', (event: { data: SignalMessage }) => {
    if (isBadMessage(event.data)) hooks.send('signal', event.data);
    else endSignal = event.data;
  });
  const ended = (failure?: { readonly error: unknown }): void => {
    hooks.beforeEnd();
    // A TCPServer that failed (e.g. tls.createServer threw) sent no signal: its error is the reason.
    const why = failure === undefined ? undefined : reasonFromError(failure.error);
    hooks.send('signal', endSignal ?? producerFinished(why, { source: hooks.owner }));
    // After XState has relayed the TCPServer's done event to the owner, so it does not meet a stopped actor.
    queueMicrotask(hooks.finish);
  };
  server.subscribe({ complete: () => ended(), error: (error) => ended({ error }) });
  return server;
}
