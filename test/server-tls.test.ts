// TLS on the server side over loopback, with certificates made by the test: implicit TLS,
// client-certificate checking (requestCert + ca), the handshake timeout, and server-side STARTTLS.
import net from 'node:net';
import tls from 'node:tls';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConnectedServer, EchoProtocol, run, serverStats, type AnyComponent, type Listening, type RunHandle } from 'kamaelia-xstate';
import { AnswerAfterEnd } from './server-protocols.js';
import { closed, connect, readBytes, testCertificates, tlsConnect, until, type TestCertificates } from './server-helpers.js';
import { StartTlsProtocol as StartTlsEcho } from '../examples/startTlsServer.js';

type Server = RunHandle<object, { listening: Listening; signal: unknown }>;
const running: Server[] = [];
const sockets: net.Socket[] = [];
let certs: TestCertificates;

beforeAll(async () => {
  certs = await testCertificates();
});

afterEach(() => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const server of running.splice(0)) server.stop();
});

async function start(component: AnyComponent): Promise<{ server: Server; port: number }> {
  const server = run(component) as unknown as Server;
  running.push(server);
  const { port } = await server.next('listening', { timeoutMs: 5000 });
  return { server, port };
}

function track<T extends net.Socket>(socket: T): T {
  sockets.push(socket);
  return socket;
}

async function echoes(socket: net.Socket, text: string): Promise<void> {
  socket.write(text);
  expect((await readBytes(socket, text.length)).toString()).toBe(text);
}

/** Rejects (or closes) when the server refuses the client's certificate. */
async function refused(port: number, options: tls.ConnectionOptions): Promise<void> {
  const outcome = await new Promise<string>((resolve) => {
    const socket = track(tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ...options }));
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(`error ${error.code ?? error.message}`));
    socket.on('secureConnect', () => {
      // TLS 1.3: the server checks the client certificate after the client's handshake is done,
      // so a refusal arrives as an alert/close rather than a connect error. Ask for an echo.
      socket.write('anyone?');
      socket.on('data', () => resolve('served'));
      socket.on('close', () => resolve('closed'));
    });
  });
  expect(outcome).not.toBe('served');
}

describe('ConnectedServer with TLS', () => {
  it('implicit TLS: echoes to a client that verifies the server certificate', async () => {
    const { port } = await start(
      ConnectedServer({ host: '127.0.0.1', protocol: () => EchoProtocol(), tls: { secure: true, key: certs.serverKey, cert: certs.serverCert } }),
    );
    const socket = track(await tlsConnect(port, { ca: certs.ca }));
    expect(socket.authorized).toBe(true);
    await echoes(socket, 'over tls');
  });

  it('implicit TLS with requestCert + ca: a client certificate from the CA is served, others are refused', async () => {
    const { server, port } = await start(
      ConnectedServer({
        host: '127.0.0.1',
        protocol: () => EchoProtocol(),
        tls: { secure: true, key: certs.serverKey, cert: certs.serverCert, requestCert: true, ca: certs.ca },
      }),
    );
    const good = track(await tlsConnect(port, { ca: certs.ca, key: certs.clientKey, cert: certs.clientCert }));
    await echoes(good, 'trusted client');
    await refused(port, { ca: certs.ca });
    await refused(port, { ca: certs.ca, key: certs.strangerKey, cert: certs.strangerCert });
    await until(() => (serverStats(server.actor)?.handshakeFailures ?? 0) >= 2, 'both refusals to be counted');
    await echoes(good, 'still served');
  });

  it('closes a stalled TLS handshake after handshakeTimeout and counts it', async () => {
    const { server, port } = await start(
      ConnectedServer({
        host: '127.0.0.1',
        protocol: () => EchoProtocol(),
        tls: { secure: true, key: certs.serverKey, cert: certs.serverCert, handshakeTimeout: 150 },
      }),
    );
    const staller = track(await connect(port)); // plain TCP: never sends a ClientHello
    await closed(staller);
    await until(() => serverStats(server.actor)?.handshakeFailures === 1, 'the timeout to be counted');
    expect(serverStats(server.actor)?.lastHandshakeFailure?.code).toBe('ERR_TLS_HANDSHAKE_TIMEOUT');
    const fine = track(await tlsConnect(port, { ca: certs.ca }));
    await echoes(fine, 'not stalled');
  });

  it.each(['resets', 'half-closes'] as const)('counts a client that %s mid-handshake at once (ECONNRESET), not after handshakeTimeout', async (how) => {
    const { server, port } = await start(
      ConnectedServer({
        host: '127.0.0.1',
        protocol: () => EchoProtocol(),
        tls: { secure: true, key: certs.serverKey, cert: certs.serverCert, handshakeTimeout: 60_000 },
      }),
    );
    const quitter = track(await connect(port));
    quitter.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0xc8, 0x01])); // the start of a ClientHello
    if (how === 'resets') quitter.resetAndDestroy();
    else quitter.end();
    // Well inside the 60 s handshakeTimeout: the client going is a failure when it happens.
    await until(() => serverStats(server.actor)?.handshakeFailures === 1, 'the failure to be counted', 5000);
    expect(serverStats(server.actor)?.lastHandshakeFailure?.code).toBe('ECONNRESET');
    expect(serverStats(server.actor)?.open).toBe(0);
  });

  it.each(['closes', 'resets'] as const)('does not count a client that %s before sending a byte (a port probe, a plain TCP health check)', async (how) => {
    const { server, port } = await start(
      ConnectedServer({
        host: '127.0.0.1',
        protocol: () => EchoProtocol(),
        tls: { secure: true, key: certs.serverKey, cert: certs.serverCert, handshakeTimeout: 60_000 },
      }),
    );
    const probe = track(await connect(port));
    if (how === 'resets') probe.resetAndDestroy();
    else probe.end();
    await until(() => serverStats(server.actor)?.open === 0, 'the probe to be gone');
    // Then one that did start a handshake: counted, so the probe's not being counted is not a lag.
    const quitter = track(await connect(port));
    quitter.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0xc8, 0x01]));
    quitter.end();
    await until(() => serverStats(server.actor)?.handshakeFailures === 1, 'the real failure to be counted');
    expect(serverStats(server.actor)).toMatchObject({ handshakeFailures: 1, open: 0 });
  });

  it('implicit TLS: a handler still answers a client that half-closed after the handshake', async () => {
    const { port } = await start(
      ConnectedServer({
        host: '127.0.0.1',
        protocol: () => AnswerAfterEnd(50),
        tls: { secure: true, key: certs.serverKey, cert: certs.serverCert },
      }),
    );
    const client = track(await tlsConnect(port, { ca: certs.ca }));
    let answer = '';
    client.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
    client.end('question?');
    await ended;
    expect(answer).toBe('answer to question?');
  });

  describe('server-side STARTTLS', () => {
    async function upgrade(port: number, options: tls.ConnectionOptions): Promise<tls.TLSSocket> {
      const plain = track(await connect(port));
      plain.write('STARTTLS\n');
      expect((await readBytes(plain, 3)).toString()).toBe('GO\n');
      return new Promise((resolve, reject) => {
        const secured = track(tls.connect({ socket: plain, servername: 'localhost', ...options }));
        secured.once('secureConnect', () => resolve(secured));
        secured.once('error', reject);
      });
    }

    it('speaks plain text, then TLS after makessl, on the same connection', async () => {
      const { port } = await start(
        ConnectedServer({ host: '127.0.0.1', protocol: () => StartTlsEcho(), tls: { key: certs.serverKey, cert: certs.serverCert } }),
      );
      const plain = track(await connect(port));
      plain.write('hi');
      expect((await readBytes(plain, 9)).toString()).toBe('plain: hi');
      plain.write('STARTTLS\n');
      expect((await readBytes(plain, 3)).toString()).toBe('GO\n');
      const secured = track(
        await new Promise<tls.TLSSocket>((resolve, reject) => {
          const socket = tls.connect({ socket: plain, servername: 'localhost', ca: certs.ca });
          socket.once('secureConnect', () => resolve(socket));
          socket.once('error', reject);
        }),
      );
      expect(secured.authorized).toBe(true);
      await echoes(secured, 'secret');
    });

    it('checks the client certificate with requestCert + ca', async () => {
      const { port } = await start(
        ConnectedServer({
          host: '127.0.0.1',
          protocol: () => StartTlsEcho(),
          tls: { key: certs.serverKey, cert: certs.serverCert, requestCert: true, ca: certs.ca },
        }),
      );
      const good = await upgrade(port, { ca: certs.ca, key: certs.clientKey, cert: certs.clientCert });
      await echoes(good, 'trusted');
      const stranger = await upgrade(port, { ca: certs.ca, key: certs.strangerKey, cert: certs.strangerCert }).catch((error: Error) => error);
      if (stranger instanceof tls.TLSSocket) {
        stranger.write('let me in');
        await closed(stranger);
        expect(stranger.bytesRead).toBe(0);
      }
      await echoes(good, 'still trusted');
    });

    it('closes a STARTTLS connection whose handshake stalls, after handshakeTimeout', async () => {
      const { port } = await start(
        ConnectedServer({
          host: '127.0.0.1',
          protocol: () => StartTlsEcho(),
          tls: { key: certs.serverKey, cert: certs.serverCert, handshakeTimeout: 150 },
        }),
      );
      const plain = track(await connect(port));
      plain.write('STARTTLS\n');
      expect((await readBytes(plain, 3)).toString()).toBe('GO\n');
      await closed(plain); // we never send a ClientHello
    });
  });
});
