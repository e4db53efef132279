// Suspended accepting is a state of tcpServerMachine: a suspended server's snapshot says so, the
// inspector sees it (a step to `suspended`, a state of the machine it draws), resuming goes through
// `resuming`, a port taken meanwhile sends it back to `suspended`, and a shutdown drains from there.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  ConnectedServer,
  EchoProtocol,
  LifecycleTracker,
  TCPServer,
  resumeAccepting,
  run,
  serverShutdown,
  serverStats,
  suspendAccepting,
  type InspectorRecord,
  type Listening,
  type RunHandle,
  type SignalMessage,
} from 'kamaelia-xstate';
import { closed, connect, readBytes, until } from './server-helpers.js';
import { cleanupsAfterEach } from './helpers/cleanups.js';

type Server = RunHandle<{ control: SignalMessage }, { listening: Listening; signal: unknown; protocolHandlerSignal: unknown }>;
const cleanups = cleanupsAfterEach();

async function start(server: Server): Promise<{ server: Server; port: number }> {
  cleanups.push(() => server.stop());
  const { port } = await server.next('listening', { timeoutMs: 5000 });
  return { server, port };
}

const stateOf = (server: Server): unknown => server.actor.getSnapshot().value;

/** Resolves with the error code of a connection attempt, or 'connected'. */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });
}

function listenOn(port: number): Promise<net.Server> {
  const blocker = net.createServer();
  cleanups.push(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
  return new Promise((resolve, reject) => blocker.once('error', reject).listen(port, '127.0.0.1', () => resolve(blocker)));
}

describe('suspended accepting is a state of tcpServerMachine', () => {
  it("a suspended server's snapshot value is `suspended`; resumeAccepting goes through `resuming` back to `listening`", async () => {
    const { server, port } = await start(run(TCPServer({ host: '127.0.0.1', port: 0 })) as unknown as Server);
    const open = await connect(port);
    cleanups.push(() => void open.destroy());
    await until(() => serverStats(server.actor)?.open === 1, 'the connection to be accepted');
    expect(stateOf(server)).toBe('listening');

    expect(suspendAccepting(server.actor)).toBe(true);
    expect(stateOf(server)).toBe('suspended');
    expect(await tryConnect(port)).toBe('ECONNREFUSED');
    expect(suspendAccepting(server.actor)).toBe(false); // already suspended: nothing to do
    expect(serverStats(server.actor)).toMatchObject({ open: 1 });

    expect(resumeAccepting(server.actor)).toBe(true);
    expect(stateOf(server)).toBe('resuming'); // a listen on a host name waits for its lookup
    expect(resumeAccepting(server.actor)).toBe(false);
    await until(() => stateOf(server) === 'listening', 'the server to listen again');
    expect(await tryConnect(port)).toBe('connected');
  });

  it('a port taken while suspended sends resumeAccepting back to `suspended`, the reason in lastAcceptError; a later resume listens', async () => {
    const { server, port } = await start(run(TCPServer({ host: '127.0.0.1', port: 0 })) as unknown as Server);
    expect(suspendAccepting(server.actor)).toBe(true);
    const blocker = await listenOn(port);
    expect(resumeAccepting(server.actor)).toBe(true);
    await until(() => stateOf(server) === 'suspended', 'the reopen to fail');
    expect(serverStats(server.actor)).toMatchObject({ acceptErrors: 1, lastAcceptError: { code: 'EADDRINUSE' } });
    expect(serverStats(server.actor)!.lastAcceptError!.message).toContain(`127.0.0.1:${port}`);

    await new Promise<void>((resolve) => blocker.close(() => resolve()));
    expect(resumeAccepting(server.actor)).toBe(true);
    await until(() => stateOf(server) === 'listening', 'the server to listen again');
    expect(await tryConnect(port)).toBe('connected');
  });

  it('serverShutdown while suspended ends as soon as the last open connection closes (not at the drain timeout)', async () => {
    const { server, port } = await start(run(TCPServer({ host: '127.0.0.1', port: 0, drainTimeout: 60_000, allowHalfOpen: false })) as unknown as Server);
    const open = await connect(port);
    cleanups.push(() => void open.destroy());
    await until(() => serverStats(server.actor)?.open === 1, 'the connection to be accepted');
    expect(suspendAccepting(server.actor)).toBe(true);
    server.send('control', serverShutdown());
    expect(stateOf(server)).toEqual({ draining: 'waiting' });
    open.end();
    await closed(open);
    const started = Date.now();
    await expect(server.done).resolves.toMatchObject({ status: 'done' });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('suspendAccepting and resumeAccepting return false for a server that has ended', async () => {
    const { server } = await start(run(TCPServer({ host: '127.0.0.1', port: 0 })) as unknown as Server);
    server.send('control', serverShutdown());
    await server.done;
    expect(suspendAccepting(server.actor)).toBe(false);
    expect(resumeAccepting(server.actor)).toBe(false);
  });
});

describe('the inspector sees a suspended server', () => {
  it('records the TCPServer stepping to `suspended` on suspendAccepting, a state of the machine it draws, and back', async () => {
    const tracker = new LifecycleTracker();
    const server = run(ConnectedServer({ host: '127.0.0.1', protocol: () => EchoProtocol() }), { inspect: tracker.observe }) as unknown as Server;
    const { port } = await start(server);
    const client = await connect(port);
    cleanups.push(() => void client.destroy());
    client.write('hi');
    await readBytes(client, 2);

    expect(suspendAccepting(server.actor)).toBe(true);
    expect(await tryConnect(port)).toBe('ECONNREFUSED');
    expect(resumeAccepting(server.actor)).toBe(true);
    const records: InspectorRecord[] = [];
    const tcpServerSteps = (): string[] => {
      const actor = records.find((r) => r.k === 'actor' && r.component === 'TCPServer');
      return records.flatMap((r) => (r.k === 'step' && actor?.k === 'actor' && r.id === actor.id ? [`${JSON.stringify(r.value)} ← ${r.event}`] : []));
    };
    await until(() => {
      records.push(...tracker.drain());
      const steps = tcpServerSteps();
      return steps.length > 2 && steps.at(-1)!.startsWith('"listening"');
    }, 'the server to listen again');

    expect(tcpServerSteps()).toEqual([
      '"binding" ← xstate.init',
      '"listening" ← listener.bound',
      '"suspended" ← suspendAccepting',
      '"resuming" ← resumeAccepting',
      '"listening" ← listener.bound',
    ]);
    // The machine the page draws has the state.
    const actor = records.find((r) => r.k === 'actor' && r.component === 'TCPServer');
    const machine = records.find((r) => r.k === 'machine' && actor?.k === 'actor' && r.machine === actor.machine);
    const states = (machine as { definition: { states: Record<string, unknown> } } | undefined)?.definition.states ?? {};
    expect(Object.keys(states)).toEqual(expect.arrayContaining(['listening', 'suspended', 'resuming', 'draining']));
  });
});
