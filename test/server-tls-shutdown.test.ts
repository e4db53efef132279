// Implicit TLS: connections still in their handshake count as open, are closed when the server
// shuts down (not left to handshakeTimeout), and can never finish a handshake after it is done.
import net from 'node:net';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { ConnectedServer, EchoProtocol, run, serverShutdown, serverStats, shutdownMicroprocess, type Listening, type SignalMessage } from 'kamaelia-xstate';
import { testPki } from './helpers/certs.js';
import { cleanupsAfterEach } from './helpers/cleanups.js';
import { connect, until } from './server-helpers.js';

const cleanups = cleanupsAfterEach();

/** A TCP connection to an implicit-TLS server that has not sent its ClientHello yet. */
async function handshakePending(port: number): Promise<{ socket: net.Socket; closed: () => boolean }> {
  const socket = await connect(port);
  socket.on('error', () => {});
  // The server's FIN or reset: 'end' (our helper's sockets are half-open) or 'close'.
  let isClosed = false;
  socket.once('end', () => (isClosed = true));
  socket.once('close', () => (isClosed = true));
  socket.on('data', () => {});
  cleanups.push(() => void socket.destroy());
  return { socket, closed: () => isClosed };
}

async function tlsServer() {
  const pki = await testPki();
  let handlers = 0;
  // A long handshakeTimeout: only the shutdown may close the pending handshakes here.
  const server = run(
    ConnectedServer({
      host: '127.0.0.1',
      handshakeTimeout: 60_000,
      tls: { secure: true, key: pki.server.key, cert: pki.server.cert },
      protocol: () => (handlers++, EchoProtocol()),
    }),
  );
  cleanups.push(() => server.stop());
  const { port } = (await server.next('listening', { timeoutMs: 5000 })) as Listening;
  return { server, port, pki, handlers: () => handlers };
}

describe.each([
  ['serverShutdown', serverShutdown()],
  ['shutdownMicroprocess', shutdownMicroprocess()],
] as [string, SignalMessage][])('implicit-TLS handshakes in progress at %s', (_name, message) => {
  it('are counted as open and closed by the shutdown, not left to handshakeTimeout', async () => {
    const { server, port } = await tlsServer();
    const first = await handshakePending(port);
    const second = await handshakePending(port);
    await until(() => serverStats(server.actor)?.open === 2, 'both handshakes to count as open');
    server.send('control', message);
    await server.next('signal', { timeoutMs: 5000 });
    // Closed by the server, long before the 60 s handshakeTimeout.
    await until(() => first.closed() && second.closed(), 'the pending handshakes to be closed');
    expect(serverStats(server.actor)?.open).toBe(0);
  });

  it('a handshake attempted after the shutdown never completes and is never served', async () => {
    const { server, port, pki, handlers } = await tlsServer();
    const pending = await handshakePending(port);
    server.send('control', message);
    await server.next('signal', { timeoutMs: 5000 });
    let secured = false;
    const client = tls.connect({ socket: pending.socket, ca: pki.ca, servername: 'localhost' }, () => (secured = true));
    client.on('error', () => {});
    await until(() => client.destroyed || secured, 'the late handshake to fail or complete');
    expect(secured).toBe(false);
    expect(handlers()).toBe(0);
  });
});
