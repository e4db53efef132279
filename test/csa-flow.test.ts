// Flow control through a ConnectedSocketAdapter over a real loopback connection: its inbox gate
// closes while the socket's write buffer is over the high-water mark, and it reads the socket
// only while its downstream can take more.
import { describe, expect, it } from 'vitest';
import { ConnectedSocketAdapter, Pipeline, box, defineComponent, run, type SignalMessage } from 'kamaelia-xstate';
import { collect, pattern, socketPair, until } from './helpers/net.js';
import { gatedSink } from './helpers/gatedSink.js';
import { cleanupsAfterEach } from './helpers/cleanups.js';

const cleanups = cleanupsAfterEach();

/** Sends `total` bytes in 64 KiB chunks, but only while its outbox may send (like a well-behaved reader of a file). */
function PoliteProducer(payload: Buffer, progress: { sent: number; stalls: number }) {
  return defineComponent({
    name: 'PoliteProducer',
    inboxes: { inbox: box<unknown>(), control: box<SignalMessage>() },
    outboxes: { outbox: box<Uint8Array>(), signal: box<SignalMessage>() },
    body: ({ send, canSend, whenCanSend }) => {
      let cancel = (): void => {};
      const pushMore = (): void => {
        while (progress.sent < payload.length) {
          if (!canSend('outbox')) {
            progress.stalls++;
            cancel = whenCanSend('outbox', pushMore);
            return;
          }
          const chunk = payload.subarray(progress.sent, progress.sent + 65536);
          progress.sent += chunk.length;
          send('outbox', chunk);
        }
      };
      queueMicrotask(pushMore);
      return () => cancel();
    },
  });
}

describe('ConnectedSocketAdapter flow control', () => {
  it('closes its inbox gate while the socket write buffer is full and reopens it on drain', async () => {
    const pair = await socketPair();
    cleanups.push(pair.close);
    pair.peer.pause();
    const payload = pattern(32 * 1024 * 1024, 3);
    const progress = { sent: 0, stalls: 0 };
    const handle = run(Pipeline(PoliteProducer(payload, progress), ConnectedSocketAdapter(pair.local)));
    cleanups.push(() => handle.stop());
    await until(() => progress.stalls > 0, 'the producer to be held back');
    const heldAt = progress.sent;
    // Held back long before the whole payload sat in memory.
    expect(heldAt).toBeLessThan(payload.length / 2);
    const received = collect(pair.peer);
    pair.peer.resume();
    await until(() => received.length() === payload.length, 'the peer to receive everything', 20_000);
    expect(received.bytes().equals(payload)).toBe(true);
    expect(progress.stalls).toBeGreaterThan(1);
  });

  it('reads the socket only while its downstream can take more', async () => {
    const pair = await socketPair();
    cleanups.push(pair.close);
    const sink = gatedSink();
    const handle = run(Pipeline(ConnectedSocketAdapter(pair.local), sink.component));
    cleanups.push(() => handle.stop());
    const payload = pattern(16 * 1024 * 1024, 5);
    let peerBlocked = false;
    const writeAll = async (): Promise<void> => {
      for (let offset = 0; offset < payload.length; offset += 65536) {
        if (!pair.peer.write(payload.subarray(offset, offset + 65536))) {
          peerBlocked = true;
          await new Promise((resolve) => pair.peer.once('drain', resolve));
        }
      }
    };
    const writing = writeAll();
    // With the sink's gate closed the CSA leaves the bytes in the socket: the peer is pushed back.
    await until(() => peerBlocked, 'the peer to be pushed back');
    expect(sink.bytes()).toBe(0);
    sink.open();
    await writing;
    await until(() => sink.bytes() === payload.length, 'the sink to receive everything', 20_000);
    expect(Buffer.concat(sink.chunks).equals(payload)).toBe(true);
  });
});
