// Which identity a TLS client checks and announces, against a real `openssl s_server`: makessl must
// check the host the client was given (an IP address or a name) exactly as `secure: true` does, send
// that name as SNI (never an IP literal, RFC 6066), and let tls.servername / tls.host override it.
// `secure: true` announces its finished handshake on sslready as makessl does.
import { describe, expect } from 'vitest';
import { TCPClient, producerFinished, run, type SslReady } from 'kamaelia-xstate';
import { testPki } from './helpers/certs.js';
import { cleanupsAfterEach } from './helpers/cleanups.js';
import { itWith, opensslServer } from './helpers/externalPeers.js';

const cleanups = cleanupsAfterEach();
const it = itWith('openssl');

async function server(cert: { key: string; cert: string }, sni?: { servername: string; key: string; cert: string }): Promise<number> {
  const peer = await opensslServer({ ...cert, ...(sni ? { sni } : {}) });
  cleanups.push(peer.stop);
  return peer.port;
}

/** Connects in plain TCP, sends makessl at once; resolves with sslready or the terminal signal. */
async function makessl(host: string, port: number, tls: object): Promise<{ ready?: SslReady; signal?: unknown; echo?: string }> {
  const handle = run(TCPClient(host, port, { tls }));
  cleanups.push(() => handle.stop());
  handle.send('makessl', 'now');
  const ready = handle.next('sslready', { timeoutMs: 10_000 });
  const signal = handle.next('signal', { timeoutMs: 10_000 });
  const first: { ready?: SslReady; signal?: unknown } = await Promise.race([ready.then((r) => ({ ready: r })), signal.then((s) => ({ signal: s }))]);
  if (!first.ready) return first;
  ready.catch(() => {});
  signal.catch(() => {});
  handle.send('inbox', 'hello\n');
  const echo = Buffer.from(await handle.next('outbox', { timeoutMs: 10_000 })).toString();
  handle.send('control', producerFinished());
  return { ready: first.ready, echo };
}

describe('makessl checks the host the client was given', () => {
  it('TCPClient("127.0.0.1") + makessl accepts a certificate for IP:127.0.0.1 only', async () => {
    const pki = await testPki();
    const port = await server(pki.ipOnlyServer);
    const result = await makessl('127.0.0.1', port, { ca: pki.ca });
    expect(result.signal).toBeUndefined();
    expect(result.ready).toMatchObject({ kind: 'sslReady', authorized: true });
    expect(result.echo).toBe('olleh\n');
  });

  it('TCPClient("127.0.0.1") + makessl rejects a certificate for DNS:localhost only', async () => {
    const pki = await testPki();
    const port = await server(pki.dnsOnlyServer);
    const result = await makessl('127.0.0.1', port, { ca: pki.ca });
    expect(result.ready).toBeUndefined();
    expect(result.signal).toMatchObject({ kind: 'producerFinished', reason: { code: 'ERR_TLS_CERT_ALTNAME_INVALID' } });
    expect((result.signal as { reason: { message: string } }).reason.message).toMatch(/IP: 127\.0\.0\.1 is not in the cert's list/);
  });

  it('TCPClient("localhost") + makessl sends SNI "localhost": a multi-name server presents the localhost certificate', async () => {
    const pki = await testPki();
    // Without SNI s_server presents default.test's certificate, which does not name localhost.
    const port = await server(pki.otherNameServer, { servername: 'localhost', ...pki.dnsOnlyServer });
    const result = await makessl('localhost', port, { ca: pki.ca });
    expect(result.signal).toBeUndefined();
    expect(result.ready).toMatchObject({ kind: 'sslReady', authorized: true });
  });

  it('tls.servername overrides: TCPClient("127.0.0.1", { tls: { servername: "localhost" } }) gets and checks the localhost certificate', async () => {
    const pki = await testPki();
    const port = await server(pki.otherNameServer, { servername: 'localhost', ...pki.dnsOnlyServer });
    const result = await makessl('127.0.0.1', port, { ca: pki.ca, servername: 'localhost' });
    expect(result.signal).toBeUndefined();
    expect(result.ready).toMatchObject({ kind: 'sslReady', authorized: true });
  });

  it('tls.host names the identity to check: TCPClient("127.0.0.1", { tls: { host: "default.test" } })', async () => {
    const pki = await testPki();
    const port = await server(pki.otherNameServer);
    const result = await makessl('127.0.0.1', port, { ca: pki.ca, host: 'default.test' });
    expect(result.signal).toBeUndefined();
    expect(result.ready).toMatchObject({ kind: 'sslReady', authorized: true });
  });
});

describe('secure: true', () => {
  it('emits sslready once the handshake is done, with the protocol and whether the server was authorized', async () => {
    const pki = await testPki();
    const port = await server(pki.ipOnlyServer);
    const handle = run(TCPClient('127.0.0.1', port, { secure: true, tls: { ca: pki.ca } }));
    cleanups.push(() => handle.stop());
    const ready = await handle.next('sslready', { timeoutMs: 10_000 });
    expect(ready).toEqual({ kind: 'sslReady', protocol: expect.stringMatching(/^TLSv1\.[23]$/), authorized: true });
    handle.send('inbox', 'secure\n');
    expect(Buffer.from(await handle.next('outbox', { timeoutMs: 10_000 })).toString()).toBe('eruces\n');
    handle.send('control', producerFinished());
    expect((await handle.done).status).toBe('done');
  });

  it('reports authorized: false when verification was turned off and the certificate is not trusted', async () => {
    const pki = await testPki();
    const port = await server(pki.untrustedServer);
    const handle = run(TCPClient('127.0.0.1', port, { secure: true, tls: { rejectUnauthorized: false } }));
    cleanups.push(() => handle.stop());
    expect(await handle.next('sslready', { timeoutMs: 10_000 })).toMatchObject({ kind: 'sslReady', authorized: false });
  });
});
