// When a component ends, the links into it close: its producers see canSend false for good (and a
// producer left with nowhere to send is told shutdownMicroprocess, reason ENOCONSUMER), so a
// DataSource feeding a TCPClient whose server resets it stops pulling, and an endless one ends
// instead of spinning. The resetting server is python3 (SO_LINGER 0, then close: a real RST).
import { describe, expect } from 'vitest';
import { DataSource, Graphline, Pipeline, TCPClient, box, defineComponent, run, type SignalMessage } from 'kamaelia-xstate';
import { cleanupsAfterEach } from './helpers/cleanups.js';
import { itWith, spawnPeer } from './helpers/externalPeers.js';
import { until } from './server-helpers.js';

const cleanups = cleanupsAfterEach();
const it = itWith('python3');

// Reads 1 MiB, then resets the connection.
const RESETTING_SERVER = `
import socket, struct
s = socket.socket()
s.bind(('127.0.0.1', 0))
s.listen(1)
print('PORT', s.getsockname()[1], flush=True)
c, _ = s.accept()
n = 0
while n < 1048576:
    d = c.recv(65536)
    if not d:
        break
    n += len(d)
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
c.close()
print('RESET', n, flush=True)
import time
time.sleep(60)
`;

async function resettingServer(): Promise<number> {
  const peer = await spawnPeer('python3', ['-c', RESETTING_SERVER], /PORT (\d+)/);
  cleanups.push(peer.stop);
  return peer.port;
}

const CHUNK = 64 * 1024;

/** 64 KiB chunks, `count` of them (Infinity: endless), counting how many were pulled. */
function chunks(count: number): { items: Iterable<Buffer>; pulled: () => number } {
  let pulled = 0;
  const chunk = Buffer.alloc(CHUNK, 0x78);
  return {
    pulled: () => pulled,
    items: {
      *[Symbol.iterator]() {
        while (pulled < count) {
          pulled++;
          yield chunk;
        }
      },
    },
  };
}

describe('a producer whose consumer has ended', () => {
  it('a DataSource feeding a TCPClient that gets a reset stops pulling: far less than its 200 MiB is taken', async () => {
    const port = await resettingServer();
    const total = (200 * 1024 * 1024) / CHUNK;
    const source = chunks(total);
    const handle = run(Pipeline(DataSource(source.items), TCPClient('127.0.0.1', port)));
    cleanups.push(() => handle.stop());
    const end = await handle.next('signal', { timeoutMs: 10_000 });
    expect(end).toMatchObject({ kind: 'producerFinished', reason: { code: 'ECONNRESET' } });
    await handle.done;
    // Flow control held it to the socket's buffers before the reset, and the end stopped it after.
    expect(source.pulled() * CHUNK).toBeLessThan(32 * 1024 * 1024);
  });

  it('an endless DataSource feeding a TCPClient that gets a reset ends (told ENOCONSUMER) instead of spinning', async () => {
    const port = await resettingServer();
    const source = chunks(Number.POSITIVE_INFINITY);
    const ended: SignalMessage[] = [];
    // The source's own signal goes to a probe, so what it was told is visible.
    const Probe = () =>
      defineComponent({
        name: 'Probe',
        inboxes: { control: box<SignalMessage>() },
        outboxes: {},
        body: ({ on, finish }) => on('control', (message) => (ended.push(message), finish())),
      });
    const handle = run(
      Graphline(
        { SOURCE: DataSource(source.items), CLIENT: TCPClient('127.0.0.1', port), PROBE: Probe() },
        { 'SOURCE.outbox': 'CLIENT.inbox', 'SOURCE.signal': 'PROBE.control' },
      ),
    );
    cleanups.push(() => handle.stop());
    const result = await Promise.race([handle.done, new Promise((resolve) => setTimeout(() => resolve('still running'), 10_000))]);
    expect(result).not.toBe('still running');
    expect(ended[0]).toMatchObject({ kind: 'shutdownMicroprocess', reason: { code: 'ENOCONSUMER' } });
    expect(source.pulled() * CHUNK).toBeLessThan(32 * 1024 * 1024);
  });

  it('canSend is false for good once the consumer has ended, even for a producer that ignores the shutdown', async () => {
    let scope: { canSend: (box: 'outbox') => boolean; send: (box: 'outbox', message: string) => void } | undefined;
    const Producer = () =>
      defineComponent({
        name: 'Producer',
        inboxes: { control: box<SignalMessage>() },
        outboxes: { outbox: box<string>() },
        body: (bodyScope) => {
          scope = bodyScope;
          bodyScope.on('control', () => {}); // ignores the shutdown: the closed link alone must hold it back
        },
      });
    const Quitter = () =>
      defineComponent({
        name: 'Quitter',
        inboxes: { inbox: box<string>() },
        outboxes: {},
        body: ({ on, finish }) => on('inbox', () => finish()),
      });
    const handle = run(Pipeline(Producer(), Quitter()));
    cleanups.push(() => handle.stop());
    await until(() => scope !== undefined, 'the producer to start');
    expect(scope!.canSend('outbox')).toBe(true);
    scope!.send('outbox', 'last');
    await until(() => !scope!.canSend('outbox'), 'canSend to turn false');
  });
});
