// toDuplex(component): a running component as a Node Duplex stream, so it plugs into
// stream.pipeline: what is written goes to its inbox, what it sends on its outbox is readable.
// Backpressure both ways: a write completes only once the inbox (through passthroughs, down to the
// socket) can take more, and what the reader has not taken holds the component's outbox through
// run()'s bounded handle. Ending the writable side sends producerFinished to control; the readable
// side ends when the component does, or is destroyed with its error.
import { Duplex } from 'node:stream';
import type { Component } from '../kernel/component.js';
import { producerFinished, type Reason, type SignalMessage } from '../kernel/messages.js';
import { isInboxOpen, whenInboxOpen } from '../kernel/routing.js';
import { run, type RunOptions } from '../kernel/run.js';

/** Options of {@link toDuplex}: run()'s options (inspect, id, signal, high-water marks) and the Duplex's. */
export interface ToDuplexOptions extends RunOptions {
  /**
   * The readable side yields the outbox's messages as they are (strings, objects) instead of bytes.
   * @defaultValue false
   */
  readonly readableObjectMode?: boolean;
  /**
   * The writable side takes any value, not only bytes and strings.
   * @defaultValue false
   */
  readonly writableObjectMode?: boolean;
}

/** The boxes toDuplex needs: an inbox and control to write to, an outbox and signal to read from. */
type DuplexIn = { inbox: unknown; control: SignalMessage };
type DuplexOut = { outbox: unknown; signal: SignalMessage };

/** An Error for a run that ended badly, with the reason's code (ECONNREFUSED, ...) as `code`. */
function errorFor(reason: Reason | undefined): Error {
  return Object.assign(new Error(reason?.message ?? 'the component failed'), { code: reason?.code ?? 'ECOMPONENT' });
}

/**
 * Runs `component` and returns it as a Node `Duplex`: writes go to its `inbox`, its `outbox` is the
 * readable side. Flow control holds both ways (a write's callback waits while the inbox is closed,
 * and an unread outbox fills run()'s bounded handle, which holds the component). `end()` sends
 * `producerFinished` to `control`; the readable side ends when the component ends, or the stream is
 * destroyed with an Error carrying the reason's `code` (`ECONNREFUSED`, ...) when an error ended it.
 * Destroying the stream stops the component.
 *
 * @param component - a component with `inbox`/`control` inboxes and `outbox`/`signal` outboxes,
 *   e.g. `TCPClient(host, port)`
 * @param options - see {@link ToDuplexOptions}
 * @example
 * ```ts
 * import { pipeline } from 'node:stream/promises';
 * import { TCPClient, toDuplex } from 'kamaelia-xstate';
 * await pipeline(process.stdin, toDuplex(TCPClient('127.0.0.1', 7000)), process.stdout);
 * ```
 */
export function toDuplex<In extends DuplexIn, Out extends DuplexOut>(component: Component<In, Out>, options: ToDuplexOptions = {}): Duplex {
  const { readableObjectMode = false, writableObjectMode = false, ...runOptions } = options;
  const handle = run(component, runOptions);
  let reading = false;
  /** Set once the component has ended: the reader takes what is left without waiting to be asked. */
  let draining = false;
  let cancelWrite: (() => void) | undefined;
  let writeDone: ((error?: Error) => void) | undefined;
  const duplex: Duplex = new Duplex({
    readableObjectMode,
    writableObjectMode,
    // As net.Socket: once the component has ended (the readable side ends), so does the writable side.
    allowHalfOpen: false,
    write(chunk: unknown, _encoding, callback) {
      if (!handle.send('inbox', chunk as In['inbox'])) {
        callback(errorFor({ code: 'ERR_STREAM_WRITE_AFTER_END', message: `${component.name} has ended; it cannot take more` }));
        return;
      }
      if (isInboxOpen(handle.actor, 'inbox')) {
        callback();
        return;
      }
      writeDone = callback;
      cancelWrite = whenInboxOpen(handle.actor, 'inbox', () => {
        cancelWrite = writeDone = undefined;
        callback();
      });
    },
    final(callback) {
      handle.send('control', producerFinished(undefined, { source: 'toDuplex' }) as In['control']);
      callback();
    },
    read() {
      if (reading) return;
      reading = true;
      void pump();
    },
    destroy(error, callback) {
      cancelWrite?.();
      handle.stop();
      callback(error);
    },
  });

  const pump = async (): Promise<void> => {
    for (;;) {
      let message: unknown;
      try {
        message = await handle.next('outbox');
      } catch {
        // Ended, and every buffered message was taken: end the readable side, or fail it.
        const result = await handle.done;
        if (result.status === 'error') duplex.destroy(errorFor(result.reason));
        else duplex.push(null);
        return;
      }
      if (duplex.destroyed) return;
      if (!duplex.push(message) && !draining) break;
    }
    reading = false;
  };

  void handle.done.then((result) => {
    draining = true;
    // A write waiting for the inbox to open will not see it open now.
    const pendingWrite = writeDone;
    cancelWrite?.();
    cancelWrite = writeDone = undefined;
    pendingWrite?.(result.status === 'error' ? errorFor(result.reason) : undefined);
    if (!reading && !duplex.destroyed) {
      reading = true;
      void pump();
    }
  });
  return duplex;
}
