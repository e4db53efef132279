// TCPClient reads its socket only while what its outbox feeds can take more (read-side flow
// control through the client's outbox passthrough), over a real loopback connection.
import { describe, expect, it } from 'vitest';
import { Pipeline, TCPClient, run } from 'kamaelia-xstate';
import { gatedSink } from './helpers/gatedSink.js';
import { listen, pattern, until } from './helpers/net.js';
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
