// A handler sees its connection start before any of its data, with or without the PROXY gate,
// plain or TLS: a greeting written at start comes out before the echo of bytes the client sent
// with (or right behind) the PROXY header. And a connection that closes before the gate can judge
// it is not a rejected proxy.
import net from 'node:net';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { ConnectedServer, box, defineComponent, isProducerFinished, isShutdownRequest, run, serverStats, type Listening, type SignalMessage } from 'kamaelia-xstate';
import { connect, readBytes, testCertificates, until } from './server-helpers.js';
import { cleanupsAfterEach } from './helpers/cleanups.js';
import { v1, v2 } from './helpers/proxyHeaders.js';
import { proxyGate } from '../src/internet/proxyGate.js';

const cleanups = cleanupsAfterEach();

/** Writes HELLO when it starts, then echoes. */
const Greeter = () =>
  defineComponent({
    name: 'Greeter',
    inboxes: { inbox: box<Buffer>(), control: box<SignalMessage>() },
    outboxes: { outbox: box<string | Uint8Array>(), signal: box<SignalMessage>() },
    body: ({ on, send, finish }) => {
      send('outbox', 'HELLO\n');
      on('inbox', (data) => send('outbox', data));
      on('control', (message) => {
        if (isShutdownRequest(message) || isProducerFinished(message)) {
          send('signal', message);
          finish();
        }
      });
    },
  });

/** The same, as an XState machine handler (its own actor). */
async function machineGreeter() {
  const { emit, setup } = await import('xstate');
  type In = { inbox: Buffer; control: SignalMessage };
  type Out = { outbox: string | Uint8Array; signal: SignalMessage };
  const machine = setup({
    types: {} as { events: { type: 'inbox'; data: In['inbox'] } | { type: 'control'; data: In['control'] }; emitted: { type: 'outbox'; data: Out['outbox'] } | { type: 'signal'; data: Out['signal'] } },
  }).createMachine({
    entry: emit({ type: 'outbox', data: 'HELLO\n' }),
    initial: 'open',
    states: {
      open: {
        on: {
          inbox: { actions: emit(({ event }) => ({ type: 'outbox' as const, data: event.data })) },
          control: { target: 'done', actions: emit(({ event }) => ({ type: 'signal' as const, data: event.data })) },
        },
      },
      done: { type: 'final' },
    },
  });
  return () => defineComponent({ name: 'MachineGreeter', inboxes: { inbox: box<Buffer>(), control: box<SignalMessage>() }, outboxes: { outbox: box<string | Uint8Array>(), signal: box<SignalMessage>() }, logic: machine });
}

async function start(options: Parameters<typeof ConnectedServer>[0]) {
  const server = run(ConnectedServer(options));
  cleanups.push(() => server.stop());
  const { port } = (await server.next('listening', { timeoutMs: 5000 })) as Listening;
  return { server, port };
}

const trusted = { trusted: ['127.0.0.1'] };
const ROUNDS = 20;

describe('a handler starts before its data arrives', () => {
  for (const handler of ['body', 'machine'] as const) {
    it(`${handler} handler, PROXY v1 header and data in one write: HELLO first, every time`, async () => {
      const protocol = handler === 'body' ? Greeter : await machineGreeter();
      const { port } = await start({ port: 0, host: '127.0.0.1', proxyProtocol: trusted, protocol });
      for (let i = 0; i < ROUNDS; i++) {
        const socket = await connect(port);
        cleanups.push(() => void socket.destroy());
        socket.write(Buffer.concat([v1('TCP4', '192.0.2.7', '198.51.100.1', 51234, 443), Buffer.from('PING')]));
        expect((await readBytes(socket, 10)).toString()).toBe('HELLO\nPING');
        socket.destroy();
      }
    });
  }

  it('PROXY v2 header and data in one write', async () => {
    const { port } = await start({ port: 0, host: '127.0.0.1', proxyProtocol: trusted, protocol: Greeter });
    for (let i = 0; i < ROUNDS; i++) {
      const socket = await connect(port);
      cleanups.push(() => void socket.destroy());
      socket.write(Buffer.concat([v2({ source: '192.0.2.7', sourcePort: 4000, destinationPort: 443 }), Buffer.from('PING')]));
      expect((await readBytes(socket, 10)).toString()).toBe('HELLO\nPING');
      socket.destroy();
    }
  });

  it('without the gate, data in the first packet', async () => {
    const { port } = await start({ port: 0, host: '127.0.0.1', protocol: Greeter });
    for (let i = 0; i < ROUNDS; i++) {
      const socket = net.connect({ port, host: '127.0.0.1' });
      cleanups.push(() => void socket.destroy());
      socket.write('PING'); // queued before the connect completes: leaves with the first packet
      expect((await readBytes(socket, 10)).toString()).toBe('HELLO\nPING');
      socket.destroy();
    }
  });

  it('implicit TLS behind the gate: the header, then the handshake, then data right behind it', async () => {
    const pki = await testCertificates();
    const { port } = await start({ port: 0, host: '127.0.0.1', proxyProtocol: trusted, tls: { secure: true, key: pki.serverKey, cert: pki.serverCert }, protocol: Greeter });
    for (let i = 0; i < 5; i++) {
      const raw = await connect(port);
      cleanups.push(() => void raw.destroy());
      raw.write(v1('TCP4', '192.0.2.7', '198.51.100.1', 51234, 443));
      const socket = tls.connect({ socket: raw, ca: pki.ca, servername: 'localhost' });
      socket.write('PING'); // sent as soon as the handshake is done, in the same flight as its Finished
      expect((await readBytes(socket, 10)).toString()).toBe('HELLO\nPING');
      socket.destroy();
    }
  });
});

/**
 * A sentinel: one malformed header, which is rejected. Connections are judged in the order they
 * came, so once it is counted, every earlier one has been settled; only it may have been counted.
 */
async function judgedAfterThese(port: number, actor: Parameters<typeof serverStats>[0]): Promise<void> {
  const before = serverStats(actor)!.proxyRejected;
  const bad = await connect(port);
  cleanups.push(() => void bad.destroy());
  bad.write('GET / HTTP/1.0\r\n\r\n');
  await until(() => serverStats(actor)!.proxyRejected > before, 'the sentinel to be rejected');
}

describe('a connection that ends before the gate judges it', () => {
  it('the gate drops, not rejects, a socket whose peer reset before it was looked at (its address is gone)', async () => {
    const outcomes: string[] = [];
    const gate = proxyGate({ trusted: ['127.0.0.1'] }, 'test');
    const srv = net.createServer({ pauseOnConnect: true }, (socket) => {
      socket.on('error', () => {});
      // Judge it only once the peer's reset has arrived, as a busy server would.
      socket.once('close', () => gate(socket, () => outcomes.push('admit'), (why) => outcomes.push(`reject ${why.code}`), () => outcomes.push('drop')));
      socket.resume();
    });
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => srv.close(() => resolve())));
    const client = net.connect({ port: (srv.address() as net.AddressInfo).port, host: '127.0.0.1' }, () => {
      client.write(v1('TCP4', '192.0.2.7', '198.51.100.1', 51234, 443));
      client.resetAndDestroy();
    });
    client.on('error', () => {});
    await until(() => outcomes.length > 0, 'the gate to decide');
    expect(outcomes).toEqual(['drop']);
  });

  it('a trusted proxy that connects and closes at once (a TCP health check) is not counted as rejected', async () => {
    const { server, port } = await start({ port: 0, host: '127.0.0.1', proxyProtocol: trusted, protocol: Greeter });
    for (let i = 0; i < 10; i++) {
      const socket = await connect(port);
      socket.end();
      await new Promise((resolve) => socket.once('close', resolve));
    }
    await judgedAfterThese(port, server.actor);
    expect(serverStats(server.actor)!.proxyRejected).toBe(1);
  });

  it('an untrusted address and a malformed header from a trusted one still are', async () => {
    const { server, port } = await start({ port: 0, host: '127.0.0.1', proxyProtocol: { trusted: ['127.0.0.2'] }, protocol: Greeter });
    const socket = await connect(port);
    cleanups.push(() => void socket.destroy());
    await until(() => serverStats(server.actor)!.proxyRejected === 1, 'the untrusted connection to be counted');
    const { server: server2, port: port2 } = await start({ port: 0, host: '127.0.0.1', proxyProtocol: trusted, protocol: Greeter });
    const bad = await connect(port2);
    cleanups.push(() => void bad.destroy());
    bad.write('GET / HTTP/1.0\r\n\r\n');
    await until(() => serverStats(server2.actor)!.proxyRejected === 1, 'the malformed header to be counted');
  });
});
