// TCPClient reads its socket only while what its outbox feeds can take more (read-side flow
// control through the client's outbox passthrough), over a real loopback connection.
import { describe, expect, it } from 'vitest';
import { Pipeline, TCPClient, box, defineComponent, run, type SignalMessage } from 'kamaelia-xstate';
import { listen, pattern, until } from './helpers/net.js';
import { cleanupsAfterEach } from './helpers/cleanups.js';

const cleanups = cleanupsAfterEach();

describe('TCPClient read-side flow control', () => {
  it('leaves bytes in the socket while the next component is closed, and delivers them all once it opens', async () => {
    const listener = await listen();
    cleanups.push(listener.close);
    const chunks: Buffer[] = [];
    let openSink = (): void => {};
    const Sink = defineComponent({
      name: 'ClosedSink',
      inboxes: { inbox: box<Buffer>(), control: box<SignalMessage>() },
      outboxes: { outbox: box<unknown>(), signal: box<SignalMessage>() },
      body: ({ on, setInboxOpen }) => {
        setInboxOpen('inbox', false);
        openSink = () => setInboxOpen('inbox', true);
        on('inbox', (chunk) => chunks.push(chunk));
      },
    });
    const handle = run(Pipeline(TCPClient('127.0.0.1', listener.port), Sink));
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
    expect(chunks).toHaveLength(0);
    openSink();
    await writing;
    await until(() => chunks.reduce((n, c) => n + c.length, 0) === payload.length, 'everything to arrive', 20_000);
    expect(Buffer.concat(chunks).equals(payload)).toBe(true);
  });
});
