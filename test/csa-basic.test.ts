// ConnectedSocketAdapter over a real loopback connection: data both ways, graceful close,
// shutdownMicroprocess, half-close, bad messages.
import { describe, expect, it } from 'vitest';
import { ConnectedSocketAdapter, producerFinished, run, shutdownMicroprocess, isBadMessage, isShutdownCSA } from 'kamaelia-xstate';
import { collect, pattern, socketPair, until } from './helpers/net.js';
import { cleanupsAfterEach } from './helpers/cleanups.js';

const cleanups = cleanupsAfterEach();

async function csaOnPair() {
  const pair = await socketPair();
  cleanups.push(pair.close);
  const handle = run(ConnectedSocketAdapter(pair.local));
  cleanups.push(() => handle.stop());
  return { ...pair, handle };
}

describe('ConnectedSocketAdapter', () => {
  it('delivers what the peer sends on outbox and writes what arrives on inbox', async () => {
    const { peer, handle } = await csaOnPair();
    const received = collect(peer);
    peer.write('hello from peer');
    expect(Buffer.from(await handle.next('outbox', { timeoutMs: 5000 })).toString()).toBe('hello from peer');
    handle.send('inbox', 'text, ');
    handle.send('inbox', new Uint8Array([0x62, 0x79, 0x74, 0x65, 0x73]));
    await until(() => received.length() === 11, 'the peer to receive 11 bytes');
    expect(received.bytes().toString()).toBe('text, bytes');
  });

  it('producerFinished writes every queued byte, then FIN, then ends with one clean socketShutdown', async () => {
    const { peer, handle } = await csaOnPair();
    const received = collect(peer);
    const payload = pattern(4 * 1024 * 1024);
    for (let offset = 0; offset < payload.length; offset += 65536) handle.send('inbox', payload.subarray(offset, offset + 65536));
    handle.send('control', producerFinished());
    await received.ended;
    expect(received.length()).toBe(payload.length);
    expect(received.bytes().equals(payload)).toBe(true);
    peer.end();
    const feedback = await handle.next('CreatorFeedback', { timeoutMs: 5000 });
    expect(feedback).toMatchObject({ kind: 'socketShutdown', unsentBytes: 0 });
    expect(feedback.reason).toBeUndefined();
    const signal = await handle.next('signal', { timeoutMs: 5000 });
    expect(isShutdownCSA(signal)).toBe(true);
    expect(await handle.done).toEqual({ status: 'done' });
  });

  it('after our FIN, bytes still arriving from the peer are delivered until it closes', async () => {
    const { peer, handle } = await csaOnPair();
    const seen: Buffer[] = [];
    const reading = (async () => {
      for await (const chunk of handle.messages('outbox')) seen.push(Buffer.from(chunk));
    })();
    const peerSawEnd = new Promise((resolve) => peer.once('end', resolve));
    peer.resume();
    handle.send('control', producerFinished());
    await peerSawEnd;
    peer.end('late reply');
    await handle.done;
    await reading;
    expect(Buffer.concat(seen).toString()).toBe('late reply');
  });

  it('shutdownMicroprocess closes at once and reports the queued bytes it did not send', async () => {
    const { peer, handle } = await csaOnPair();
    peer.pause(); // the peer reads nothing, so our write buffer fills
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    for (let i = 0; i < 16; i++) handle.send('inbox', chunk);
    handle.send('control', shutdownMicroprocess());
    const feedback = await handle.next('CreatorFeedback', { timeoutMs: 5000 });
    expect(feedback.kind).toBe('socketShutdown');
    expect(feedback.unsentBytes).toBeGreaterThan(0);
    expect(feedback.unsentBytes).toBeLessThanOrEqual(16 * 1024 * 1024);
    expect((await handle.done).status).toBe('done');
  });

  it('a peer half-close is not a close: its bytes are delivered and queued writes finish', async () => {
    const { peer, handle } = await csaOnPair();
    // The peer reads nothing yet, so most of the reply is still queued on our side at its FIN.
    peer.pause();
    const reply = pattern(16 * 1024 * 1024, 7);
    handle.send('inbox', reply);
    peer.end('last words');
    expect(Buffer.from(await handle.next('outbox', { timeoutMs: 5000 })).toString()).toBe('last words');
    const received = collect(peer);
    peer.resume();
    await received.ended;
    expect(received.bytes().equals(reply)).toBe(true);
    const feedback = await handle.next('CreatorFeedback', { timeoutMs: 5000 });
    expect(feedback.reason).toBeUndefined();
    await handle.done;
  });

  it('reports a message that is neither bytes nor string on signal, drops it, and keeps the stream intact', async () => {
    const { peer, handle } = await csaOnPair();
    const received = collect(peer);
    handle.send('inbox', 'before,');
    (handle.send as (box: string, message: unknown) => void)('inbox', { not: 'bytes' });
    handle.send('inbox', 'after');
    const signal = await handle.next('signal', { timeoutMs: 5000 });
    expect(isBadMessage(signal)).toBe(true);
    expect(signal).toMatchObject({ kind: 'badMessage', box: 'inbox', reason: { code: 'EBADMESSAGE' } });
    expect((signal as { reason: { message: string } }).reason.message).toMatch(/Uint8Array or string, got Object; dropped/);
    await until(() => received.length() === 12, 'the peer to receive both good messages');
    expect(received.bytes().toString()).toBe('before,after');
  });

  it('rejects something that is not a socket at construction', () => {
    expect(() => ConnectedSocketAdapter({} as never)).toThrow(/socket must be a connected net.Socket/);
  });
});
