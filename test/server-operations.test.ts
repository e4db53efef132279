// Operating a running server over real sockets: shutdownOn(SIGTERM) in a child process (keeps
// accepting for `delay`, then drains, exits 0), suspend/resume accepting, replacing the TLS
// certificate of a running server, SNI certificates per host name, and Unix domain sockets.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { generate } from 'selfsigned';
import {
  ConnectedServer,
  EchoProtocol,
  SingleServer,
  TCPClient,
  replaceTlsCredentials,
  resumeAccepting,
  run,
  serverShutdown,
  serverStats,
  suspendAccepting,
  type AnyComponent,
  type Listening,
  type PeerInfo,
  type RunHandle,
  type SignalMessage,
} from 'kamaelia-xstate';
import { closed, connect, readBytes, testCertificates, until } from './server-helpers.js';
import { cleanupsAfterEach } from './helpers/cleanups.js';
import { v1 } from './helpers/proxyHeaders.js';
import { spawnTsx } from './helpers/tsxChild.js';
import { StartTlsProtocol as StartTlsEcho } from '../examples/startTlsServer.js';

type Server = RunHandle<{ control: SignalMessage }, { listening: Listening; signal: unknown }>;
const cleanups = cleanupsAfterEach();

async function start(component: AnyComponent): Promise<{ server: Server; listening: Listening }> {
  const server = run(component) as unknown as Server;
  cleanups.push(() => server.stop());
  const listening = await server.next('listening', { timeoutMs: 5000 });
  return { server, listening };
}

function track<T extends net.Socket>(socket: T): T {
  cleanups.push(() => void socket.destroy());
  return socket;
}

async function echoes(socket: net.Socket, text: string): Promise<void> {
  socket.write(text);
  expect((await readBytes(socket, text.length)).toString()).toBe(text);
}

/** Resolves with the error code of a connection attempt, or 'connected'. */
function tryConnect(options: net.NetConnectOpts): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(options);
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });
}

async function eventually(attempt: () => Promise<string>, wanted: string, what: string): Promise<void> {
  let last = '';
  const deadline = Date.now() + 15_000;
  while ((last = await attempt()) !== wanted && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  expect(last, what).toBe(wanted);
}

async function certificate(commonName: string, altNames: string[]): Promise<{ key: string; cert: string }> {
  const made = await generate([{ name: 'commonName', value: commonName }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: altNames.map((value) => ({ type: 2, value })) }],
  });
  return { key: made.private, cert: made.cert };
}

/** Connects with TLS (not verifying: these tests look at which certificate was presented) and resolves with it. */
function tlsPeer(port: number, servername?: string): Promise<{ socket: tls.TLSSocket; commonName: string; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const socket = track(tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false, ...(servername ? { servername } : {}) }));
    socket.once('secureConnect', () => {
      const peer = socket.getPeerCertificate();
      resolve({ socket, commonName: String(peer.subject.CN), fingerprint: peer.fingerprint256 });
    });
    socket.once('error', reject);
  });
}

describe('shutdownOn', () => {
  it('on SIGTERM keeps accepting for `delay`, then refuses new clients, drains the open one and exits 0', async () => {
    const { child, output, exit } = spawnTsx('test/fixtures/shutdown-on-sigterm.ts', ['5000']);
    cleanups.push(() => void child.kill('SIGKILL'));
    await until(() => /listening on 127\.0\.0\.1:\d+/.test(output()), 'the child to listen', 20_000);
    const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(output())![1]);
    const before = track(await connect(port));
    await echoes(before, 'before the signal');

    child.kill('SIGTERM');
    await until(() => output().includes('signal SIGTERM'), 'the child to hear SIGTERM');
    const during = track(await connect(port)); // within the delay: still accepted and served
    await echoes(during, 'during the delay');
    during.end();
    await closed(during);

    await eventually(() => tryConnect({ port, host: '127.0.0.1' }), 'ECONNREFUSED', 'new clients refused after the delay');
    await echoes(before, 'while draining'); // the open connection is still served
    before.end();
    await closed(before);
    expect(await exit).toBe(0);
  }, 30_000);
});

describe('suspendAccepting / resumeAccepting', () => {
  it('closes the listening socket while open connections go on, then listens again on the same port', async () => {
    const { server, listening } = await start(ConnectedServer({ host: '127.0.0.1', protocol: () => EchoProtocol() }));
    const open = track(await connect(listening.port));
    await echoes(open, 'one');
    expect(suspendAccepting(server.actor)).toBe(true);
    await eventually(() => tryConnect({ port: listening.port, host: '127.0.0.1' }), 'ECONNREFUSED', 'refused while suspended');
    await echoes(open, 'two');
    expect(resumeAccepting(server.actor)).toBe(true);
    await eventually(() => tryConnect({ port: listening.port, host: '127.0.0.1' }), 'connected', 'accepted again');
    const later = track(await connect(listening.port));
    await echoes(later, 'three');
    expect(serverStats(server.actor)).toMatchObject({ open: 2 });
    // A graceful shutdown while suspended still drains and ends.
    suspendAccepting(server.actor);
    server.send('control', serverShutdown());
    open.end();
    later.end();
    await expect(server.done).resolves.toMatchObject({ status: 'done' });
  });

  it('returns false for something that is not a running server', () => {
    const handle = run(EchoProtocol());
    cleanups.push(() => handle.stop());
    expect(suspendAccepting(handle.actor)).toBe(false);
  });
});

describe('replaceTlsCredentials', () => {
  it('gives new connections the new certificate; an open connection keeps its own', async () => {
    const [first, second] = [await certificate('first', ['localhost']), await certificate('second', ['localhost'])];
    const { server, listening } = await start(ConnectedServer({ host: '127.0.0.1', tls: { secure: true, ...first }, protocol: () => EchoProtocol() }));
    const old = await tlsPeer(listening.port);
    expect(old.commonName).toBe('first');
    expect(replaceTlsCredentials(server.actor, second)).toBe(true);
    const renewed = await tlsPeer(listening.port);
    expect(renewed.commonName).toBe('second');
    await echoes(old.socket, 'still on the first certificate');
    expect(old.socket.getPeerCertificate().subject.CN).toBe('first');
    expect(() => replaceTlsCredentials(server.actor, { key: 'not a key', cert: second.cert })).toThrow(/replaceTlsCredentials: not a usable key and certificate/);
    await echoes(renewed.socket, 'server unharmed');
  });
});

async function startTlsPeer(port: number, header?: Buffer): Promise<tls.TLSSocket> {
  const plain = track(await connect(port));
  plain.write(header ? Buffer.concat([header, Buffer.from('STARTTLS\n')]) : 'STARTTLS\n');
  expect((await readBytes(plain, 3)).toString()).toBe('GO\n');
  return new Promise((resolve, reject) => {
    const secured = track(tls.connect({ socket: plain, rejectUnauthorized: false, servername: 'localhost' }));
    secured.once('secureConnect', () => resolve(secured));
    secured.once('error', reject);
  });
}

describe('replaceTlsCredentials with STARTTLS', () => {
  it('upgrades connections made after it with the new certificate; one upgraded before keeps the old', async () => {
    const [first, second] = [await certificate('first', ['localhost']), await certificate('second', ['localhost'])];
    const { server, listening } = await start(ConnectedServer({ host: '127.0.0.1', tls: first, protocol: () => StartTlsEcho() }));
    const old = await startTlsPeer(listening.port);
    expect(old.getPeerCertificate().subject.CN).toBe('first');
    expect(replaceTlsCredentials(server.actor, second)).toBe(true);
    const renewed = await startTlsPeer(listening.port);
    expect(renewed.getPeerCertificate().subject.CN).toBe('second');
    await echoes(old, 'old one still served');
  });

  it('reads a PROXY header before the plain-text part of a STARTTLS connection', async () => {
    const certs = await testCertificates();
    const infos: PeerInfo[] = [];
    const { listening } = await start(
      ConnectedServer({
        host: '127.0.0.1',
        tls: { key: certs.serverKey, cert: certs.serverCert },
        proxyProtocol: { trusted: ['127.0.0.1'] },
        protocol: (info) => (infos.push(info), StartTlsEcho()),
      }),
    );
    const secured = await startTlsPeer(listening.port, v1('TCP4', '192.0.2.9', '127.0.0.1', 4321, listening.port));
    await echoes(secured, 'proxied and upgraded');
    expect(infos[0]).toMatchObject({ peer: '192.0.2.9', peerPort: 4321, proxy: '127.0.0.1' });
  });
});

describe('SNI', () => {
  it('presents the certificate for the host name asked (map with a wildcard, or a function), the default otherwise', async () => {
    const certs = await testCertificates();
    const [alpha, beta, gamma] = [await certificate('alpha', ['alpha.test']), await certificate('beta', ['*.beta.test']), await certificate('gamma', ['gamma.test'])];
    const { listening } = await start(
      ConnectedServer({ host: '127.0.0.1', tls: { secure: true, key: certs.serverKey, cert: certs.serverCert, sni: { 'alpha.test': alpha, '*.beta.test': beta } }, protocol: () => EchoProtocol() }),
    );
    expect((await tlsPeer(listening.port, 'alpha.test')).commonName).toBe('alpha');
    expect((await tlsPeer(listening.port, 'ALPHA.test')).commonName).toBe('alpha');
    expect((await tlsPeer(listening.port, 'www.beta.test')).commonName).toBe('beta');
    expect((await tlsPeer(listening.port, 'other.test')).commonName).toBe('localhost');
    const { socket } = await tlsPeer(listening.port, 'alpha.test');
    await echoes(socket, 'served under alpha');

    const asked: string[] = [];
    const byFunction = await start(
      ConnectedServer({
        host: '127.0.0.1',
        tls: { secure: true, key: certs.serverKey, cert: certs.serverCert, sni: (name) => (asked.push(name), name === 'gamma.test' ? gamma : undefined) },
        protocol: () => EchoProtocol(),
      }),
    );
    expect((await tlsPeer(byFunction.listening.port, 'gamma.test')).commonName).toBe('gamma');
    expect((await tlsPeer(byFunction.listening.port, 'alpha.test')).commonName).toBe('localhost');
    expect(asked).toEqual(['gamma.test', 'alpha.test']);
  });

  it('refuses an unusable certificate in the map at construction, naming the host', () => {
    expect(() => ConnectedServer({ tls: { secure: true, sni: { 'bad.test': { key: 'nope', cert: 'nope' } } }, protocol: () => EchoProtocol() })).toThrow(
      /tls\.sni\["bad\.test"\] is not a usable key and certificate/,
    );
  });
});

describe('Unix domain sockets (path)', () => {
  const socketPath = (): string => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kamaelia-unix-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return path.join(dir, 'server.sock');
  };

  it('ConnectedServer listens on a path; node:net and TCPClient reach it; shutdown removes it', async () => {
    const where = socketPath();
    const infos: unknown[] = [];
    const { server, listening } = await start(ConnectedServer({ path: where, protocol: (info) => (infos.push(info), EchoProtocol()) }));
    expect(listening).toEqual({ kind: 'listening', address: where, port: 0, family: 'Unix' });
    const raw = track(await new Promise<net.Socket>((resolve, reject) => net.connect({ path: where }).once('connect', function (this: net.Socket) { resolve(this); }).once('error', reject)));
    await echoes(raw, 'over a unix socket');
    expect(infos[0]).toMatchObject({ peer: '', peerPort: 0, localIp: where, localPort: 0 });

    const client = run(TCPClient('localhost', 0, { path: where }));
    cleanups.push(() => client.stop());
    client.send('inbox', 'from TCPClient');
    expect(Buffer.from(await client.next('outbox', { timeoutMs: 5000 })).toString()).toBe('from TCPClient');
    client.send('control', serverShutdown());

    server.send('control', serverShutdown());
    raw.end();
    await server.done;
    expect(existsSync(where)).toBe(false);
  });

  it('SingleServer takes a path too; a bad path or one given with a port is refused', async () => {
    const where = socketPath();
    const single = run(SingleServer({ path: where }));
    cleanups.push(() => single.stop());
    expect(await single.next('listening', { timeoutMs: 5000 })).toMatchObject({ address: where, family: 'Unix' });
    const raw = track(await new Promise<net.Socket>((resolve, reject) => net.connect({ path: where }).once('connect', function (this: net.Socket) { resolve(this); }).once('error', reject)));
    raw.write('to single');
    expect(Buffer.from(await single.next('outbox', { timeoutMs: 5000 })).toString()).toBe('to single');
    expect(() => ConnectedServer({ path: where, port: 8080, protocol: () => EchoProtocol() })).toThrow(/path \(a Unix domain socket\) cannot be given with port/);
    expect(() => TCPClient('localhost', 0, { path: '' })).toThrow(/TCPClient: path must be a non-empty string/);
    expect(() => TCPClient('localhost', 0)).toThrow(/port must be an integer from 1/);
  });
});
