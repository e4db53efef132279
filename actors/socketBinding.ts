// The ConnectedSocketAdapter's I/O: one connected net.Socket (or TLSSocket), provided into
// connectedSocketAdapterMachine as `socketBinding`.
//
// The data path runs here, not through the machine (one machine transition costs ~2 µs; this is
// ~50 ns a hop): the CSA's inbox, makessl, ReadReady and SendReady are passed straight to this
// actor, received chunks are emitted straight out of the CSA's outbox, and the machine hears only
// lifecycle reports. Readiness comes from the Selector ('readable', 'end', 'drain', ...).
//
// Flow control both ways, with the core's gates:
// - read: the socket is read only while canSend('outbox'); otherwise Node's own buffer fills, it
//   stops reading the kernel, and TCP tells the peer to wait. whenCanSend resumes us.
// - write: while socket.write() reports the buffer over its high-water mark, the CSA's inbox gate
//   is closed so producers hold back; 'drain' reopens it.
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { fromCallback, type CallbackLogicFunction, type EventObject } from 'xstate';
import { describeValue } from '../src/component.js';
import { badMessage, reason, reasonFromError, type Reason } from '../src/messages.js';
import { addInboxPassthrough, canSend, setInboxOpen, whenCanSend } from '../src/routing.js';
import { emitFrom } from '../src/xstateInternals.js';
import type { SocketBindingInput, SocketCommand, SocketReport, SslReady } from '../machines/connectedSocketAdapter.js';
import { newReader, newWriter, removeReader, removeWriter, type ReadReadiness } from '../machines/selector.js';
import { getSelector, notifySelector } from './selector.js';
import { startTls, type TlsUpgradeOptions } from './tlsUpgrade.js';

/** Byte counts reach the machine (and the inspector) at most this often while data flows. */
const PROGRESS_INTERVAL_MS = 100;
const EMPTY = Buffer.alloc(0);
const ignoreError = (): void => {};

type Phase = 'open' | 'upgrading' | 'closed';

export const socketBinding = fromCallback<SocketCommand, SocketBindingInput>((args) => {
  try {
    return bindSocket(args);
  } catch (error) {
    // A throw here leaves no cleanup for XState to run: close the socket before reporting it.
    (args.input.options.socket as Socket).destroy();
    throw error;
  }
});

function bindSocket({ input, sendBack, receive, self, system }: Parameters<CallbackLogicFunction<SocketCommand, EventObject, SocketBindingInput>>[0]) {
  const { owner, options } = input;
  const plain = options.socket as Socket;
  const report = (event: SocketReport): void => sendBack(event);

  let current: Duplex = plain;
  let secured: TLSSocket | undefined;
  let phase: Phase = 'open';
  /** end() was called: every queued byte goes out, then FIN. */
  let ending = false;
  /** A graceful close was asked for while the TLS handshake ran; end once it is done. */
  let flushAfterUpgrade = false;
  let peerEnded = false;
  let bytesIn = 0;
  let bytesOut = 0;
  /** Writes that arrive during the TLS handshake: they must not leave in clear text. */
  let held: (Uint8Array | string)[] = [];
  let heldBytes = 0;
  /** Bytes that arrived after the write side was closed, or were unsent when the socket died. */
  let unsentBytes = 0;
  let failure: Error | undefined;
  let abortReason: Reason | undefined;
  let aborted = false;
  let abortAlwaysReports = false;
  let inboxClosed = false;
  let cancelReadWait: (() => void) | undefined;
  // From bind time, so a connection shorter than the interval reports its counts once, when it closes.
  let lastProgress = performance.now();

  const selector = getSelector(system, owner);
  const register = (socket: Duplex): void => {
    notifySelector(selector, newReader(owner, 'ReadReady', socket));
    notifySelector(selector, newWriter(owner, 'SendReady', socket));
  };
  const deregister = (socket: Duplex): void => {
    notifySelector(selector, removeReader(socket));
    notifySelector(selector, removeWriter(socket));
  };

  const applyInboxGate = (): void => {
    // Both: a producer's link may resolve to the CSA's own inbox or, through the passthrough, to ours.
    setInboxOpen(owner, 'inbox', !inboxClosed);
    setInboxOpen(self, 'inbox', !inboxClosed);
  };
  const setInbox = (open: boolean): void => {
    if (inboxClosed === !open) return;
    inboxClosed = !open;
    // Reopening wakes producers synchronously; from inside our own handler their writes would queue
    // in our mailbox unchecked, so let the handler return first.
    if (open) queueMicrotask(() => !inboxClosed && applyInboxGate());
    else applyInboxGate();
  };

  const progress = (): void => {
    const now = performance.now();
    if (now - lastProgress < PROGRESS_INTERVAL_MS) return;
    lastProgress = now;
    report({ type: 'socket.progress', bytesIn, bytesOut });
  };

  const byteLength = (data: Uint8Array | string): number => (typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength);

  const write = (data: unknown): void => {
    if (!(data instanceof Uint8Array) && typeof data !== 'string') {
      emitFrom(owner, {
        type: 'signal',
        data: badMessage('inbox', reason('EBADMESSAGE', `ConnectedSocketAdapter: inbox takes Uint8Array or string, got ${describeValue(data)}; dropped`)),
      });
      return;
    }
    if (phase === 'closed' || ending) {
      unsentBytes += byteLength(data);
      return;
    }
    if (phase === 'upgrading') {
      held.push(data);
      heldBytes += byteLength(data);
      if (heldBytes >= current.writableHighWaterMark) setInbox(false);
      return;
    }
    bytesOut += byteLength(data);
    if (!current.write(data)) setInbox(false);
    progress();
  };

  const pump = (): void => {
    if (phase !== 'open' || cancelReadWait) return;
    for (;;) {
      if (!canSend(owner, 'outbox')) {
        // Woken from inside the consumer's own handler; read once it has returned, so what we
        // send does not pile up in its mailbox behind the gate it just opened.
        cancelReadWait = whenCanSend(owner, 'outbox', () =>
          queueMicrotask(() => {
            cancelReadWait = undefined;
            pump();
          }),
        );
        return;
      }
      const chunk = current.read() as Buffer | null;
      if (chunk === null) return;
      bytesIn += chunk.length;
      emitFrom(owner, { type: 'outbox', data: chunk });
      if (phase !== 'open') return; // a listener closed us
      progress();
    }
  };

  const finish = (): void => {
    if (phase === 'closed') return;
    const wasUpgrading = phase === 'upgrading';
    phase = 'closed';
    cancelReadWait?.();
    cancelReadWait = undefined;
    if (!wasUpgrading) deregister(current);
    if (failure || aborted) unsentBytes += current.writableLength + heldBytes;
    held = [];
    heldBytes = 0;
    const why = abortReason ?? (failure ? reasonFromError(failure, 'ESOCKET') : undefined);
    // A forced close that lost nothing is a clean close.
    const closedReason = why && (failure || unsentBytes > 0 || abortAlwaysReports) ? why : undefined;
    destroyAll();
    setInbox(true); // wake producers waiting on us; what they send now is dropped
    report({ type: 'socket.closed', bytesIn, bytesOut, unsentBytes, ...(closedReason ? { reason: closedReason } : {}) });
  };

  const destroyAll = (): void => {
    secured?.destroy();
    plain.destroy();
  };

  const recordFailure = (error: Error): void => {
    failure ??= error;
  };

  const endWriteSide = (): void => {
    if (ending || phase === 'closed') return;
    ending = true;
    current.end();
  };

  const onReadiness = (readiness: ReadReadiness): void => {
    switch (readiness.readiness) {
      case 'readable':
        pump();
        return;
      case 'end':
        if (peerEnded) return;
        peerEnded = true;
        report({ type: 'socket.peerEnded' });
        return;
      case 'error':
        recordFailure(readiness.error);
        return;
      case 'close':
        finish();
        return;
    }
  };

  const secure = (socket: TLSSocket): void => {
    if (phase !== 'upgrading') return;
    current = socket;
    phase = 'open';
    register(socket);
    const ready: SslReady = { kind: 'sslReady', protocol: socket.getProtocol(), authorized: socket.authorized };
    emitFrom(owner, { type: 'sslready', data: ready });
    report({ type: 'socket.secure', protocol: ready.protocol, authorized: ready.authorized });
    const queued = held;
    held = [];
    heldBytes = 0;
    for (const data of queued) write(data);
    if (!current.writableNeedDrain) setInbox(true);
    if (flushAfterUpgrade) endWriteSide();
    pump();
  };

  const upgrade = (request: unknown): void => {
    if (phase !== 'open' || secured || options.secure || ending) {
      const why = phase === 'closed' || ending ? 'the connection is closing' : 'the connection is already TLS';
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
        bytesIn += chunk.length;
        emitFrom(owner, { type: 'outbox', data: chunk });
      }
      if (phase !== 'open') return;
    }
    phase = 'upgrading';
    report({ type: 'socket.upgrading' });
    // Nobody may read the plain socket from here on; what it still receives belongs to TLS.
    deregister(plain);
    const wrap = (): void => {
      if (phase !== 'upgrading') return;
      try {
        startTls(plain, tlsOptions, {
          onSocket: (socket) => {
            secured = socket;
            socket.on('error', ignoreError);
            socket.on('error', recordFailure);
            socket.on('close', finish);
          },
          onSecure: secure,
          onError: (error) => {
            recordFailure(error);
            finish();
          },
        });
      } catch (error) {
        recordFailure(error instanceof Error ? error : new Error(String(error)));
        finish();
      }
    };
    // Plain text written before makessl must reach the wire before the ClientHello.
    if (plain.writableLength === 0) wrap();
    else plain.write(EMPTY, wrap);
  };

  receive((event) => {
    switch (event.type) {
      case 'inbox':
        write(event.data);
        return;
      case 'ReadReady':
        onReadiness(event.data);
        return;
      case 'SendReady':
        if (phase === 'open' && !current.writableNeedDrain) setInbox(true);
        return;
      case 'makessl':
        upgrade(event.data);
        return;
      case 'socket.flush':
        if (phase === 'upgrading') flushAfterUpgrade = true;
        else endWriteSide();
        return;
      case 'socket.abort':
        if (phase === 'closed') return;
        aborted = true;
        abortReason = event.reason;
        abortAlwaysReports = event.always === true;
        finish();
        return;
    }
  });

  // Node throws an 'error' nobody listens to; the Selector listens only while registered.
  plain.on('error', ignoreError);
  plain.on('error', recordFailure);
  plain.on('close', () => {
    // Once TLS wraps the socket, the TLS socket's own close (with its error) is the one that counts.
    if (!secured || secured === (plain as Duplex)) finish();
  });
  // Our side stays writable after the peer's FIN: a half-close is not a close.
  plain.allowHalfOpen = true;
  if (options.secure) secured = plain as unknown as TLSSocket;

  const undo = [
    addInboxPassthrough(owner, 'inbox', self, 'inbox'),
    addInboxPassthrough(owner, 'makessl', self, 'makessl'),
    addInboxPassthrough(owner, 'ReadReady', self, 'ReadReady'),
    addInboxPassthrough(owner, 'SendReady', self, 'SendReady'),
  ];

  if (plain.destroyed) {
    queueMicrotask(finish);
  } else {
    register(plain);
    for (const data of options.initialWrites ?? []) write(data);
    if (plain.readableEnded) onReadiness({ readiness: 'end' });
    pump();
  }

  return () => {
    for (const step of undo) step();
    if (phase !== 'closed') {
      phase = 'closed';
      cancelReadWait?.();
      deregister(current);
      destroyAll();
      setInbox(true);
    }
  };
}
