// Model-based tests of tcpServerMachine against real sockets. xstate/graph cannot walk a machine
// with invoke/after, so a small abstract model of the same lifecycle (binding, listening, draining,
// closed, failed; up to two clients) generates the paths, and each step drives a real TCPServer on
// loopback and checks that the real actor is in the model's state.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { assign, setup } from 'xstate';
import { createTestModel } from 'xstate/graph';
import { TCPServer, run, serverShutdown, serverStats, shutdownMicroprocess, type ProducerFinished, type RunHandle } from 'kamaelia-xstate';
import { closed, connect, freePort, until } from './server-helpers.js';

type ModelEvent =
  | { type: 'BIND' }
  | { type: 'BIND_CONFLICT' }
  | { type: 'CONNECT' }
  | { type: 'CLIENT_CLOSE' }
  | { type: 'SERVER_SHUTDOWN' }
  | { type: 'SHUTDOWN_NOW' };

const MAX_CLIENTS = 2;

const serverModel = setup({
  types: {} as { context: { clients: number }; events: ModelEvent },
  guards: {
    roomForClient: ({ context }) => context.clients < MAX_CLIENTS,
    hasClient: ({ context }) => context.clients > 0,
    lastClient: ({ context }) => context.clients === 1,
    noClients: ({ context }) => context.clients === 0,
  },
}).createMachine({
  id: 'tcpServerModel',
  context: { clients: 0 },
  initial: 'binding',
  states: {
    binding: { on: { BIND: 'listening', BIND_CONFLICT: 'failed', SHUTDOWN_NOW: 'closed' } },
    listening: {
      on: {
        CONNECT: { guard: 'roomForClient', actions: assign({ clients: ({ context }) => context.clients + 1 }) },
        CLIENT_CLOSE: { guard: 'hasClient', actions: assign({ clients: ({ context }) => context.clients - 1 }) },
        SERVER_SHUTDOWN: [{ guard: 'noClients', target: 'closed' }, { target: 'draining' }],
        SHUTDOWN_NOW: 'closed',
      },
    },
    draining: {
      on: {
        CLIENT_CLOSE: [
          { guard: 'lastClient', target: 'closed', actions: assign({ clients: 0 }) },
          { actions: assign({ clients: ({ context }) => context.clients - 1 }) },
        ],
        SHUTDOWN_NOW: 'closed',
      },
    },
    closed: { type: 'final' },
    failed: { type: 'final' },
  },
});

type Server = RunHandle<{ control: unknown }, { signal: unknown; listening: unknown; protocolHandlerSignal: unknown }>;

interface Fixture {
  server?: Server;
  port: number;
  clients: net.Socket[];
  blocker?: net.Server;
  /** What was sent to control, expected back on signal. */
  sent?: unknown;
}

let fx: Fixture | undefined;

afterEach(async () => {
  const fixture = fx;
  if (!fixture) return;
  fixture.server?.stop();
  for (const client of fixture.clients) client.destroy();
  await new Promise<void>((resolve) => (fixture.blocker ? fixture.blocker.close(() => resolve()) : resolve()));
});

function openCount(fixture: Fixture): number {
  return serverStats(fixture.server!.actor)?.open ?? -1;
}

async function runPath(path: { test: (params: never) => Promise<unknown> }): Promise<void> {
  const fixture: Fixture = { port: await freePort(), clients: [] };
  fx = fixture;
  const startServer = (): void => {
    // Short drain/close timeouts are not needed: the model drains by clients leaving or SHUTDOWN_NOW.
    fixture.server = run(TCPServer({ host: '127.0.0.1', port: fixture.port, drainTimeout: 60_000, closeTimeout: 200 })) as unknown as Server;
  };
  await path.test({
    events: {
      BIND: async () => {
        startServer();
        await fixture.server!.next('listening', { timeoutMs: 5000 });
      },
      BIND_CONFLICT: async () => {
        fixture.blocker = net.createServer();
        await new Promise<void>((resolve) => fixture.blocker!.listen(fixture.port, '127.0.0.1', resolve));
        startServer();
      },
      CONNECT: async () => {
        const before = openCount(fixture);
        fixture.clients.push(await connect(fixture.port));
        await until(() => openCount(fixture) === before + 1, 'the server to count the new connection');
      },
      CLIENT_CLOSE: async () => {
        const before = openCount(fixture);
        fixture.clients.shift()!.end();
        await until(() => openCount(fixture) === before - 1 || fixture.server!.actor.getSnapshot().status !== 'active', 'the server to see the client go');
      },
      SERVER_SHUTDOWN: async () => {
        fixture.sent = serverShutdown();
        fixture.server!.send('control', fixture.sent);
      },
      SHUTDOWN_NOW: async () => {
        if (!fixture.server) startServer(); // shutdown while still binding
        fixture.sent = shutdownMicroprocess();
        fixture.server!.send('control', fixture.sent);
      },
    },
    states: {
      binding: async () => {
        expect(fixture.server).toBeUndefined();
      },
      listening: async (model: { context: { clients: number } }) => {
        expect(fixture.server!.actor.getSnapshot().value).toBe('listening');
        expect(openCount(fixture)).toBe(model.context.clients);
      },
      draining: async (model: { context: { clients: number } }) => {
        await until(() => fixture.server!.actor.getSnapshot().matches('draining'), 'draining');
        expect(openCount(fixture)).toBe(model.context.clients);
        await expect(connect(fixture.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      },
      closed: async () => {
        expect(await fixture.server!.done).toEqual({ status: 'done' });
        expect(fixture.server!.actor.getSnapshot().value).toBe('closed');
        expect(await fixture.server!.next('signal')).toEqual(fixture.sent);
        await Promise.all(fixture.clients.map((client) => closed(client)));
        await expect(connect(fixture.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      },
      failed: async () => {
        const signal = (await fixture.server!.next('signal', { timeoutMs: 5000 })) as ProducerFinished;
        expect(signal.reason?.code).toBe('EADDRINUSE');
        expect(fixture.server!.actor.getSnapshot().value).toBe('failed');
      },
    },
  } as never);
}

const model = createTestModel(serverModel, { filterEvents: (snapshot, event) => snapshot.can(event as ModelEvent) });

describe('tcpServerMachine against real sockets (model-based)', () => {
  const shortest = model.getShortestPaths();
  const simple = model.getSimplePaths();
  it('the generated paths reach every state of the lifecycle', () => {
    const reached = new Set(shortest.map((path) => String(path.state.value)));
    for (const state of ['listening', 'draining', 'closed', 'failed']) expect(reached).toContain(state);
  });
  for (const path of shortest) it(`shortest: ${path.description}`, () => runPath(path));
  for (const path of simple) it(`simple: ${path.description}`, () => runPath(path));
});
