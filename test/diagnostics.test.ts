// Lifecycle events on node:diagnostics_channel: what a subscriber sees for a plain, an implicit-TLS,
// a PROXY-protocol and a full server, with real loopback clients; and that nothing is published,
// nor kept per connection, when nobody subscribes.
import diagnosticsChannel from 'node:diagnostics_channel';
import net from 'node:net';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { ConnectedServer, DIAGNOSTICS_CHANNELS, EchoProtocol, run, serverShutdown, serverStats, TCPServer, type ConnectionCloseMessage, type DiagnosticsChannelName } from 'kamaelia-xstate';
import { closed, connect, readBytes, testCertificates, until } from './server-helpers.js';
import { v1 } from './helpers/proxyHeaders.js';
import { cleanupsAfterEach } from './helpers/cleanups.js';

const cleanups = cleanupsAfterEach();

/** Every message on every channel, in order, as [channel, message]. */
function recordAll(): Array<[DiagnosticsChannelName, Record<string, unknown>]> {
  const seen: Array<[DiagnosticsChannelName, Record<string, unknown>]> = [];
  for (const name of Object.values(DIAGNOSTICS_CHANNELS)) {
    const listener = (message: unknown): void => void seen.push([name, message as Record<string, unknown>]);
    diagnosticsChannel.subscribe(name, listener);
    cleanups.push(() => void diagnosticsChannel.unsubscribe(name, listener));
  }
  return seen;
}

const names = (seen: ReadonlyArray<[string, unknown]>): string[] => seen.map(([name]) => name.replace('kamaelia-xstate:', ''));

async function echo(socket: net.Socket | tls.TLSSocket, text: string): Promise<void> {
  socket.write(text);
  expect((await readBytes(socket, text.length)).toString()).toBe(text);
}

describe('diagnostics_channel events', () => {
  it('a ConnectedServer publishes listening, open, close (duration, bytes), and closed', async () => {
    const seen = recordAll();
    const server = run(ConnectedServer({ host: '127.0.0.1', protocol: () => EchoProtocol() }));
    cleanups.push(() => server.stop());
    const { port } = await server.next('listening');
    const socket = await connect(port);
    await echo(socket, 'hello diagnostics');
    socket.end();
    await closed(socket);
    await until(() => seen.some(([name]) => name === DIAGNOSTICS_CHANNELS.connectionClose), 'the close event');
    server.send('control', serverShutdown());
    await server.done;
    expect(names(seen)).toEqual(['server:listening', 'connection:open', 'connection:close', 'server:closed']);
    const serverInfo = { name: 'ConnectedServer', transport: 'tcp', address: '127.0.0.1', port };
    expect(seen[0]![1]).toEqual({ server: serverInfo });
    expect(seen[1]![1]).toMatchObject({ server: serverInfo, id: 0 });
    expect(seen[1]![1].socket).toBeInstanceOf(net.Socket);
    const close = seen[2]![1] as unknown as ConnectionCloseMessage;
    expect(close).toMatchObject({ server: serverInfo, id: 0, bytesIn: 17, bytesOut: 17 });
    expect(close.reason).toBeUndefined();
    expect(close.durationMs).toBeGreaterThan(0);
    expect(close.durationMs).toBeLessThan(10_000);
  });

  it('a connection that ends in an error closes with its reason; maxConnections refusals are published as rejected', async () => {
    const seen = recordAll();
    const server = run(ConnectedServer({ host: '127.0.0.1', maxConnections: 1, protocol: () => EchoProtocol() }));
    cleanups.push(() => server.stop());
    const { port } = await server.next('listening');
    const first = await connect(port);
    await echo(first, 'x');
    const second = await connect(port); // over maxConnections: closed at once
    second.on('error', () => {});
    await closed(second);
    await until(() => seen.some(([name]) => name === DIAGNOSTICS_CHANNELS.connectionRejected), 'the rejected event');
    first.resetAndDestroy();
    await until(() => seen.some(([name]) => name === DIAGNOSTICS_CHANNELS.connectionClose), 'the close event');
    const rejected = seen.find(([name]) => name === DIAGNOSTICS_CHANNELS.connectionRejected)![1];
    expect(rejected).toMatchObject({ server: { port }, reason: { code: 'EMAXCONNECTIONS' } });
    const close = seen.find(([name]) => name === DIAGNOSTICS_CHANNELS.connectionClose)![1];
    expect(close).toMatchObject({ id: 0, reason: { code: 'ECONNRESET' } });
  });

  it('implicit TLS: handshake start and done with a duration and protocol; a failed handshake with its reason', async () => {
    const seen = recordAll();
    const certs = await testCertificates();
    const server = run(ConnectedServer({ host: '127.0.0.1', tls: { secure: true, key: certs.serverKey, cert: certs.serverCert }, protocol: () => EchoProtocol() }));
    cleanups.push(() => server.stop());
    const { port } = await server.next('listening');
    const secured = tls.connect({ port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost' });
    await new Promise((resolve, reject) => secured.once('secureConnect', resolve).once('error', reject));
    await echo(secured, 'over tls');
    const garbage = await connect(port);
    garbage.on('error', () => {});
    garbage.write('this is not a TLS ClientHello\r\n\r\n');
    await closed(garbage);
    await until(() => seen.some(([name]) => name === DIAGNOSTICS_CHANNELS.tlsHandshakeError), 'the handshake error');
    secured.end();
    await until(() => seen.some(([name]) => name === DIAGNOSTICS_CHANNELS.connectionClose), 'the close event');
    const kinds = names(seen);
    expect(kinds.filter((name) => name === 'tls:handshakeStart')).toHaveLength(2);
    const done = seen.find(([name]) => name === DIAGNOSTICS_CHANNELS.tlsHandshake)![1];
    expect(done).toMatchObject({ server: { port }, protocol: expect.stringMatching(/^TLSv1\.[23]$/) });
    expect(done.socket).toBeInstanceOf(tls.TLSSocket);
    expect(done.durationMs).toBeGreaterThan(0);
    const failed = seen.find(([name]) => name === DIAGNOSTICS_CHANNELS.tlsHandshakeError)![1];
    expect(failed).toMatchObject({ server: { port }, reason: { code: expect.any(String) } });
    expect(failed.durationMs).toBeGreaterThan(0);
    // The handshake came before the connection was served.
    expect(kinds.indexOf('tls:handshake')).toBeLessThan(kinds.indexOf('connection:open'));
  });

  it('PROXY protocol: a header accepted names the client; a connection without one is rejected with its reason', async () => {
    const seen = recordAll();
    const server = run(TCPServer({ host: '127.0.0.1', proxyProtocol: { trusted: ['127.0.0.1'] } }));
    cleanups.push(() => server.stop());
    const { port } = await server.next('listening');
    const proxied = await connect(port);
    proxied.write(v1('TCP4', '192.0.2.7', '127.0.0.1', 4242, port));
    await until(() => seen.some(([name]) => name === DIAGNOSTICS_CHANNELS.connectionOpen), 'the open event');
    const direct = await connect(port);
    direct.write('GET / HTTP/1.0\r\n\r\n');
    await closed(direct);
    await until(() => seen.some(([name]) => name === DIAGNOSTICS_CHANNELS.proxyRejected), 'the rejected event');
    proxied.destroy();
    expect(seen.find(([name]) => name === DIAGNOSTICS_CHANNELS.proxyAccepted)![1]).toMatchObject({ server: { name: 'TCPServer', port }, peer: { peer: '192.0.2.7', peerPort: 4242, proxy: '127.0.0.1' } });
    expect(seen.find(([name]) => name === DIAGNOSTICS_CHANNELS.proxyRejected)![1]).toMatchObject({ server: { port }, reason: { code: 'EPROXYHEADER' } });
  });

  it('a CSA that cannot be built is an accept error', async () => {
    const seen = recordAll();
    const server = run(
      TCPServer({
        host: '127.0.0.1',
        csa: () => {
          throw new Error('no CSA today');
        },
      }),
    );
    cleanups.push(() => server.stop());
    const { port } = await server.next('listening');
    const socket = await connect(port);
    socket.on('error', () => {});
    await closed(socket);
    await until(() => seen.some(([name]) => name === DIAGNOSTICS_CHANNELS.acceptError), 'the accept error');
    expect(seen.find(([name]) => name === DIAGNOSTICS_CHANNELS.acceptError)![1]).toMatchObject({ server: { port }, reason: { message: expect.stringContaining('no CSA today') } });
    expect(names(seen)).not.toContain('connection:open');
  });

  it('stopping a server publishes the close of every open connection and the end of every handshake under way', async () => {
    const seen = recordAll();
    const certs = await testCertificates();
    const server = run(ConnectedServer({ host: '127.0.0.1', tls: { secure: true, key: certs.serverKey, cert: certs.serverCert }, protocol: () => EchoProtocol() }));
    const { port } = await server.next('listening');
    const secured = tls.connect({ port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost' });
    secured.on('error', () => {});
    await new Promise((resolve, reject) => secured.once('secureConnect', resolve).once('error', reject));
    await echo(secured, 'served');
    const stalled = await connect(port); // never sends a ClientHello
    stalled.on('error', () => {});
    await until(() => seen.filter(([name]) => name === DIAGNOSTICS_CHANNELS.tlsHandshakeStart).length === 2, 'two handshakes started');
    server.stop();
    await until(() => seen.some(([name]) => name === DIAGNOSTICS_CHANNELS.tlsHandshakeError), 'the stalled handshake to end');
    expect(seen.find(([name]) => name === DIAGNOSTICS_CHANNELS.connectionClose)![1]).toMatchObject({ id: 0, reason: { code: 'ESHUTDOWN' } });
    expect(seen.find(([name]) => name === DIAGNOSTICS_CHANNELS.tlsHandshakeError)![1]).toMatchObject({ reason: { code: 'ECONNRESET' } });
    expect(names(seen).filter((name) => name === 'server:closed')).toHaveLength(1);
  });

  it('a client gone before sending a byte began no handshake: no tls:handshakeError for it, as serverStats counts none', async () => {
    const seen = recordAll();
    const certs = await testCertificates();
    const server = run(ConnectedServer({ host: '127.0.0.1', tls: { secure: true, key: certs.serverKey, cert: certs.serverCert }, protocol: () => EchoProtocol() }));
    cleanups.push(() => server.stop());
    const { port } = await server.next('listening');
    const started = (): number => seen.filter(([name]) => name === DIAGNOSTICS_CHANNELS.tlsHandshakeStart).length;
    const errors = (): Record<string, unknown>[] => seen.filter(([name]) => name === DIAGNOSTICS_CHANNELS.tlsHandshakeError).map(([, message]) => message);
    for (const how of ['end', 'reset'] as const) {
      const probe = await connect(port);
      probe.on('error', () => {});
      await until(() => started() >= (how === 'end' ? 1 : 2), 'the probe to be taken');
      if (how === 'end') probe.end();
      else probe.resetAndDestroy();
      await closed(probe);
    }
    // One that began a handshake: its error is published, and it is the only one.
    const quitter = await connect(port);
    quitter.on('error', () => {});
    quitter.end(Buffer.from([0x16, 0x03, 0x01, 0x00, 0xc8, 0x01]));
    await until(() => errors().length >= 1, 'the real failure to be published');
    await until(() => (serverStats(server.actor)?.open ?? 1) === 0, 'every connection to be gone');
    expect(errors()).toHaveLength(1);
    expect(errors()[0]).toMatchObject({ reason: { code: 'ECONNRESET' } });
  });

  it('with no subscriber nothing is published and no start time is kept', async () => {
    const published: string[] = [];
    // Subscribing to one channel only: the others stay without subscribers and publish nothing.
    const onRejected = (): void => void published.push('rejected');
    diagnosticsChannel.subscribe(DIAGNOSTICS_CHANNELS.connectionRejected, onRejected);
    cleanups.push(() => void diagnosticsChannel.unsubscribe(DIAGNOSTICS_CHANNELS.connectionRejected, onRejected));
    const server = run(ConnectedServer({ host: '127.0.0.1', protocol: () => EchoProtocol() }));
    cleanups.push(() => server.stop());
    const { port } = await server.next('listening');
    const socket = await connect(port);
    await echo(socket, 'quiet');
    // Subscribing to close now: this connection opened unobserved, so its close is not published.
    const closes: unknown[] = [];
    const onClose = (message: unknown): void => void closes.push(message);
    diagnosticsChannel.subscribe(DIAGNOSTICS_CHANNELS.connectionClose, onClose);
    cleanups.push(() => void diagnosticsChannel.unsubscribe(DIAGNOSTICS_CHANNELS.connectionClose, onClose));
    socket.end();
    await closed(socket);
    const later = await connect(port);
    await echo(later, 'observed');
    later.end();
    await closed(later);
    await until(() => closes.length === 1, 'the observed close');
    expect(closes[0]).toMatchObject({ id: 1 });
    expect(published).toEqual([]);
  });
});
