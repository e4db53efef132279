// SingleServer over loopback: one client at a time, others refused cleanly, data queued for the
// first client, producerFinished on signal when a client leaves, and control that works.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  SingleServer,
  producerFinished,
  run,
  serverShutdown,
  serverStats,
  shutdownMicroprocess,
  type ProducerFinished,
} from 'kamaelia-xstate';
import { closed, connect, readAll, readBytes, until } from './server-helpers.js';

const sockets: net.Socket[] = [];
const handles: { stop(): void }[] = [];

afterEach(() => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const handle of handles.splice(0)) handle.stop();
});

async function startSingle() {
  const server = run(SingleServer({ host: '127.0.0.1' }));
  handles.push(server);
  const { port } = await server.next('listening', { timeoutMs: 5000 });
  const client = async (): Promise<net.Socket> => {
    const socket = await connect(port);
    sockets.push(socket);
    return socket;
  };
  return { server, port, client };
}

describe('SingleServer', () => {
  it('queues inbox data for the first client and passes its bytes out of outbox', async () => {
    const { server, client } = await startSingle();
    server.send('inbox', 'queued before anyone came\n');
    const first = await client();
    expect((await readBytes(first, 26)).toString()).toBe('queued before anyone came\n');
    first.write('from the client');
    expect(Buffer.from(await server.next('outbox', { timeoutMs: 5000 })).toString()).toBe('from the client');
    server.send('inbox', new TextEncoder().encode('live'));
    expect((await readBytes(first, 4)).toString()).toBe('live');
  });

  it('refuses a second client while one is served, counts it, and serves the next after the first leaves', async () => {
    const { server, client } = await startSingle();
    const first = await client();
    server.send('inbox', 'hello first');
    await readBytes(first, 11);
    const second = await client();
    second.write('ignored?');
    await closed(second);
    await until(() => serverStats(server.actor)?.refused === 1, 'the refusal to be counted');
    first.end();
    const left = (await server.next('signal', { timeoutMs: 5000 })) as ProducerFinished;
    expect(left.kind).toBe('producerFinished');
    await until(() => serverStats(server.actor)?.open === 0, 'the first client to be gone');
    const third = await client();
    third.write('third');
    expect(Buffer.from(await server.next('outbox', { timeoutMs: 5000 })).toString()).toBe('third');
    server.send('inbox', 'to third');
    expect((await readBytes(third, 8)).toString()).toBe('to third');
  });

  it('producerFinished on control closes the current client after what was queued', async () => {
    const { server, client } = await startSingle();
    const first = await client();
    server.send('inbox', 'last words');
    server.send('control', producerFinished());
    expect((await readAll(first)).toString()).toBe('last words');
    expect(server.actor.getSnapshot().status).toBe('active');
  });

  it('stops on shutdown with no client connected (Kamaelia crashed here)', async () => {
    const { server, port } = await startSingle();
    server.send('control', shutdownMicroprocess());
    expect(await server.done).toEqual({ status: 'done' });
    await expect(connect(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('serverShutdown ends it after the client has gone', async () => {
    const { server, client } = await startSingle();
    const first = await client();
    server.send('inbox', 'x');
    await readBytes(first, 1);
    server.send('control', serverShutdown());
    first.end();
    const messages: unknown[] = [];
    for await (const message of server.messages('signal')) messages.push(message);
    expect(messages.at(-1)).toEqual(serverShutdown());
    expect(await server.done).toEqual({ status: 'done' });
  });
});
