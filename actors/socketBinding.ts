// The ConnectedSocketAdapter's I/O: one connected net.Socket (or TLSSocket), provided into
// connectedSocketAdapterMachine as its socket actions. A connection is that one machine actor: the
// binding is a plain object the actor's actions drive, not a second actor (an actor costs ~2 KB and
// ~20 µs a connection; shared/notes/xstate.md).
//
// The data path runs here, not through the machine (one machine transition costs ~2 µs; this is
// ~50 ns a hop): the CSA's inbox and makessl are taken as they are delivered (the binding is the
// CSA's receiver, see routing), received chunks are emitted straight out of the CSA's outbox, and
// the machine hears only lifecycle reports. The Selector calls the binding directly with each
// readiness ('readable', 'end', 'drain', ...).
//
// Bindings execute, machines decide: the machine says when to flush, close or time out and what
// the end's reason is; the binding reports facts (bytes, the FIN, the socket's error, its close).
//
// One object per connection with its state in fields and its steps as methods: written as closures
// over shared locals it cost ~30 function objects and their context per connection.
//
// Flow control both ways, with the core's gates:
// - read: the socket is read only while canSend('outbox'); otherwise Node's own buffer fills, it
//   stops reading the kernel, and TCP tells the peer to wait. whenCanSend resumes us.
// - write: while socket.write() reports the buffer over its high-water mark, the CSA's inbox gate
//   is closed so producers hold back; 'drain' reopens it.
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { AnyActorRef, AnyStateMachine, EventObject } from 'xstate';
import { badMessage, describeValue, isBytes, reason, reasonFromError } from '../src/kernel/messages.js';
import { Mailbox } from '../src/kernel/mailbox.js';
import { canSend, deliverFromOutbox, receiverOf, ROUTES_ITS_OUTBOXES, setInboxOpen, setReceiver, whenCanSend, type Receiver } from '../src/kernel/routing.js';
import { emitFrom } from '../src/kernel/xstateInternals.js';
import {
  connectedSocketAdapterMachine,
  type CsaBindingOptions,
  type SocketReport,
  type SslReady,
} from '../machines/connectedSocketAdapter.js';
import { newReader, newWriter, removeReader, removeWriter, type ReadReadiness, type SendReadiness } from '../machines/selector.js';
import { getSelector, notifySelector, type ReadinessReceiver } from './selector.js';
import type { AnyActorSystem } from '../src/kernel/events.js';
import { cancelTimer, cancelTimers, startTimer } from './connectionTimers.js';
import { startTls, type TlsUpgradeOptions } from './tlsUpgrade.js';

/**
 * Byte counts reach the machine (and the inspector) at most this often while data flows, and once
 * more this long after the last report when counts moved meanwhile (so a burst followed by silence
 * is shown exactly, not as the count before the burst).
 */
const PROGRESS_INTERVAL_MS = 100;
const EMPTY = Buffer.alloc(0);
const ignoreError = (): void => {};

/** Which socket carries the bytes: the plain one, neither while TLS is negotiated, or none once closed. */
type Phase = 'open' | 'upgrading' | 'closed';
/** The CSA's inboxes the binding takes as they are delivered. */
const PASSED_BOXES: ReadonlySet<string> = new Set(['inbox', 'makessl', 'ReadReady', 'SendReady']);
const FLUSH = 'socket.flush';
const ABORT = 'socket.abort';

/** The binding that owns a socket, for the listeners shared by every socket. */
const BINDING = Symbol('kamaelia.socketBinding');
type BoundSocket = Duplex & { [BINDING]?: SocketBinding };

// Shared by every socket (Node calls them with `this` = the socket), so a connection costs no closures for them.
function onSocketError(this: BoundSocket, error: Error): void {
  this[BINDING]?.recordFailure(error);
}
function onPlainClose(this: BoundSocket): void {
  const binding = this[BINDING];
  // Once TLS wraps the socket, the TLS socket's own close (with its error) is the one that counts.
  if (binding && (!binding.secured || binding.secured === (this as Duplex))) binding.onClosed();
}
function onSecuredClose(this: BoundSocket): void {
  this[BINDING]?.onClosed();
}

/** The outboxes the binding sends on: it delivers along their links itself (no listener per link). */
const SENT_BY_BINDING = ['outbox', 'sslready'] as const;

/** Sends `data` out of the CSA's `box`: along its links, and to whoever listens on the actor. */
function sendOut(owner: AnyActorRef, box: (typeof SENT_BY_BINDING)[number], data: unknown): void {
  deliverFromOutbox(owner, box, data);
  emitFrom(owner, { type: box, data });
}

/** A running CSA's binding: it is the CSA's receiver (one record field serves both). */
function bindingOf(owner: AnyActorRef): SocketBinding | undefined {
  const receiver = receiverOf(owner);
  return receiver instanceof SocketBinding ? receiver : undefined;
}

function open(owner: AnyActorRef, options: CsaBindingOptions, system: AnyActorSystem): void {
  try {
    new SocketBinding(owner, options, system).start();
  } catch (error) {
    // The actor fails to start; nothing else will close the socket.
    (options.socket as Socket).destroy();
    throw error;
  }
}

const providedMachine = connectedSocketAdapterMachine.provide({
  actions: {
    openSocket: ({ context, self, system }) => open(self, context.binding.value, system as AnyActorSystem),
    forwardToSocket: ({ event, self }) => {
      const { type, data } = event as EventObject & { data?: unknown };
      bindingOf(self)?.command(type, data);
    },
    flushSocket: ({ self }) => bindingOf(self)?.command(FLUSH, undefined),
    abortSocket: ({ self }) => bindingOf(self)?.command(ABORT, undefined),
    startTimer: ({ self }, { event, ms }) => startTimer(self, event, ms),
    cancelTimer: ({ self }, { event }) => cancelTimer(self, event),
    cancelTimers: ({ self }) => cancelTimers(self),
  },
});

/**
 * The CSA machine with its node:net binding. XState runs no exit action when an actor is stopped,
 * so the logic closes the socket itself when its actor is told to stop (or its machine throws):
 * the machine's own transition, wrapped, with the machine as prototype (state nodes, definition
 * and the inspector's view are the machine's).
 */
export const connectedSocketAdapterLogic: typeof providedMachine = Object.create(providedMachine, {
  transition: {
    value: function transition(this: AnyStateMachine, snapshot: never, event: EventObject, actorScope: { self: AnyActorRef }) {
      if (event.type === 'xstate.stop') {
        bindingOf(actorScope.self)?.cleanup();
        cancelTimers(actorScope.self);
      }
      try {
        return providedMachine.transition.call(this, snapshot, event as never, actorScope as never);
      } catch (error) {
        bindingOf(actorScope.self)?.cleanup();
        cancelTimers(actorScope.self);
        throw error;
      }
    },
  },
}) as typeof providedMachine;
Object.defineProperty(connectedSocketAdapterLogic, ROUTES_ITS_OUTBOXES, { value: SENT_BY_BINDING });

function reportTrailingProgress(binding: SocketBinding): void {
  binding.reportProgress();
}

class SocketBinding implements Receiver, ReadinessReceiver {
  private readonly plain: Socket;
  private readonly selector: AnyActorRef;
  private current: Duplex;
  secured: TLSSocket | undefined;
  /** An I/O fact, not the lifecycle: whether writes may go to `current` now (the machine's states say why). */
  private phase: Phase = 'open';
  private bytesIn = 0;
  private bytesOut = 0;
  /** Writes that arrive during the TLS handshake: they must not leave in clear text. */
  private held: (Uint8Array | string)[] = [];
  private heldBytes = 0;
  /** Bytes that arrived after the write side was closed, or were unsent when the socket died. */
  private unsentBytes = 0;
  private failure: Error | undefined;
  /** Flow control, not lifecycle: mirrors the inbox gate so a write need not look it up. */
  private inboxClosed = false;
  private cancelReadWait: (() => void) | undefined;
  /** Box messages and the machine's commands, one at a time and in order (the kernel's mailbox). */
  private readonly mailbox = new Mailbox(this.run.bind(this));
  // From bind time, so a connection shorter than the interval reports its counts once, when it closes.
  private lastProgress = performance.now();
  /** The one-shot trailing report, armed only while counts have moved since the last report. */
  private progressTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly owner: AnyActorRef,
    private readonly options: CsaBindingOptions,
    system: AnyActorSystem,
  ) {
    this.plain = options.socket as Socket;
    this.current = this.plain;
    this.selector = getSelector(system, owner);
  }

  private report(event: SocketReport): void {
    this.owner.send(event);
  }

  start(): void {
    const { plain, owner, options } = this;
    (plain as BoundSocket)[BINDING] = this;
    // Node throws an 'error' nobody listens to; the Selector listens only while registered.
    plain.on('error', ignoreError);
    plain.on('error', onSocketError);
    plain.on('close', onPlainClose);
    // Our side stays writable after the peer's FIN: a half-close is not a close.
    plain.allowHalfOpen = true;
    if (options.secure) this.secured = plain as unknown as TLSSocket;

    setReceiver(owner, this);

    if (plain.destroyed) {
      queueMicrotask(() => this.onClosed());
    } else {
      // TLS from the start (secure: true, implicit-TLS servers): the handshake is done, say so.
      if (this.secured) this.announceSecure(this.secured);
      this.register(plain);
      for (const data of options.initialWrites ?? []) this.write(data);
      // Read only once the actor has started: what its handler sent while the CSA was being made
      // (a greeting) waits in the actor's mailbox until then, and must leave before any echo of
      // bytes already buffered (a PROXY gate puts the client's first bytes back before we start).
      queueMicrotask(() => this.startReading());
    }
  }

  private startReading(): void {
    if (this.phase === 'closed') return;
    if (this.plain.readableEnded) this.onReadiness({ readiness: 'end' });
    this.pump();
  }

  cleanup(): void {
    setReceiver(this.owner, undefined);
    this.cancelProgress();
    if (this.phase !== 'closed') {
      this.phase = 'closed';
      this.cancelReadWait?.();
      this.deregister(this.current);
      this.destroyAll();
      this.setInbox(true);
    }
  }

  /** A message delivered to one of the CSA's boxes: the binding takes inbox, makessl, ReadReady, SendReady. */
  receive(box: string, data: unknown): boolean {
    if (!PASSED_BOXES.has(box)) return false;
    // A reply written while we emit what we read goes to the socket on the same stack: reading is
    // not a mailbox turn, so only another box message or command can be running.
    this.mailbox.deliver(box, data);
    return true;
  }

  /** A command from the machine (flush, abort, a box message sent to the machine itself). */
  command(type: string, data: unknown): void {
    this.mailbox.deliver(type, data);
  }

  private run(type: string, data: unknown): void {
    try {
      this.handle(type, data);
    } catch (error) {
      // Written not to throw; if it does anyway, the connection ends (not its sender).
      this.recordFailure(error instanceof Error ? error : new Error(String(error)));
      this.onClosed();
    }
  }

  private handle(type: string, data: unknown): void {
    switch (type) {
      case 'inbox':
        this.write(data);
        return;
      case 'ReadReady':
      case 'SendReady':
        this.onReadiness(data as ReadReadiness | SendReadiness);
        return;
      case 'makessl':
        this.upgrade(data);
        return;
      case FLUSH:
        this.endWriteSide();
        return;
      case ABORT:
        // The machine keeps why; the socket's close reports what was lost.
        this.onClosed();
        return;
    }
  }

  private register(socket: Duplex): void {
    notifySelector(this.selector, newReader(this.owner, 'ReadReady', socket));
    notifySelector(this.selector, newWriter(this.owner, 'SendReady', socket));
  }

  private deregister(socket: Duplex): void {
    notifySelector(this.selector, removeReader(socket));
    notifySelector(this.selector, removeWriter(socket));
  }

  private applyInboxGate(): void {
    setInboxOpen(this.owner, 'inbox', !this.inboxClosed);
  }

  private setInbox(open: boolean): void {
    if (this.inboxClosed === !open) return;
    this.inboxClosed = !open;
    // Reopening wakes producers synchronously; from inside our own handler their writes would queue
    // in our mailbox unchecked, so let the handler return first.
    if (open) queueMicrotask(() => !this.inboxClosed && this.applyInboxGate());
    else this.applyInboxGate();
  }

  private progress(): void {
    const now = performance.now();
    const wait = this.lastProgress + PROGRESS_INTERVAL_MS - now;
    if (wait > 0) {
      // A module-level callback with the binding as argument: no closure per connection.
      this.progressTimer ??= setTimeout(reportTrailingProgress, wait, this).unref();
      return;
    }
    this.reportProgress(now);
  }

  reportProgress(now = performance.now()): void {
    clearTimeout(this.progressTimer);
    this.progressTimer = undefined;
    if (this.phase === 'closed') return; // socket.closed carries the final counts
    this.lastProgress = now;
    this.report({ type: 'socket.progress', bytesIn: this.bytesIn, bytesOut: this.bytesOut });
  }

  private cancelProgress(): void {
    clearTimeout(this.progressTimer);
    this.progressTimer = undefined;
  }

  private write(data: unknown): void {
    if (!isBytes(data)) {
      emitFrom(this.owner, {
        type: 'signal',
        data: badMessage('inbox', reason('EBADMESSAGE', `ConnectedSocketAdapter: inbox takes Uint8Array or string, got ${describeValue(data)}; dropped`)),
      });
      return;
    }
    if (this.phase === 'closed' || this.current.writableEnded) {
      this.unsentBytes += byteLength(data);
      return;
    }
    if (this.phase === 'upgrading') {
      this.held.push(data);
      this.heldBytes += byteLength(data);
      if (this.heldBytes >= this.current.writableHighWaterMark) this.setInbox(false);
      return;
    }
    this.bytesOut += byteLength(data);
    if (!this.current.write(data)) this.setInbox(false);
    this.progress();
  }

  /** Reads while downstream can take more; the Selector calls it on 'readable'. */
  pump(): void {
    if (this.phase !== 'open' || this.cancelReadWait) return;
    const owner = this.owner;
    for (;;) {
      if (!canSend(owner, 'outbox')) {
        // Woken from inside the consumer's own handler; read once it has returned, so what we
        // send does not pile up in its mailbox behind the gate it just opened.
        this.cancelReadWait = whenCanSend(owner, 'outbox', () =>
          queueMicrotask(() => {
            this.cancelReadWait = undefined;
            this.pump();
          }),
        );
        return;
      }
      const chunk = this.current.read() as Buffer | null;
      if (chunk === null) return;
      this.bytesIn += chunk.length;
      // sendOut, inlined: this is the hot path.
      deliverFromOutbox(owner, 'outbox', chunk);
      emitFrom(owner, { type: 'outbox', data: chunk });
      if (this.phase !== 'open') return; // a listener closed us
      this.progress();
    }
  }

  /** The socket has closed (or never opened): tidy up and report `socket.closed` once. */
  onClosed(): void {
    if (this.phase === 'closed') return;
    const wasUpgrading = this.phase === 'upgrading';
    this.phase = 'closed';
    this.cancelProgress();
    this.cancelReadWait?.();
    this.cancelReadWait = undefined;
    if (!wasUpgrading) this.deregister(this.current);
    // Whatever is still buffered when the socket goes (a reset, our abort) never reached the peer.
    this.unsentBytes += this.current.writableLength + this.heldBytes;
    this.held = [];
    this.heldBytes = 0;
    this.destroyAll();
    this.setInbox(true); // wake producers waiting on us; what they send now is dropped
    const { bytesIn, bytesOut, unsentBytes, failure } = this;
    this.report({ type: 'socket.closed', bytesIn, bytesOut, unsentBytes, ...(failure ? { reason: reasonFromError(failure, 'ESOCKET') } : {}) });
  }

  private destroyAll(): void {
    this.secured?.destroy();
    this.plain.destroy();
  }

  recordFailure(error: Error): void {
    this.failure ??= error;
  }

  private endWriteSide(): void {
    if (this.phase !== 'open' || this.current.writableEnded) return;
    this.current.end();
  }

  /** The Selector's report on our socket, called directly (or a ReadReady/SendReady message). */
  onReadiness(readiness: ReadReadiness | SendReadiness): void {
    switch (readiness.readiness) {
      case 'readable':
        this.pump();
        return;
      case 'drain':
        if (this.phase === 'open' && !this.current.writableNeedDrain) this.setInbox(true);
        return;
      case 'end':
        // Node emits 'end' once a socket; the machine decides what the FIN means.
        this.report({ type: 'socket.peerEnded' });
        return;
      case 'error':
        this.recordFailure(readiness.error);
        return;
      case 'close':
        this.onClosed();
        return;
    }
  }

  private secure(socket: TLSSocket): void {
    if (this.phase !== 'upgrading') return;
    this.current = socket;
    this.phase = 'open';
    this.register(socket);
    // What was sent during the handshake goes out first, encrypted; then the machine hears it is
    // done (and may flush and close at once).
    const queued = this.held;
    this.held = [];
    this.heldBytes = 0;
    for (const data of queued) this.write(data);
    const ready = this.announceSecure(socket);
    this.report({ type: 'socket.secure', protocol: ready.protocol, authorized: ready.authorized });
    if (this.phase !== 'open') return;
    if (!this.current.writableNeedDrain) this.setInbox(true);
    this.pump();
  }

  /** sslready out of the CSA: the handshake is done. */
  private announceSecure(socket: TLSSocket): SslReady {
    const ready: SslReady = { kind: 'sslReady', protocol: socket.getProtocol(), authorized: socket.authorized };
    sendOut(this.owner, 'sslready', ready);
    return ready;
  }

  private upgrade(request: unknown): void {
    const { plain, options, owner } = this;
    const closing = this.phase === 'closed' || this.current.writableEnded;
    if (this.phase !== 'open' || this.secured || options.secure || closing) {
      const why = closing ? 'the connection is closing' : 'the connection is already TLS';
      emitFrom(owner, {
        type: 'signal',
        data: badMessage('makessl', reason('EBADMESSAGE', `ConnectedSocketAdapter: makessl ignored (${describeValue(request)}): ${why}`)),
      });
      return;
    }
    const tlsOptions = (options.tls ?? {}) as TlsUpgradeOptions;
    if (!tlsOptions.isServer) {
      // The client speaks first in TLS, so everything already received is plain text sent before
      // our ClientHello: deliver it now (past the downstream gate; it is at most one socket buffer)
      // rather than feed it to TLS, the classic STARTTLS bug. A server keeps its buffer: a client
      // may pipeline its ClientHello right behind the STARTTLS command.
      for (let chunk = plain.read() as Buffer | null; chunk !== null; chunk = plain.read() as Buffer | null) {
        this.bytesIn += chunk.length;
        sendOut(owner, 'outbox', chunk);
      }
      if (this.phase !== 'open') return;
    }
    this.phase = 'upgrading';
    this.report({ type: 'socket.upgrading' });
    // Nobody may read the plain socket from here on; what it still receives belongs to TLS.
    this.deregister(plain);
    const wrap = (): void => {
      if (this.phase !== 'upgrading') return;
      try {
        startTls(plain, tlsOptions, {
          onSocket: (socket) => {
            this.secured = socket;
            (socket as BoundSocket)[BINDING] = this;
            socket.on('error', ignoreError);
            socket.on('error', onSocketError);
            socket.on('close', onSecuredClose);
          },
          onSecure: (socket) => this.secure(socket),
          onError: (error) => {
            this.recordFailure(error);
            this.onClosed();
          },
        });
      } catch (error) {
        this.recordFailure(error instanceof Error ? error : new Error(String(error)));
        this.onClosed();
      }
    };
    // Plain text written before makessl must reach the wire before the ClientHello.
    if (plain.writableLength === 0) wrap();
    else plain.write(EMPTY, wrap);
  }
}

function byteLength(data: Uint8Array | string): number {
  return typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
}
