// makessl over a real loopback connection: STARTTLS with both ends being CSAs (client side and
// server side), certificate verification, and nothing sent after makessl leaving in clear text.
import * as net from 'node:net';
import * as tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { ConnectedSocketAdapter, Graphline, producerFinished, run } from 'kamaelia-xstate';
import { gatedSink } from './helpers/gatedSink.js';
import { testPki } from './helpers/certs.js';
import { socketPair, until } from './helpers/net.js';
import { cleanupsAfterEach } from './helpers/cleanups.js';

const cleanups = cleanupsAfterEach();

describe('ConnectedSocketAdapter makessl', () => {
  it('upgrades both ends in place (client and server side), verifying the server certificate', async () => {
    const pki = await testPki();
    const pair = await socketPair();
    cleanups.push(pair.close);
    const client = run(ConnectedSocketAdapter(pair.local, { tls: { ca: pki.ca, servername: 'localhost' } }));
    const server = run(ConnectedSocketAdapter(pair.peer, { tls: { isServer: true, key: pki.server.key, cert: pki.server.cert } }));
    cleanups.push(() => client.stop(), () => server.stop());

    // Plain text first, both ways.
    client.send('inbox', 'STARTTLS\n');
    expect(Buffer.from(await server.next('outbox', { timeoutMs: 5000 })).toString()).toBe('STARTTLS\n');
    server.send('inbox', 'GO AHEAD\n');
    expect(Buffer.from(await client.next('outbox', { timeoutMs: 5000 })).toString()).toBe('GO AHEAD\n');

    server.send('makessl', 'start');
    client.send('makessl', 'start');
    client.send('inbox', 'secret from client'); // queued behind the handshake
    const [clientReady, serverReady] = await Promise.all([client.next('sslready', { timeoutMs: 5000 }), server.next('sslready', { timeoutMs: 5000 })]);
    expect(clientReady).toMatchObject({ kind: 'sslReady', authorized: true });
    expect(serverReady.kind).toBe('sslReady');
    expect(clientReady.protocol).toMatch(/^TLSv1\.[23]$/);

    expect(Buffer.from(await server.next('outbox', { timeoutMs: 5000 })).toString()).toBe('secret from client');
    server.send('inbox', 'secret from server');
    expect(Buffer.from(await client.next('outbox', { timeoutMs: 5000 })).toString()).toBe('secret from server');
    expect((client.actor.getSnapshot().context as { secure: boolean }).secure).toBe(true);
  });

  it('never lets a byte queued after makessl leave in clear text', async () => {
    const pki = await testPki();
    const listener = net.createServer({ allowHalfOpen: true });
    const onWire: Buffer[] = [];
    const serverGot: Buffer[] = [];
    const raws: net.Socket[] = [];
    listener.on('connection', (raw) => {
      raws.push(raw);
      raw.on('error', () => {});
      // Record the raw bytes on the wire, then hand the stream to TLS once the ClientHello arrives.
      raw.once('data', (first: Buffer) => {
        onWire.push(first);
        raw.pause();
        raw.removeAllListeners('data');
        raw.unshift(first);
        raw.on('data', (chunk: Buffer) => onWire.push(chunk));
        const secure = new tls.TLSSocket(raw, { isServer: true, key: pki.server.key, cert: pki.server.cert });
        secure.on('error', () => {});
        secure.on('data', (chunk: Buffer) => serverGot.push(chunk));
      });
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => (raws.forEach((raw) => raw.destroy()), listener.close(() => resolve()))));
    const port = (listener.address() as net.AddressInfo).port;
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    await new Promise((resolve) => socket.once('connect', resolve));
    const client = run(ConnectedSocketAdapter(socket, { tls: { ca: pki.ca, servername: 'localhost' } }));
    cleanups.push(() => client.stop());
    client.send('makessl', 'go');
    const marker = 'THIS-MUST-BE-ENCRYPTED';
    for (let i = 0; i < 50; i++) client.send('inbox', `${marker}-${i};`);
    await client.next('sslready', { timeoutMs: 5000 });
    await until(() => Buffer.concat(serverGot).toString().includes(`${marker}-49;`), 'the server to decrypt every message');
    expect(Buffer.concat(serverGot).toString()).toBe(Array.from({ length: 50 }, (_, i) => `${marker}-${i};`).join(''));
    expect(Buffer.concat(onWire).includes(marker)).toBe(false);
  });

  it('ends with the TLS error code when the server certificate is not trusted', async () => {
    const pki = await testPki();
    const pair = await socketPair();
    cleanups.push(pair.close);
    const client = run(ConnectedSocketAdapter(pair.local, { tls: { ca: pki.otherCa, servername: 'localhost' } }));
    const server = run(ConnectedSocketAdapter(pair.peer, { tls: { isServer: true, key: pki.server.key, cert: pki.server.cert } }));
    cleanups.push(() => client.stop(), () => server.stop());
    server.send('makessl', 'start');
    client.send('makessl', 'start');
    const feedback = await client.next('CreatorFeedback', { timeoutMs: 5000 });
    expect(feedback.reason?.code).toMatch(/CERT|SIGNATURE|ISSUER/);
    await client.done;
  });

  it('server side with requestCert rejects a client without a trusted certificate', async () => {
    const pki = await testPki();
    const pair = await socketPair();
    cleanups.push(pair.close);
    const client = run(ConnectedSocketAdapter(pair.local, { tls: { ca: pki.ca, servername: 'localhost' } }));
    const server = run(
      ConnectedSocketAdapter(pair.peer, { tls: { isServer: true, key: pki.server.key, cert: pki.server.cert, ca: pki.ca, requestCert: true } }),
    );
    cleanups.push(() => client.stop(), () => server.stop());
    server.send('makessl', 'start');
    client.send('makessl', 'start');
    const feedback = await server.next('CreatorFeedback', { timeoutMs: 5000 });
    expect(feedback.reason).toBeDefined();
    await server.done;
  });

  it('server side with requestCert accepts a client certificate signed by its CA', async () => {
    const pki = await testPki();
    const pair = await socketPair();
    cleanups.push(pair.close);
    const client = run(ConnectedSocketAdapter(pair.local, { tls: { ca: pki.ca, servername: 'localhost', key: pki.client.key, cert: pki.client.cert } }));
    const server = run(
      ConnectedSocketAdapter(pair.peer, { tls: { isServer: true, key: pki.server.key, cert: pki.server.cert, ca: pki.ca, requestCert: true } }),
    );
    cleanups.push(() => client.stop(), () => server.stop());
    server.send('makessl', 'start');
    client.send('makessl', 'start');
    expect(await server.next('sslready', { timeoutMs: 5000 })).toMatchObject({ authorized: true });
    client.send('inbox', 'with a client cert');
    expect(Buffer.from(await server.next('outbox', { timeoutMs: 5000 })).toString()).toBe('with a client cert');
  });
});

describe('ConnectedSocketAdapter makessl and bytes received before it', () => {
  it('client side: plain bytes already received but not yet delivered come out as plain text, not fed to TLS', async () => {
    const pki = await testPki();
    const pair = await socketPair();
    cleanups.push(pair.close);
    const sink = gatedSink();
    const graph = run(
      Graphline(
        { CSA: ConnectedSocketAdapter(pair.local, { tls: { ca: pki.ca, servername: 'localhost' } }), SINK: sink.component },
        { 'self.makessl': 'CSA.makessl', 'CSA.outbox': 'SINK.inbox', 'CSA.sslready': 'self.sslready' },
      ),
    );
    cleanups.push(() => graph.stop());
    pair.peer.write('PLAIN GREETING\n');
    // The CSA holds it unread in the socket buffer because the sink is closed.
    await until(() => pair.local.readableLength > 0, 'the greeting to reach the client socket buffer');
    expect(sink.chunks).toHaveLength(0);
    // Now the peer waits for the ClientHello and becomes a TLS server.
    pair.peer.once('readable', () => {
      const secure = new tls.TLSSocket(pair.peer, { isServer: true, key: pki.server.key, cert: pki.server.cert });
      secure.on('error', () => {});
      secure.once('secure', () => secure.write('SECRET'));
    });
    graph.send('makessl', 'go');
    await graph.next('sslready', { timeoutMs: 5000 });
    sink.open();
    await until(() => Buffer.concat(sink.chunks).toString().includes('SECRET'), 'the secret to arrive');
    expect(Buffer.concat(sink.chunks).toString()).toBe('PLAIN GREETING\nSECRET');
  });
});

describe('ConnectedSocketAdapter over a TLS socket', () => {
  it('secure: true carries an already-TLS socket and refuses makessl', async () => {
    const pki = await testPki();
    const server = tls.createServer({ key: pki.server.key, cert: pki.server.cert }, (socket) => {
      socket.on('error', () => {});
      socket.on('data', (data: Buffer) => socket.write(`tls:${data.toString()}`));
      socket.on('end', () => socket.end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const socket = tls.connect({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port, ca: pki.ca, servername: 'localhost' });
    await new Promise((resolve) => socket.once('secureConnect', resolve));
    const csa = run(ConnectedSocketAdapter(socket, { secure: true }));
    cleanups.push(() => csa.stop());
    expect((csa.actor.getSnapshot() as { context: { secure: boolean } }).context.secure).toBe(true);
    csa.send('inbox', 'ping');
    expect(Buffer.from(await csa.next('outbox', { timeoutMs: 5000 })).toString()).toBe('tls:ping');
    csa.send('makessl', 'again');
    expect(await csa.next('signal', { timeoutMs: 5000 })).toMatchObject({ kind: 'badMessage', box: 'makessl', reason: { code: 'EBADMESSAGE' } });
    csa.send('control', producerFinished());
    const feedback = await csa.next('CreatorFeedback', { timeoutMs: 5000 });
    expect(feedback.reason).toBeUndefined();
  });
});
