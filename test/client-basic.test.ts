// TCPClient over real loopback sockets: data both ways, queued data before the connection, the
// single terminal message, graceful close and shutdownMicroprocess.
import { describe, expect, it } from 'vitest';
import { OneShot, Pipeline, TCPClient, isBadMessage, producerFinished, run, shutdownMicroprocess, type SignalMessage } from 'kamaelia-xstate';
import { collect, listen, pattern, until, type Listener } from './helpers/net.js';
import { cleanupsAfterEach } from './helpers/cleanups.js';

const cleanups = cleanupsAfterEach();

async function server(onConnection?: Parameters<typeof listen>[0], host?: string): Promise<Listener> {
  const listener = await listen(onConnection, host);
  cleanups.push(listener.close);
  return listener;
}

async function allSignals(handle: { messages: (box: 'signal') => AsyncIterable<SignalMessage> }): Promise<SignalMessage[]> {
  const all: SignalMessage[] = [];
  for await (const message of handle.messages('signal')) all.push(message);
  return all;
}

describe('TCPClient', () => {
  it('talks both ways and ends with exactly one clean producerFinished when the server closes', async () => {
    const listener = await server((socket) => {
      socket.write('greeting');
      socket.once('data', (data) => socket.end(`reply:${data.toString()}`));
    });
    const handle = run(TCPClient('127.0.0.1', listener.port));
    const signals = allSignals(handle);
    expect(Buffer.from(await handle.next('outbox', { timeoutMs: 5000 })).toString()).toBe('greeting');
    handle.send('inbox', 'client-data');
    const replies: Buffer[] = [];
    for await (const chunk of handle.messages('outbox')) replies.push(Buffer.from(chunk));
    expect(Buffer.concat(replies).toString()).toBe('reply:client-data');
    expect(await handle.done).toEqual({ status: 'done' });
    const all = await signals;
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ kind: 'producerFinished', source: 'TCPClient', unsentBytes: 0 });
    expect((all[0] as { reason?: unknown }).reason).toBeUndefined();
  });

  it('Pipeline(OneShot(data), TCPClient) delivers the data, then closes (a producerFinished before the connection keeps the data)', async () => {
    const listener = await server();
    const received = listener.nextConnection().then((socket) => {
      const got = collect(socket);
      return got.ended.then(() => (socket.end(), got.bytes().toString()));
    });
    const handle = run(Pipeline(OneShot('hello, server'), TCPClient('127.0.0.1', listener.port, { delay: 50 })));
    expect(await received).toBe('hello, server');
    expect((await handle.done).status).toBe('done');
  });

  it('keeps data and a producerFinished sent during the delay, and sends them once connected', async () => {
    const listener = await server();
    const handle = run(TCPClient('127.0.0.1', listener.port, { delay: 100 }));
    handle.send('inbox', 'queued-1;');
    handle.send('inbox', new Uint8Array(Buffer.from('queued-2;')));
    handle.send('control', producerFinished());
    expect(handle.actor.getSnapshot().value).toBe('delaying');
    const socket = await listener.nextConnection();
    const got = collect(socket);
    await got.ended;
    expect(got.bytes().toString()).toBe('queued-1;queued-2;');
    socket.end();
    expect((await handle.next('signal', { timeoutMs: 5000 })).kind).toBe('producerFinished');
  });

  it('shutdownMicroprocess during the delay ends at once without connecting, counting the queued bytes as unsent', async () => {
    const listener = await server();
    const handle = run(TCPClient('127.0.0.1', listener.port, { delay: 60_000 }));
    handle.send('inbox', '12345');
    handle.send('control', shutdownMicroprocess());
    const signal = await handle.next('signal', { timeoutMs: 5000 });
    expect(signal).toMatchObject({ kind: 'producerFinished', unsentBytes: 5 });
    await handle.done;
    expect(listener.accepted).toHaveLength(0);
  });

  it('producerFinished writes every queued byte (32 MiB), then FIN', async () => {
    const listener = await server();
    const payload = pattern(32 * 1024 * 1024, 11);
    const handle = run(TCPClient('127.0.0.1', listener.port));
    const socket = await listener.nextConnection();
    const got = collect(socket);
    for (let offset = 0; offset < payload.length; offset += 256 * 1024) handle.send('inbox', payload.subarray(offset, offset + 256 * 1024));
    handle.send('control', producerFinished());
    await got.ended;
    expect(got.length()).toBe(payload.length);
    expect(got.bytes().equals(payload)).toBe(true);
    socket.end();
    const signal = await handle.next('signal', { timeoutMs: 10_000 });
    expect(signal).toMatchObject({ kind: 'producerFinished', unsentBytes: 0 });
    expect((signal as { reason?: unknown }).reason).toBeUndefined();
  });

  it('shutdownMicroprocess closes promptly and says how many queued bytes were not sent', async () => {
    const listener = await server((socket) => socket.pause());
    const handle = run(TCPClient('127.0.0.1', listener.port));
    await listener.nextConnection();
    await until(() => handle.actor.getSnapshot().value === 'open', 'the client to connect');
    for (let i = 0; i < 32; i++) handle.send('inbox', Buffer.alloc(1024 * 1024, 0x41));
    handle.send('control', shutdownMicroprocess());
    const signal = await handle.next('signal', { timeoutMs: 5000 });
    expect(signal.kind).toBe('producerFinished');
    expect((signal as { unsentBytes: number }).unsentBytes).toBeGreaterThan(0);
    await handle.done;
  });

  it('a peer half-close is not a full close: what it sent arrives and queued writes finish', async () => {
    const reply = pattern(4 * 1024 * 1024, 13);
    const listener = await server();
    const handle = run(TCPClient('127.0.0.1', listener.port));
    const socket = await listener.nextConnection();
    const got = collect(socket);
    handle.send('inbox', reply);
    socket.end('peer is done sending');
    const outbox: Buffer[] = [];
    for await (const chunk of handle.messages('outbox')) outbox.push(Buffer.from(chunk));
    expect(Buffer.concat(outbox).toString()).toBe('peer is done sending');
    await got.ended;
    expect(got.bytes().equals(reply)).toBe(true);
    expect((await handle.next('signal', { timeoutMs: 5000 })).kind).toBe('producerFinished');
  });

  it('reports a bad inbox message on signal, drops it and keeps working', async () => {
    const listener = await server();
    const handle = run(TCPClient('127.0.0.1', listener.port));
    const socket = await listener.nextConnection();
    const got = collect(socket);
    handle.send('inbox', 'a');
    (handle.send as (box: string, message: unknown) => void)('inbox', 42);
    handle.send('inbox', 'b');
    const signal = await handle.next('signal', { timeoutMs: 5000 });
    expect(isBadMessage(signal)).toBe(true);
    expect((signal as { reason: { message: string } }).reason.message).toMatch(/inbox takes Uint8Array or string, got number 42/);
    await until(() => got.length() === 2, 'both good bytes');
    expect(got.bytes().toString()).toBe('ab');
    socket.write('still alive');
    expect(Buffer.from(await handle.next('outbox', { timeoutMs: 5000 })).toString()).toBe('still alive');
  });

  it('reports a bad message queued before the connection too', async () => {
    const listener = await server();
    const handle = run(TCPClient('127.0.0.1', listener.port, { delay: 20 }));
    (handle.send as (box: string, message: unknown) => void)('inbox', { nope: true });
    const signal = await handle.next('signal', { timeoutMs: 5000 });
    expect(signal).toMatchObject({ kind: 'badMessage', box: 'inbox', reason: { code: 'EBADMESSAGE' } });
  });
});
