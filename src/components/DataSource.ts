// DataSource(items): sends each item on outbox, respecting downstream flow control, then
// producerFinished on signal. A shutdown on control stops it early and is passed on.
import { box, defineComponent } from '../kernel/component.js';
import { isShutdownRequest, producerFinished, type SignalMessage } from '../kernel/messages.js';

const BATCH = 1024;

/**
 * Sends each item of `items` on `outbox` (as fast as downstream takes them), then
 * `producerFinished` on `signal`, and ends. A shutdown on `control` stops it early and is passed on.
 *
 * @param items - any iterable, read lazily (it may be endless)
 * @example
 * ```ts
 * await run(Pipeline(DataSource(['hello ', 'world\n']), ConsoleEchoer())).done;
 * ```
 */
export function DataSource<T>(items: Iterable<T>) {
  return defineComponent({
    name: 'DataSource',
    inboxes: { inbox: box<unknown>(), control: box<SignalMessage>() },
    outboxes: { outbox: box<T>(), signal: box<SignalMessage>() },
    body: ({ send, finish, on, canSend, whenCanSend }) => {
      const iterator = items[Symbol.iterator]();
      let cancelWait = (): void => {};
      let stopped = false;
      let next: NodeJS.Immediate | undefined;
      const pump = (): void => {
        // A batch per turn of the event loop, so control messages and I/O get a look in even when
        // the source is endless and nobody pushes back.
        for (let sent = 0; !stopped; sent++) {
          if (sent === BATCH) {
            next = setImmediate(pump);
            return;
          }
          if (!canSend('outbox')) {
            cancelWait = whenCanSend('outbox', () => queueMicrotask(pump));
            return;
          }
          const step = iterator.next();
          if (step.done) {
            stopped = true;
            send('signal', producerFinished(undefined, { source: 'DataSource' }));
            finish();
            return;
          }
          send('outbox', step.value);
        }
      };
      on('control', (message) => {
        if (!isShutdownRequest(message) || stopped) return;
        stopped = true;
        send('signal', message);
        finish();
      });
      // Start after the component is wired and running, so control messages can interleave.
      next = setImmediate(pump);
      return () => {
        stopped = true;
        if (next) clearImmediate(next);
        cancelWait();
      };
    },
  });
}
