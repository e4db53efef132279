// run()'s handle is a bounded consumer: what next()/messages() have not taken holds the component
// back through flow control, so a root TCPClient that nobody reads stops reading its socket.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DataSource, TCPClient, run } from 'kamaelia-xstate';
import { cleanupsAfterEach } from './helpers/cleanups.js';
import { firehose } from './helpers/firehose.js';
import { pattern, until } from './helpers/net.js';

const cleanups = cleanupsAfterEach();
const MiB = 1024 * 1024;

describe('run() handle flow control', () => {
  it('a root TCPClient fed 256 MiB and not read for 3 s grows RSS by < 64 MiB, then every byte arrives in order', async () => {
    const total = 256 * MiB;
    const source = await firehose(total, pattern(MiB, 3));
    cleanups.push(source.close);
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const sample = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 20);
    cleanups.push(() => clearInterval(sample));

    const client = run(TCPClient('127.0.0.1', source.port));
    cleanups.push(() => client.stop());
    // The server is held back by the client's socket, which the client stopped reading.
    await until(() => source.state.waitingForDrain, 'the server to be held back');
    const deadline = Date.now() + 3000;
    await until(() => Date.now() >= deadline, 'three seconds unread', 5000);
    clearInterval(sample);
    const growth = rssPeak - rssBefore;
    console.log(`run() handle: RSS grew ${(growth / MiB).toFixed(1)} MiB while ${(source.state.written / MiB).toFixed(1)} of 256 MiB were sent and none read`);
    expect(growth).toBeLessThan(64 * MiB);
    expect(source.state.written).toBeLessThan(total);

    const received = createHash('sha256');
    let length = 0;
    for await (const chunk of client.messages('outbox')) {
      received.update(chunk);
      length += chunk.length;
    }
    expect(length).toBe(total);
    expect(received.digest('hex')).toBe(source.digest());
    expect((await client.done).status).toBe('done');
  }, 120_000);

  it('counts messages that are not bytes: a DataSource waits once the handle holds highWaterMark.messages', async () => {
    let produced = 0;
    const items = function* () {
      for (let i = 0; i < 100_000; i++) {
        produced++;
        yield i;
      }
    };
    const handle = run(DataSource(items()), { highWaterMark: { messages: 50 } });
    await until(() => produced >= 50, 'the source to fill the handle');
    // Several turns of the event loop later it still waits: the handle is full.
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(produced).toBeLessThan(100);
    let taken = 0;
    for await (const item of handle.messages('outbox')) expect(item).toBe(taken++);
    expect(taken).toBe(100_000);
  });

  it('rejects a bad high-water mark, naming it', () => {
    expect(() => run(DataSource([1]), { highWaterMark: { bytes: 0 } })).toThrow(/highWaterMark\.bytes must be a positive number/);
  });
});
