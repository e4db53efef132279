// Node interop over real loopback sockets: Lines framing, fromReadable / toWritable with flow
// control, and toDuplex in stream.pipeline.
import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { ConnectedServer, EchoProtocol, Lines, Pipeline, TCPClient, fromReadable, run, serverShutdown, toDuplex, toWritable, type SignalMessage } from 'kamaelia-xstate';
import { firehose } from './helpers/firehose.js';
import { collect, listen, pattern, until } from './helpers/net.js';
import { cleanupsAfterEach } from './helpers/cleanups.js';

const cleanups = cleanupsAfterEach();
const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** A server that writes `chunks` to each client, one per event-loop turn, then ends. */
async function sendingServer(chunks: Buffer[]) {
  const listener = await listen((socket) => {
    let i = 0;
    const next = (): void => {
      if (i === chunks.length) socket.end();
      else socket.write(chunks[i++]!, () => setImmediate(next));
    };
    next();
  });
  cleanups.push(() => listener.close());
  return listener;
}

async function echoServer() {
  const server = run(ConnectedServer({ host: '127.0.0.1', port: 0, protocol: () => EchoProtocol() }));
  cleanups.push(async () => {
    server.send('control', serverShutdown());
    await server.done;
  });
  return (await server.next('listening')).port;
}

describe('Lines', () => {
  it('splits bytes from a socket into lines: \\n and \\r\\n, lines across chunks, UTF-8 across chunks, a last unterminated line', async () => {
    const greek = Buffer.from('γάμμα\n', 'utf8');
    const listener = await sendingServer([Buffer.from('alpha\r\nbe'), Buffer.from('ta\n'), greek.subarray(0, 3), greek.subarray(3), Buffer.from('\n\r\nlast')]);
    const handle = run(Pipeline(TCPClient('127.0.0.1', listener.port), Lines()));
    const lines: string[] = [];
    for await (const line of handle.messages('outbox')) lines.push(line);
    expect(lines).toEqual(['alpha', 'beta', 'γάμμα', '', '', 'last']);
    expect((await handle.done).status).toBe('done');
  });

  it('reports an over-long line on signal as ELINETOOLONG and ends, without buffering the rest', async () => {
    const listener = await sendingServer([Buffer.from('short\n'), Buffer.alloc(100, 0x61), Buffer.alloc(1 << 20, 0x61)]);
    const handle = run(Pipeline(TCPClient('127.0.0.1', listener.port), Lines({ maxLineLength: 64 })));
    expect(await handle.next('outbox', { timeoutMs: 5000 })).toBe('short');
    const signals: SignalMessage[] = [];
    for await (const message of handle.messages('signal')) signals.push(message);
    expect(signals.at(-1)).toMatchObject({ kind: 'producerFinished', reason: { code: 'ELINETOOLONG', message: expect.stringMatching(/more than 64 bytes/) } });
    expect(await handle.done).toMatchObject({ status: 'error', reason: { code: 'ELINETOOLONG' } });
  });

  it('rejects a bad maxLineLength at construction', () => {
    expect(() => Lines({ maxLineLength: 0 })).toThrow(/maxLineLength must be a positive integer/);
  });
});

describe('fromReadable and toWritable', () => {
  it('fromReadable streams into a TCPClient, paused while the peer does not read, then every byte arrives in order', async () => {
    const total = 64 << 20;
    const chunk = pattern(64 << 10);
    let produced = 0;
    const source = new Readable({
      read() {
        if (produced >= total) return void this.push(null);
        produced += chunk.length;
        this.push(chunk);
      },
    });
    let peerData: ReturnType<typeof collect> | undefined;
    const listener = await listen((socket) => {
      peerData = collect(socket);
      socket.pause(); // not reading yet
    });
    cleanups.push(() => listener.close());
    const handle = run(Pipeline(fromReadable(source), TCPClient('127.0.0.1', listener.port)));
    await until(() => peerData !== undefined && source.isPaused(), 'fromReadable paused the stream');
    const producedWhilePaused = produced;
    expect(producedWhilePaused).toBeLessThan(total / 2);
    listener.accepted[0]!.resume();
    await peerData!.ended;
    // The peer (half-open) closes in turn; a peer that never did would cut the close (ECLOSETIMEOUT).
    listener.accepted[0]!.end();
    expect(peerData!.length()).toBe(total);
    const expected = createHash('sha256');
    for (let i = 0; i < total / chunk.length; i++) expected.update(chunk);
    expect(sha256(peerData!.bytes())).toBe(expected.digest('hex'));
    expect((await handle.done).status).toBe('done');
  });

  it('toWritable writes what a TCPClient receives, holding the socket while the stream is full', async () => {
    const payload = pattern(16 << 20, 7);
    const chunks: Buffer[] = [];
    for (let i = 0; i < payload.length; i += 256 << 10) chunks.push(payload.subarray(i, i + (256 << 10)));
    const listener = await sendingServer(chunks);
    const received: Buffer[] = [];
    let maxBuffered = 0;
    const slow = new Writable({
      highWaterMark: 16 << 10,
      write(data: Buffer, _encoding, callback) {
        received.push(Buffer.from(data));
        setTimeout(callback, 1);
      },
    });
    const watch = setInterval(() => (maxBuffered = Math.max(maxBuffered, slow.writableLength)), 1);
    cleanups.push(() => clearInterval(watch));
    const handle = run(Pipeline(TCPClient('127.0.0.1', listener.port), toWritable(slow)));
    expect((await handle.done).status).toBe('done');
    expect(slow.writableFinished).toBe(true);
    expect(sha256(Buffer.concat(received))).toBe(sha256(payload));
    // Without flow control the whole 16 MiB would sit in the stream's buffer.
    expect(maxBuffered).toBeLessThan(2 << 20);
  });

  it('a stream error ends fromReadable with its code on signal', async () => {
    const source = new Readable({ read() {} });
    const handle = run(fromReadable(source));
    source.destroy(Object.assign(new Error('disk on fire'), { code: 'EIO' }));
    expect(await handle.next('signal', { timeoutMs: 2000 })).toMatchObject({ kind: 'producerFinished', reason: { code: 'EIO', message: 'disk on fire' } });
    expect((await handle.done).status).toBe('error');
  });
});

describe('toDuplex', () => {
  it('works in stream.pipeline: lines through a TCPClient to an echo server and back', async () => {
    const port = await echoServer();
    const lines = Array.from({ length: 1000 }, (_, i) => `line ${i}\n`);
    const received: Buffer[] = [];
    await pipeline(
      Readable.from(lines),
      toDuplex(TCPClient('127.0.0.1', port)),
      new Writable({
        write(data: Buffer, _encoding, callback) {
          received.push(data);
          callback();
        },
      }),
    );
    expect(Buffer.concat(received).toString()).toBe(lines.join(''));
  });

  it('holds the server back while its readable side is not read, then delivers every byte in order', async () => {
    const total = 64 << 20;
    const source = await firehose(total, pattern(1 << 20, 5));
    cleanups.push(source.close);
    const duplex = toDuplex(TCPClient('127.0.0.1', source.port));
    await until(() => source.state.waitingForDrain, 'the server to be held back');
    expect(duplex.readableLength).toBeLessThan(4 << 20);
    expect(source.state.written).toBeLessThan(total);
    const received = createHash('sha256');
    let length = 0;
    for await (const chunk of duplex) {
      received.update(chunk as Buffer);
      length += (chunk as Buffer).length;
    }
    expect(length).toBe(total);
    expect(received.digest('hex')).toBe(source.digest());
  });

  it('a write waits while the connection cannot take more: a peer that does not read fills it, and write() says so', async () => {
    let peer: ReturnType<typeof collect> | undefined;
    const listener = await listen((socket) => {
      peer = collect(socket);
      socket.pause();
    });
    cleanups.push(() => listener.close());
    const duplex = toDuplex(TCPClient('127.0.0.1', listener.port));
    duplex.on('error', () => {});
    cleanups.push(() => void duplex.destroy());
    await until(() => peer !== undefined, 'connected');
    // Without flow control every write would complete at once and write() would never say false.
    const chunk = Buffer.alloc(64 << 10, 1);
    let written = 0;
    while (duplex.write(chunk)) {
      written += chunk.length;
      expect(written).toBeLessThan(128 << 20);
      await new Promise((resolve) => setImmediate(resolve));
    }
    listener.accepted[0]!.resume();
    await new Promise((resolve) => duplex.once('drain', resolve));
    expect(peer!.length()).toBeGreaterThan(0);
  });

  it('a refused connection rejects the pipeline with ECONNREFUSED', async () => {
    const listener = await listen();
    await listener.close();
    const sink = new Writable({ write: (_data, _encoding, callback) => callback() });
    await expect(pipeline(Readable.from(['hello\n']), toDuplex(TCPClient('127.0.0.1', listener.port)), sink)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('destroying the stream stops the component and closes its socket', async () => {
    let peer: ReturnType<typeof collect> | undefined;
    const listener = await listen((socket) => (peer = collect(socket)));
    cleanups.push(() => listener.close());
    const duplex = toDuplex(TCPClient('127.0.0.1', listener.port));
    duplex.on('error', () => {});
    await until(() => peer !== undefined, 'connected');
    duplex.destroy();
    await peer!.ended;
  });
});
