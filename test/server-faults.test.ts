// Server-side faults found by real clients: a peer's reset keeps its reason all the way to
// shutdownCSA and the handler's socketShutdown; a handler that sends non-bytes is reported on the
// server's signal, naming the connection, and its connection goes on.
import { describe, expect, it } from 'vitest';
import {
  ConnectedServer,
  TCPServer,
  box,
  defineComponent,
  isShutdownRequest,
  run,
  type AnyComponent,
  type Listening,
  type ProtocolHandlerSignal,
  type SignalMessage,
} from 'kamaelia-xstate';
import { cleanupsAfterEach } from './helpers/cleanups.js';
import { connect, readBytes, until } from './server-helpers.js';
import { ControlLog } from './server-protocols.js';

const cleanups = cleanupsAfterEach();

describe('a peer reset on the server side', () => {
  it('TCPServer: shutdownCSA carries reason ECONNRESET', async () => {
    const server = run(TCPServer({ host: '127.0.0.1' }));
    cleanups.push(() => server.stop());
    const { port } = await server.next('listening', { timeoutMs: 5000 });
    const socket = await connect(port);
    socket.on('error', () => {});
    const opened = (await server.next('protocolHandlerSignal', { timeoutMs: 5000 })) as ProtocolHandlerSignal;
    expect(opened.kind).toBe('newCSA');
    socket.resetAndDestroy();
    const closed = await server.next('protocolHandlerSignal', { timeoutMs: 5000 });
    expect(closed).toMatchObject({ kind: 'shutdownCSA', id: opened.id, reason: { code: 'ECONNRESET' } });
  });

  it("ConnectedServer: the handler's socketShutdown carries reason ECONNRESET", async () => {
    const log = new ControlLog();
    const server = run(ConnectedServer({ host: '127.0.0.1', protocol: log.protocol }));
    cleanups.push(() => server.stop());
    const { port } = (await server.next('listening', { timeoutMs: 5000 })) as Listening;
    const socket = await connect(port);
    socket.on('error', () => {});
    socket.write('ping');
    expect((await readBytes(socket, 4)).toString()).toBe('ping');
    socket.resetAndDestroy();
    await until(() => (log.received[0] ?? []).some((m) => m.kind === 'socketShutdown'), 'socketShutdown on the handler');
    expect(log.received[0]!.find((m) => m.kind === 'socketShutdown')).toMatchObject({ reason: { code: 'ECONNRESET' } });
  });
});

/** Sends what it gets back, but before it an object and a number: not bytes. */
const SloppyEcho = () =>
  defineComponent({
    name: 'SloppyEcho',
    inboxes: { inbox: box<Uint8Array>(), control: box<SignalMessage>() },
    outboxes: { outbox: box<unknown>(), signal: box<SignalMessage>() },
    body: ({ on, send, finish }) => {
      on('inbox', (data) => {
        send('outbox', { oops: true });
        send('outbox', 42);
        send('outbox', data);
      });
      on('control', (message) => {
        if (isShutdownRequest(message)) finish();
      });
    },
  });

describe('a handler sending non-bytes on its outbox', () => {
  it('is reported as badMessage on the server signal naming the connection; the bytes around it still go out', async () => {
    // The compiler refuses a handler whose outbox is not bytes or strings (test/server-handler-types);
    // typed as AnyComponent it is what a plain JavaScript caller can still do.
    const server = run(ConnectedServer({ host: '127.0.0.1', protocol: (): AnyComponent => SloppyEcho() }));
    cleanups.push(() => server.stop());
    const { port } = (await server.next('listening', { timeoutMs: 5000 })) as Listening;
    const socket = await connect(port);
    cleanups.push(() => void socket.destroy());
    socket.write('hello');
    expect((await readBytes(socket, 5)).toString()).toBe('hello');
    const first = await server.next('signal', { timeoutMs: 5000 });
    const second = await server.next('signal', { timeoutMs: 5000 });
    const where = new RegExp(`connection 0 \\(127\\.0\\.0\\.1:${socket.localPort}\\)`);
    expect(first).toMatchObject({ kind: 'badMessage', box: 'inbox', reason: { code: 'EBADMESSAGE' } });
    expect((first as { reason: { message: string } }).reason.message).toMatch(where);
    expect((first as { reason: { message: string } }).reason.message).toMatch(/: from SloppyEcho's outbox: ConnectedSocketAdapter: inbox takes .*got Object; dropped/);
    expect((second as { reason: { message: string } }).reason.message).toMatch(/got number 42; dropped/);
    expect(server.actor.getSnapshot().status).toBe('active');
  });
});
