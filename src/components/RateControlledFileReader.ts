// RateControlledFileReader(path, { rate, chunkSize }): reads a file in bytes mode and sends it on
// outbox in chunks of chunkSize bytes at `rate` bytes per second, paced by a timer (Kamaelia busy
// polls). At end of file: producerFinished on signal. A missing or unreadable file: producerFinished
// carrying the error's code (ENOENT, EACCES, ...) on signal.
import { open, type FileHandle } from 'node:fs/promises';
import { box, defineComponent } from '../kernel/component.js';
import { isShutdownRequest, producerFinished, reasonFromError, type SignalMessage } from '../kernel/messages.js';

/** Options of {@link RateControlledFileReader}. */
export interface RateControlledFileReaderOptions {
  /** Bytes per second. @defaultValue 100000 */
  readonly rate?: number;
  /** Bytes per chunk, so at most 100 timer ticks a second. @defaultValue rate / 100 */
  readonly chunkSize?: number;
}

/**
 * Reads the file at `path` and sends it on `outbox` in chunks of `chunkSize` bytes at `rate` bytes
 * a second (and no faster than downstream takes them), then `producerFinished` on `signal`. A file
 * that cannot be read ends it with `producerFinished` carrying the error's code (ENOENT, ...).
 *
 * @param path - the file to read
 * @param options - see {@link RateControlledFileReaderOptions}
 * @example
 * ```ts
 * await run(Pipeline(RateControlledFileReader('myfile', { rate: 100_000 }), TCPClient('127.0.0.1', 1000))).done;
 * ```
 */
export function RateControlledFileReader(path: string, options: RateControlledFileReaderOptions = {}) {
  if (typeof path !== 'string' || path.length === 0) throw new TypeError(`RateControlledFileReader: path must be a non-empty string, got ${String(path)}`);
  const rate = options.rate ?? 100_000;
  if (!Number.isFinite(rate) || rate <= 0) throw new RangeError(`RateControlledFileReader: rate must be a positive number of bytes per second, got ${rate}`);
  const chunkSize = options.chunkSize ?? Math.max(1, Math.round(rate / 100));
  if (!Number.isInteger(chunkSize) || chunkSize <= 0) throw new RangeError(`RateControlledFileReader: chunkSize must be a positive integer, got ${chunkSize}`);
  const intervalMs = (chunkSize / rate) * 1000;

  return defineComponent({
    name: 'RateControlledFileReader',
    inboxes: { inbox: box<unknown>(), control: box<SignalMessage>() },
    outboxes: { outbox: box<Uint8Array>(), signal: box<SignalMessage>() },
    body: ({ on, send, finish, canSend, whenCanSend }) => {
      let file: FileHandle | undefined;
      let timer: NodeJS.Timeout | undefined;
      let cancelWait = (): void => {};
      let ended = false;
      let position = 0;
      let nextDue = performance.now();

      const end = (message: SignalMessage): void => {
        if (ended) return;
        ended = true;
        send('signal', message);
        finish();
      };
      const schedule = (): void => {
        if (ended) return;
        nextDue += intervalMs;
        timer = setTimeout(readChunk, Math.max(0, nextDue - performance.now()));
      };
      const readChunk = (): void => {
        timer = undefined;
        if (ended || !file) return;
        if (!canSend('outbox')) {
          cancelWait = whenCanSend('outbox', () => {
            nextDue = performance.now();
            readChunk();
          });
          return;
        }
        const chunk = Buffer.allocUnsafe(chunkSize);
        file.read(chunk, 0, chunkSize, position).then(
          ({ bytesRead }) => {
            if (ended) return;
            if (bytesRead === 0) return end(producerFinished(undefined, { source: 'RateControlledFileReader' }));
            position += bytesRead;
            send('outbox', chunk.subarray(0, bytesRead));
            schedule();
          },
          (error: unknown) => end(producerFinished(reasonFromError(error, 'EIO'), { source: 'RateControlledFileReader' })),
        );
      };

      on('control', (message) => {
        if (isShutdownRequest(message)) end(message);
      });
      open(path, 'r').then(
        (handle) => {
          if (ended) {
            void handle.close();
            return;
          }
          file = handle;
          nextDue = performance.now();
          readChunk();
        },
        (error: unknown) => end(producerFinished(reasonFromError(error, 'EIO'), { source: 'RateControlledFileReader' })),
      );
      return () => {
        ended = true;
        if (timer) clearTimeout(timer);
        cancelWait();
        void file?.close().catch(() => {});
      };
    },
  });
}
