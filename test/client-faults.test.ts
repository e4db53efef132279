// TCPClient's fault list over loopback: refused, DNS failure, connect timeout, peer RST mid-stream
// (without harming another connection), peer half-close, TLS with an untrusted CA, and garbage
// instead of a TLS handshake. Each ends with exactly one producerFinished carrying the code.
import { describe, expect, it } from 'vitest';
import * as net from 'node:net';
import { TCPClient, run, type SignalMessage } from 'kamaelia-xstate';
import { testPki } from './helpers/certs.js';
import { nxdomainServer } from './helpers/dnsServer.js';
import { fullBacklogListener } from './helpers/fullBacklog.js';
import { collect, listen, pattern, until } from './helpers/net.js';
import { cleanupsAfterEach } from './helpers/cleanups.js';

const cleanups = cleanupsAfterEach();


/** Waits for the end and returns every signal message (there must be exactly one terminal one). */
async function endSignals(handle: { messages: (box: 'signal') => AsyncIterable<SignalMessage>; done: Promise<unknown> }): Promise<SignalMessage[]> {
  const all: SignalMessage[] = [];
  for await (const message of handle.messages('signal')) all.push(message);
  await handle.done;
  return all;
}

function codeOf(message: SignalMessage | undefined): string | undefined {
  return (message as { reason?: { code: string } } | undefined)?.reason?.code;
}

async function closedPort(): Promise<number> {
  const listener = await listen();
  const port = listener.port;
  await listener.close();
  return port;
}

describe('TCPClient faults', () => {
  it('refused: one producerFinished with ECONNREFUSED, state failed', async () => {
    const handle = run(TCPClient('127.0.0.1', await closedPort()));
    const signals = await endSignals(handle);
    expect(signals).toHaveLength(1);
    expect(signals[0]).toMatchObject({ kind: 'producerFinished', reason: { code: 'ECONNREFUSED' } });
    expect(handle.actor.getSnapshot().value).toBe('failed');
  });

  it('DNS failure: ENOTFOUND from a loopback DNS server that knows no names', async () => {
    const dns = await nxdomainServer();
    cleanups.push(dns.close);
    const handle = run(TCPClient('no-such-host.invalid', 80, { lookup: dns.lookup }));
    const signals = await endSignals(handle);
    expect(signals).toHaveLength(1);
    expect(codeOf(signals[0])).toMatch(/^(ENOTFOUND|EAI_AGAIN)$/);
    expect(dns.queries()).toBeGreaterThan(0);
  });

  it('connect timeout: ETIMEDOUT against a listener whose accept queue is full', async () => {
    const backlog = await fullBacklogListener();
    cleanups.push(backlog.close);
    const handle = run(TCPClient('127.0.0.1', backlog.port, { connectTimeout: 300 }));
    expect(handle.actor.getSnapshot().value).toBe('connecting'); // no delay: at once
    const signals = await endSignals(handle);
    expect(signals).toHaveLength(1);
    expect(signals[0]).toMatchObject({ kind: 'producerFinished', reason: { code: 'ETIMEDOUT' } });
    expect(handle.actor.getSnapshot().value).toBe('failed');
  });

  it('peer RST mid-stream: ECONNRESET or EPIPE, and another connection is not harmed', async () => {
    const listener = await listen();
    cleanups.push(listener.close);
    const victim = run(TCPClient('127.0.0.1', listener.port));
    const victimPeer = await listener.nextConnection();
    const bystander = run(TCPClient('127.0.0.1', listener.port));
    const bystanderPeer = await listener.nextConnection();
    cleanups.push(() => victim.stop(), () => bystander.stop());
    victimPeer.write('some data first');
    expect(Buffer.from(await victim.next('outbox', { timeoutMs: 5000 })).toString()).toBe('some data first');
    const chunk = pattern(1024 * 1024);
    for (let i = 0; i < 8; i++) victim.send('inbox', chunk);
    victimPeer.resetAndDestroy();
    const signals = await endSignals(victim);
    expect(signals).toHaveLength(1);
    expect(codeOf(signals[0])).toMatch(/^(ECONNRESET|EPIPE)$/);
    // The other connection still works both ways.
    const got = collect(bystanderPeer);
    bystander.send('inbox', 'still here');
    await until(() => got.length() === 10, 'the bystander to be heard');
    bystanderPeer.write('and you?');
    expect(Buffer.from(await bystander.next('outbox', { timeoutMs: 5000 })).toString()).toBe('and you?');
  });

  it('TLS with an untrusted CA: the handshake fails with a certificate error code', async () => {
    const pki = await testPki();
    const server = (await import('node:tls')).createServer({ key: pki.server.key, cert: pki.server.cert }, (s) => s.end());
    server.on('tlsClientError', () => {});
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as net.AddressInfo).port;
    const handle = run(TCPClient('localhost', port, { secure: true, tls: { ca: pki.otherCa } }));
    const signals = await endSignals(handle);
    expect(signals).toHaveLength(1);
    expect(codeOf(signals[0])).toMatch(/CERT|SIGNATURE|ISSUER/);
  });

  it('garbage instead of a TLS handshake: the TLS error code ends the client', async () => {
    const listener = await listen((socket) => socket.once('data', () => socket.end('HTTP/1.1 400 Bad Request\r\n\r\nnot tls at all\r\n')));
    cleanups.push(listener.close);
    const handle = run(TCPClient('127.0.0.1', listener.port, { tls: { rejectUnauthorized: true } }));
    handle.send('makessl', 'go');
    const signals = await endSignals(handle);
    expect(signals).toHaveLength(1);
    expect(codeOf(signals[0])).toMatch(/^(ERR_SSL_|ECONNRESET|EPROTO)/);
  });

  it('unusable TLS options (a key that is not PEM) end the client with the OpenSSL code instead of hanging', async () => {
    const listener = await listen();
    cleanups.push(listener.close);
    const handle = run(TCPClient('127.0.0.1', listener.port, { secure: true, tls: { key: 'not a key', cert: 'not a cert' } }));
    const signals = await endSignals(handle);
    expect(signals).toHaveLength(1);
    expect(codeOf(signals[0])).toMatch(/^ERR_OSSL_/);
    expect(handle.actor.getSnapshot().value).toBe('failed');
  });
});
