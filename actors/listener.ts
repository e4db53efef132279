// The listener: the I/O half of TCPServer, invoked by tcpServerMachine. It carries out the machine's
// commands and reports facts; whether the server listens, is suspended or drains is the machine's
// state, never a flag here. Its jobs are in their own files:
//   listeningSocket.ts      bind (with portRange retry), close, listen again
//   acceptedConnections.ts  a CSA per accepted connection, announced; closing them all
//   tlsHandshakes.ts        implicit TLS: connections still in their handshake
//   gateHookup.ts           the PROXY protocol gate before TLS and the CSA
//   idleTimeouts.ts         idleTimeout per connection
//   peerInfo.ts             the handler's PeerInfo, read lazily
// This file wires them and dispatches the commands.
import type net from 'node:net';
import type tls from 'node:tls';
import { fromCallback, type EventObject } from 'xstate';
import type { ListenerActorInput, ListenerCommand, ListenerReport } from '../machines/tcpServer.js';
import { reasonFromError, type Reason } from '../src/kernel/messages.js';
import { parentOf } from '../src/kernel/childActors.js';
import { AcceptedConnections } from './acceptedConnections.js';
import type { GatedPeer } from './connectionGate.js';
import { GateHookup } from './gateHookup.js';
import { IdleTimeouts } from './idleTimeouts.js';
import type { ListenerInput, ListenerOperation, ReplaceTlsOperation } from './listenerOptions.js';
import { createServers, ListeningSocket } from './listeningSocket.js';
import { rawSocketOf, TlsHandshakes } from './tlsHandshakes.js';

export type { ListenerInput, ListenerOperation, ReplaceTlsOperation, ServerSocketOptions, SniCertificates, TCPServerTlsOptions } from './listenerOptions.js';

const DONE_PREFIX = 'xstate.done.actor.';
const ERROR_PREFIX = 'xstate.error.actor.';

/** The reason in a CSA's output ({ bytesIn, bytesOut, unsentBytes, reason? }); a custom CSA may have none. */
function outputReason(output: unknown): Reason | undefined {
  if (output === null || typeof output !== 'object') return undefined;
  const why = (output as { reason?: unknown }).reason;
  if (why === null || typeof why !== 'object') return undefined;
  const { code, message } = why as { code?: unknown; message?: unknown };
  return typeof code === 'string' && typeof message === 'string' ? { code, message } : undefined;
}

/** What the listener takes: the machine's commands and replaceTls; its CSAs' ends come as done/error events. */
type ListenerEvent = ListenerCommand | ReplaceTlsOperation;

export const listenerLogic = fromCallback<ListenerEvent | ListenerOperation | EventObject, ListenerActorInput, ListenerReport>(({ input: actorInput, sendBack, receive, self }) => {
  const input = actorInput.options as ListenerInput;
  const counts = actorInput.connections;
  const observer = input.observer;
  // The facts the machine hears that an observer (diagnostics) hears too, told in one place.
  const report = (event: ListenerReport): void => {
    sendBack(event);
    if (!observer) return;
    if (event.type === 'listener.bound') observer.listening(event.address, event.port, event.family);
    else if (event.type === 'listener.refused') observer.refused();
    else if (event.type === 'listener.acceptError') observer.acceptError(event.reason);
  };
  const { server, tlsServer } = createServers(input);
  const socket = new ListeningSocket(server, input, report);
  // The machine waits in `draining` for this; any other state ignores it.
  const countedDown = (): void => {
    if (counts.open === 0 && !socket.listening) report({ type: 'listener.drained' });
  };
  const idle = input.idleTimeout !== undefined ? new IdleTimeouts(input.idleTimeout, input.closeTimeout) : undefined;
  const connections = new AcceptedConnections(self, parentOf(self) ?? self, input, counts, report, countedDown, idle);
  // Its close listener runs before the observer's, so a client gone without a byte is not reported there.
  const handshakes = tlsServer ? new TlsHandshakes(counts, countedDown, (raw) => observer?.handshakeDropped(raw)) : undefined;

  if (tlsServer && handshakes) {
    tlsServer.on('secureConnection', (secured: tls.TLSSocket) => {
      const gated = handshakes.finish(secured);
      if (gated === undefined) secured.destroy(); // a shutdown closed it while its handshake completed
      else {
        observer?.handshakeDone(rawSocketOf(secured), secured);
        connections.accept(secured, gated ?? undefined);
      }
    });
    tlsServer.on('tlsClientError', (error: Error, secured: tls.TLSSocket) => {
      handshakes.fail(secured);
      secured.destroy(); // with a tlsClientError listener Node leaves closing the socket to us
      const raw = rawSocketOf(secured);
      // No handshake began, so none failed: dropped uncounted, as the PROXY gate drops such sockets.
      // A client that stays silent is still counted (its error is the timeout's, not ECONNRESET).
      if ((error as NodeJS.ErrnoException).code === 'ECONNRESET' && handshakes.goneWithoutAByte(raw)) {
        observer?.handshakeDropped(raw);
        return;
      }
      const why = reasonFromError(error, 'ETLS');
      report({ type: 'listener.handshakeFailed', reason: why });
      observer?.handshakeFailed(raw, why);
    });
  }
  const gate = input.gate
    ? new GateHookup(input.gate, counts, (raw: net.Socket, peer: GatedPeer) => {
        if (!tlsServer || !handshakes) return connections.accept(raw, peer);
        handshakes.begin(raw, peer);
        observer?.handshakeStarted(raw);
        raw.allowHalfOpen = false; // as the TLS server's own sockets: see createServers
        tlsServer.emit('connection', raw); // node:tls's own handshake, with its timeout and SNI
      })
    : undefined;
  if (gate) server.on('connection', gate.take);
  else if (tlsServer && handshakes) {
    // After node:tls's own listener wrapped it.
    tlsServer.on('connection', (raw: net.Socket) => {
      handshakes.begin(raw, null);
      observer?.handshakeStarted(raw);
    });
  }
  else server.on('connection', (plain: net.Socket) => connections.accept(plain, undefined));

  const commands: { readonly [K in ListenerEvent['type']]: (event: Extract<ListenerEvent, { type: K }>) => void } = {
    stopAccepting: () => {
      socket.close();
      gate?.dropAll();
      handshakes?.closeAll();
      countedDown();
    },
    closeListeningSocket: () => socket.close(),
    reopenListeningSocket: (event) => socket.reopen(event.port),
    closeConnections: () => connections.askAllToClose(),
    destroyConnections: () => connections.destroyAll(),
    replaceTls: (event) => {
      try {
        tlsServer?.setSecureContext(event.options);
        input.replaceStartTls?.(event.options);
      } catch (error) {
        report({ type: 'listener.acceptError', reason: reasonFromError(error, 'ETLS') }); // checked by the caller; never fatal here
      }
    },
  };

  receive((event) => {
    const { type } = event;
    if (Object.hasOwn(commands, type)) (commands[type as ListenerEvent['type']] as (event: EventObject) => void)(event);
    // The CSA's output carries why it ended (ECONNRESET, a TLS code, ...): shutdownCSA passes it on.
    else if (type.startsWith(DONE_PREFIX)) connections.ended(Number(type.slice(DONE_PREFIX.length)), outputReason((event as { output?: unknown }).output));
    else if (type.startsWith(ERROR_PREFIX)) connections.ended(Number(type.slice(ERROR_PREFIX.length)), reasonFromError((event as { error?: unknown }).error));
  });

  socket.bind();
  return () => {
    socket.close();
    gate?.dropAll();
    handshakes?.closeAll();
    connections.stop();
    observer?.serverClosed();
  };
});
