// Reading a message never throws past the component that received it: a control message whose
// `kind` getter throws, or a Proxy whose every trap throws, is reported as badMessage on signal and
// dropped, and the component (and every other connection) goes on. Real sockets on loopback.
import { describe, expect, it } from 'vitest';
import {
  ConnectedServer,
  ConnectedSocketAdapter,
  EchoProtocol,
  SingleServer,
  TCPClient,
  TCPServer,
  box,
  defineComponent,
  isShutdownRequest,
  producerFinished,
  run,
  type Listening,
  type SignalMessage,
} from 'kamaelia-xstate';
import { cleanupsAfterEach } from './helpers/cleanups.js';
import { listen, socketPair } from './helpers/net.js';
import { connect, readBytes } from './server-helpers.js';

const cleanups = cleanupsAfterEach();

const throwingKind = (): unknown => ({
  get kind(): never {
    throw new Error('kind getter exploded');
  },
});
// Every trap (get, getPrototypeOf, has, ownKeys, ...) throws.
const throwingProxy = (): unknown =>
  new Proxy(
    {},
    new Proxy({}, {
      get: () => () => {
        throw new Error('proxy trap exploded');
      },
    }),
  );
const HOSTILE: [string, () => unknown][] = [
  ['a throwing kind getter', throwingKind],
  ['a Proxy whose every trap throws', throwingProxy],
];

function expectBadControl(message: unknown, box = 'control'): void {
  expect(message).toMatchObject({ kind: 'badMessage', box, reason: { code: 'EBADMESSAGE' } });
  expect((message as { reason: { message: string } }).reason.message).toMatch(/dropped/);
}

async function echoes(port: number): Promise<void> {
  const socket = await connect(port);
  cleanups.push(() => void socket.destroy());
  socket.write('still?');
  expect((await readBytes(socket, 6)).toString()).toBe('still?');
}

describe.each(HOSTILE)('a control message with %s', (_what, hostile) => {
  it('ConnectedServer: reported on signal, dropped; the server goes on serving', async () => {
    const server = run(ConnectedServer({ host: '127.0.0.1', protocol: () => EchoProtocol() }));
    cleanups.push(() => server.stop());
    const { port } = (await server.next('listening', { timeoutMs: 5000 })) as Listening;
    (server.send as (box: string, message: unknown) => void)('control', hostile());
    expectBadControl(await server.next('signal', { timeoutMs: 5000 }));
    await echoes(port);
    expect(server.actor.getSnapshot().status).toBe('active');
  });

  it("ConnectedServer: the same value on a handler's serversignal is reported naming the connection; nothing else ends", async () => {
    const Traitor = () =>
      defineComponent({
        name: 'Traitor',
        inboxes: { inbox: box<Uint8Array>(), control: box<SignalMessage>() },
        outboxes: { outbox: box<Uint8Array>(), signal: box<SignalMessage>(), serversignal: box<SignalMessage>() },
        body: ({ on, send, finish }) => {
          on('inbox', (data) => {
            if (Buffer.from(data).toString() === 'betray') send('serversignal', hostile() as SignalMessage);
            else send('outbox', data);
          });
          on('control', (message) => {
            if (isShutdownRequest(message)) finish();
          });
        },
      });
    const server = run(ConnectedServer({ host: '127.0.0.1', protocol: () => Traitor() }));
    cleanups.push(() => server.stop());
    const { port } = (await server.next('listening', { timeoutMs: 5000 })) as Listening;
    const bystander = await connect(port);
    cleanups.push(() => void bystander.destroy());
    const traitor = await connect(port);
    cleanups.push(() => void traitor.destroy());
    traitor.write('betray');
    const report = await server.next('signal', { timeoutMs: 5000 });
    expectBadControl(report, 'serversignal');
    expect((report as { reason: { message: string } }).reason.message).toMatch(new RegExp(`connection 1 \\(127\\.0\\.0\\.1:${traitor.localPort}\\)`));
    bystander.write('fine');
    expect((await readBytes(bystander, 4)).toString()).toBe('fine');
    traitor.write('again');
    expect((await readBytes(traitor, 5)).toString()).toBe('again');
  });

  it('TCPServer: reported on signal, dropped; still listening', async () => {
    const server = run(TCPServer({ host: '127.0.0.1' }));
    cleanups.push(() => server.stop());
    await server.next('listening', { timeoutMs: 5000 });
    (server.send as (box: string, message: unknown) => void)('control', hostile());
    expectBadControl(await server.next('signal', { timeoutMs: 5000 }));
    expect(server.actor.getSnapshot().value).toBe('listening');
  });

  it('SingleServer: reported on signal, dropped', async () => {
    const server = run(SingleServer({ host: '127.0.0.1' }));
    cleanups.push(() => server.stop());
    await server.next('listening', { timeoutMs: 5000 });
    (server.send as (box: string, message: unknown) => void)('control', hostile());
    expectBadControl(await server.next('signal', { timeoutMs: 5000 }));
    expect(server.actor.getSnapshot().status).toBe('active');
  });

  it('TCPClient, before and after the connection exists: reported on signal, dropped; the connection works', async () => {
    const listener = await listen((socket) => socket.on('data', (data) => socket.write(data)));
    cleanups.push(listener.close);
    const handle = run(TCPClient('127.0.0.1', listener.port, { delay: 50 }));
    cleanups.push(() => handle.stop());
    (handle.send as (box: string, message: unknown) => void)('control', hostile());
    expectBadControl(await handle.next('signal', { timeoutMs: 5000 }));
    handle.send('inbox', 'one');
    expect(Buffer.from(await handle.next('outbox', { timeoutMs: 5000 })).toString()).toBe('one');
    (handle.send as (box: string, message: unknown) => void)('control', hostile());
    expectBadControl(await handle.next('signal', { timeoutMs: 5000 }));
    (handle.send as (box: string, message: unknown) => void)('inbox', hostile());
    expect(await handle.next('signal', { timeoutMs: 5000 })).toMatchObject({ kind: 'badMessage', box: 'inbox' });
    handle.send('inbox', 'two');
    expect(Buffer.from(await handle.next('outbox', { timeoutMs: 5000 })).toString()).toBe('two');
    handle.send('control', producerFinished());
    expect(await handle.next('signal', { timeoutMs: 5000 })).toMatchObject({ kind: 'producerFinished', source: 'TCPClient' });
  });

  it('ConnectedSocketAdapter: reported on signal, dropped', async () => {
    const { local, close } = await socketPair();
    cleanups.push(close);
    const handle = run(ConnectedSocketAdapter(local));
    cleanups.push(() => handle.stop());
    (handle.send as (box: string, message: unknown) => void)('control', hostile());
    expectBadControl(await handle.next('signal', { timeoutMs: 5000 }));
    expect(handle.actor.getSnapshot().status).toBe('active');
  });
});
