// TCPClient reads its socket only while what its outbox feeds can take more (read-side flow
// control through the client's outbox passthrough), over a real loopback connection.
import { describe, expect, it } from 'vitest';
import { Pipeline, TCPClient, box, defineComponent, run, type SignalMessage } from 'kamaelia-xstate';
import { gatedSink } from './helpers/gatedSink.js';
import { collect, listen, pattern, until } from './helpers/net.js';
import { cleanupsAfterEach } from './helpers/cleanups.js';

const cleanups = cleanupsAfterEach();

describe('TCPClient read-side flow control', () => {
  it('leaves bytes in the socket while the next component is closed, and delivers them all once it opens', async () => {
    const listener = await listen();
    cleanups.push(listener.close);
    const sink = gatedSink();
    const handle = run(Pipeline(TCPClient('127.0.0.1', listener.port), sink.component));
    cleanups.push(() => handle.stop());
    const peer = await listener.nextConnection();
    const payload = pattern(16 * 1024 * 1024, 9);
    let blocked = false;
    const writing = (async () => {
      for (let offset = 0; offset < payload.length; offset += 65536) {
        if (!peer.write(payload.subarray(offset, offset + 65536))) {
          blocked = true;
          await new Promise((resolve) => peer.once('drain', resolve));
        }
      }
    })();
    await until(() => blocked, 'the peer to be pushed back');
    expect(sink.chunks).toHaveLength(0);
    sink.open();
    await writing;
    await until(() => sink.bytes() === payload.length, 'everything to arrive', 20_000);
    expect(Buffer.concat(sink.chunks).equals(payload)).toBe(true);
  });
});

describe('TCPClient flow control before the connection exists', () => {
  it('closes its inbox gate once pendingHighWaterMark bytes wait, and sends them all once connected', async () => {
    const listener = await listen();
    cleanups.push(listener.close);
    const payload = pattern(64 * 1024, 4);
    const progress = { sent: 0, stalledWhile: [] as string[] };
    let clientState = (): string => 'not started';
    const Producer = defineComponent({
      name: 'PoliteProducer',
      inboxes: { inbox: box<unknown>(), control: box<SignalMessage>() },
      outboxes: { outbox: box<Uint8Array>(), signal: box<SignalMessage>() },
      body: ({ send, canSend, whenCanSend }) => {
        let cancel = (): void => {};
        const push = (): void => {
          while (progress.sent < payload.length) {
            if (!canSend('outbox')) {
              progress.stalledWhile.push(clientState());
              cancel = whenCanSend('outbox', push);
              return;
            }
            send('outbox', payload.subarray(progress.sent, progress.sent + 1024));
            progress.sent += 1024;
          }
        };
        queueMicrotask(push);
        return () => cancel();
      },
    });
    const handle = run(Pipeline(Producer, TCPClient('127.0.0.1', listener.port, { delay: 100, pendingHighWaterMark: 8 * 1024 })));
    const children = (): Record<string, { getSnapshot(): { value: unknown } } | undefined> =>
      (handle.actor.getSnapshot() as { children: Record<string, { getSnapshot(): { value: unknown } } | undefined> }).children;
    clientState = () => JSON.stringify(children()['1']?.getSnapshot().value);
    cleanups.push(() => handle.stop());
    const peer = await listener.nextConnection();
    const got = collect(peer);
    await until(() => got.length() === payload.length, 'everything to arrive');
    expect(got.bytes().equals(payload)).toBe(true);
    expect(progress.stalledWhile[0]).toBe('"delaying"');
  });
});
