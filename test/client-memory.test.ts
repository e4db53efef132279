// Flow control end to end: 256 MiB streamed through TCPClient to a slow reader (another process)
// while our heap + external memory grows by less than 64 MiB. Without the CSA closing its inbox
// gate over the socket's high-water mark, the producer would queue all 256 MiB here.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { Pipeline, TCPClient, box, defineComponent, producerFinished, run, type SignalMessage } from 'kamaelia-xstate';
import { slowReader } from './helpers/slowReader.js';
import { cleanupsAfterEach } from './helpers/cleanups.js';

const cleanups = cleanupsAfterEach();

const TOTAL = 256 * 1024 * 1024;
const CHUNK_SIZE = 64 * 1024;

/** Sends TOTAL bytes as fast as its outbox allows, then producerFinished. */
function FastProducer(progress: { sent: number; stalls?: number }) {
  return defineComponent({
    name: 'FastProducer',
    inboxes: { inbox: box<unknown>(), control: box<SignalMessage>() },
    outboxes: { outbox: box<Uint8Array>(), signal: box<SignalMessage>() },
    body: ({ send, finish, canSend, whenCanSend }) => {
      let cancel = (): void => {};
      const pump = (): void => {
        while (progress.sent < TOTAL) {
          if (!canSend('outbox')) {
            progress.stalls = (progress.stalls ?? 0) + 1;
            cancel = whenCanSend('outbox', pump);
            return;
          }
          // A fresh buffer each time, as a file reader would make: queued chunks really cost memory.
          const chunk = Buffer.allocUnsafe(CHUNK_SIZE).fill(progress.sent & 0xff);
          progress.sent += chunk.length;
          send('outbox', chunk);
        }
        send('signal', producerFinished());
        finish();
      };
      queueMicrotask(pump);
      return () => cancel();
    },
  });
}

// A full collection before each sample, so we measure what is held, not garbage awaiting the GC.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function used(): number {
  gc();
  const { heapUsed, external } = process.memoryUsage();
  return heapUsed + external;
}

describe('TCPClient memory under flow control', () => {
  it('streams 256 MiB to a slow reader with heap + external growing by less than 64 MiB', async () => {
    const reader = await slowReader();
    cleanups.push(() => reader.close());
    const baseline = used();
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, used())), 20);
    cleanups.push(() => clearInterval(sampler));
    const progress: { sent: number; stalls?: number } = { sent: 0 };
    const handle = run(Pipeline(FastProducer(progress), TCPClient('127.0.0.1', reader.port)));
    cleanups.push(() => handle.stop());
    expect(await reader.total).toBe(TOTAL);
    expect((await handle.done).status).toBe('done');
    peak = Math.max(peak, used());
    expect(progress.sent).toBe(TOTAL);
    expect(progress.stalls).toBeGreaterThan(1); // held back after the connection was up, not only before
    expect(peak - baseline).toBeLessThan(64 * 1024 * 1024);
  }, 60_000);
});
