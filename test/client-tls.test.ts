// TCPClient and TLS over loopback: makessl (STARTTLS) in place with sslready after the handshake,
// bytes received before the upgrade neither lost nor misrouted, and `secure: true` from the start.
import * as net from 'node:net';
import * as tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import type { AnyActorRef } from 'xstate';
import { TCPClient, producerFinished, run } from 'kamaelia-xstate';
import { testPki, type TestPki } from './helpers/certs.js';
import { cleanupsAfterEach } from './helpers/cleanups.js';

const cleanups = cleanupsAfterEach();

/**
 * A STARTTLS server: greets in plain text (unless `eager`), reads up to "STARTTLS\n" and hands
 * the rest of the stream to TLS (installed before it answers "GO\n", so the ClientHello cannot be
 * read as plain text). With `eager` it expects a client that starts TLS without waiting for GO.
 * After the handshake it echoes with an "echo:" prefix.
 */
async function startTlsServer(pki: TestPki, eager = false): Promise<{ port: number; plainSeen: () => string }> {
  let plain = '';
  const raws: net.Socket[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (raw) => {
    raws.push(raw);
    raw.on('error', () => {});
    if (!eager) raw.write('WELCOME (plain)\n');
    const onData = (chunk: Buffer): void => {
      const text = chunk.toString('latin1');
      const end = (plain + text).indexOf('STARTTLS\n');
      if (end < 0) {
        plain += text;
        return;
      }
      const cut = end + 'STARTTLS\n'.length - plain.length;
      plain += text.slice(0, cut);
      raw.off('data', onData);
      raw.pause();
      if (cut < chunk.length) raw.unshift(chunk.subarray(cut));
      const secure = new tls.TLSSocket(raw, { isServer: true, key: pki.server.key, cert: pki.server.cert });
      secure.on('error', () => {});
      secure.on('data', (data: Buffer) => secure.write(`echo:${data.toString()}`));
      secure.on('end', () => secure.end());
      if (!eager) raw.write('GO\n');
    };
    raw.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => (raws.forEach((r) => r.destroy()), server.close(() => resolve()))));
  return { port: (server.address() as net.AddressInfo).port, plainSeen: () => plain };
}

describe('TCPClient TLS', () => {
  it('makessl upgrades in place: plain bytes before, sslready after the handshake, nothing queued after makessl in clear', async () => {
    const pki = await testPki();
    const server = await startTlsServer(pki);
    const states: string[] = [];
    const handle = run(TCPClient('127.0.0.1', server.port, { tls: { ca: pki.ca, servername: 'localhost' } }), {
      inspect: (event) => {
        if (event.type === '@xstate.snapshot' && (event.actorRef as AnyActorRef).id === 'csa') states.push(JSON.stringify((event.snapshot as unknown as { value: unknown }).value));
      },
    });
    cleanups.push(() => handle.stop());
    expect(Buffer.from(await handle.next('outbox', { timeoutMs: 5000 })).toString()).toBe('WELCOME (plain)\n');
    handle.send('inbox', 'STARTTLS\n');
    expect(Buffer.from(await handle.next('outbox', { timeoutMs: 5000 })).toString()).toBe('GO\n');
    handle.send('makessl', 'now');
    handle.send('inbox', 'top secret');
    const ready = await handle.next('sslready', { timeoutMs: 5000 });
    expect(ready).toMatchObject({ kind: 'sslReady', authorized: true });
    expect(Buffer.from(await handle.next('outbox', { timeoutMs: 5000 })).toString()).toBe('echo:top secret');
    expect(server.plainSeen()).not.toContain('top secret');
    expect(states).toContain('"upgradingTls"'); // the CSA's chart: the connection's own lifecycle
    handle.send('control', producerFinished());
    const signal = await handle.next('signal', { timeoutMs: 5000 });
    expect(signal.kind).toBe('producerFinished');
    expect((signal as { reason?: unknown }).reason).toBeUndefined();
  });

  it('producerFinished during the handshake: what was sent goes out encrypted once it is done, then our FIN; a clean end', async () => {
    const pki = await testPki();
    const server = await startTlsServer(pki);
    const handle = run(TCPClient('127.0.0.1', server.port, { tls: { ca: pki.ca, servername: 'localhost' } }));
    cleanups.push(() => handle.stop());
    expect(Buffer.from(await handle.next('outbox', { timeoutMs: 5000 })).toString()).toBe('WELCOME (plain)\n');
    handle.send('inbox', 'STARTTLS\n');
    expect(Buffer.from(await handle.next('outbox', { timeoutMs: 5000 })).toString()).toBe('GO\n');
    handle.send('makessl', 'now');
    handle.send('inbox', 'last words');
    handle.send('control', producerFinished()); // the handshake has only just begun
    expect(Buffer.from(await handle.next('outbox', { timeoutMs: 5000 })).toString()).toBe('echo:last words');
    expect(await handle.done).toEqual({ status: 'done' });
    expect(server.plainSeen()).not.toContain('last words');
  });

  it('makessl sent before the connection exists upgrades once connected, after the plain bytes queued before it', async () => {
    const pki = await testPki();
    const server = await startTlsServer(pki, true);
    const handle = run(TCPClient('127.0.0.1', server.port, { delay: 20, tls: { ca: pki.ca, servername: 'localhost' } }));
    cleanups.push(() => handle.stop());
    handle.send('inbox', 'STARTTLS\n');
    handle.send('makessl', 'early');
    handle.send('inbox', 'after makessl');
    expect(handle.actor.getSnapshot().value).toBe('delaying');
    await handle.next('sslready', { timeoutMs: 5000 });
    expect(Buffer.from(await handle.next('outbox', { timeoutMs: 5000 })).toString()).toBe('echo:after makessl');
    expect(server.plainSeen()).toContain('STARTTLS\n');
    expect(server.plainSeen()).not.toContain('after makessl');
  });

  it('secure: true speaks TLS from the start and verifies the server by host name', async () => {
    const pki = await testPki();
    const server = tls.createServer({ key: pki.server.key, cert: pki.server.cert }, (socket) => {
      socket.on('error', () => {});
      socket.on('data', (data: Buffer) => socket.write(`tls-echo:${data.toString()}`));
      socket.on('end', () => socket.end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as net.AddressInfo).port;
    const handle = run(TCPClient('localhost', port, { secure: true, tls: { ca: pki.ca } }));
    cleanups.push(() => handle.stop());
    handle.send('inbox', 'hi');
    expect(Buffer.from(await handle.next('outbox', { timeoutMs: 5000 })).toString()).toBe('tls-echo:hi');
    handle.send('makessl', 'again?');
    expect(await handle.next('signal', { timeoutMs: 5000 })).toMatchObject({ kind: 'badMessage', box: 'makessl' });
    handle.send('control', producerFinished());
    expect((await handle.done).status).toBe('done');
  });
});

describe('TCPClient TLS handshake timeout', () => {
  it('a peer that never answers the ClientHello ends the client with ETIMEDOUT after handshakeTimeout', async () => {
    const silent = net.createServer((socket) => socket.on('error', () => {}));
    const sockets: net.Socket[] = [];
    silent.on('connection', (socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => (sockets.forEach((s) => s.destroy()), silent.close(() => resolve()))));
    const port = (silent.address() as net.AddressInfo).port;
    const handle = run(TCPClient('127.0.0.1', port, { handshakeTimeout: 200 }));
    handle.send('makessl', 'go');
    const signal = await handle.next('signal', { timeoutMs: 5000 });
    expect(signal).toMatchObject({ kind: 'producerFinished', reason: { code: 'ETIMEDOUT' } });
    expect((signal as { reason: { message: string } }).reason.message).toMatch(/TLS handshake did not complete within 200 ms/);
    expect(handle.actor.getSnapshot().value).toBe('failed');
  });
});
