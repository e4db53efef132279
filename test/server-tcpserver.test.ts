// TCPServer on its own: newCSA (id, running CSA, peer info) before the CSA reads a byte, shutdownCSA
// with the same id once it has ended, and the drain that asks open CSAs to finish.
import { describe, expect, it } from 'vitest';
import type { AnyActorRef } from 'xstate';
import { TCPServer, run, serverShutdown, serverStats, type NewCSA, type ProtocolHandlerSignal, type ShutdownCSA } from 'kamaelia-xstate';
import { linkToInbox } from '../src/kernel/routing.js';
import { connect, readAll, readBytes, until } from './server-helpers.js';

describe('TCPServer', () => {
  it('announces each connection with newCSA, its CSA serves it, and shutdownCSA follows its close', async () => {
    const server = run(TCPServer({ host: '127.0.0.1' }));
    const { port } = await server.next('listening', { timeoutMs: 5000 });
    const announced: ProtocolHandlerSignal[] = [];
    // Link synchronously, as a consumer must: the CSA starts right after newCSA is delivered.
    server.actor.on('protocolHandlerSignal', (event: { data: ProtocolHandlerSignal }) => {
      announced.push(event.data);
      if (event.data.kind === 'newCSA') linkToInbox(event.data.csa, 'outbox', event.data.csa, 'inbox'); // echo
    });
    const client = await connect(port);
    client.write('first bytes are not lost');
    expect((await readBytes(client, 24)).toString()).toBe('first bytes are not lost');
    const opened = announced[0] as NewCSA<AnyActorRef>;
    expect(opened).toMatchObject({ kind: 'newCSA', id: 0, info: { peer: '127.0.0.1', peerPort: client.localPort, localIp: '127.0.0.1', localPort: port } });
    expect(serverStats(server.actor)).toMatchObject({ open: 1, accepted: 1 });

    const rest = readAll(client);
    client.end();
    await rest;
    await until(() => announced.length === 2, 'shutdownCSA');
    const shut = announced[1] as ShutdownCSA<AnyActorRef>;
    expect(shut).toMatchObject({ kind: 'shutdownCSA', id: 0 });
    expect(shut.csa).toBe(opened.csa);
    expect(opened.csa.getSnapshot().status).toBe('done');
    server.send('control', serverShutdown());
    expect(await server.done).toEqual({ status: 'done' });
  });

  it('after drainTimeout asks each open CSA to finish: the client gets EOF, the server ends', async () => {
    const server = run(TCPServer({ host: '127.0.0.1', drainTimeout: 50 }));
    const { port } = await server.next('listening', { timeoutMs: 5000 });
    const client = await connect(port);
    await until(() => serverStats(server.actor)?.open === 1, 'the connection');
    const eof = readAll(client);
    server.send('control', serverShutdown());
    expect((await eof).length).toBe(0);
    expect(await server.next('signal')).toEqual(serverShutdown());
    expect(await server.done).toEqual({ status: 'done' });
  });
});
