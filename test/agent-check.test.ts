// agentCheck behind a real HAProxy: its `agent-check` reads our answer, and a server that answers
// `drain` (from a signal) or `maint` gets no new connections while it still listens; `up` brings it
// back. HAProxy's view is read from its admin socket (`show stat`), so nothing here waits on time.
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentCheck, box, ConnectedServer, defineComponent, isShutdownRequest, run, serverShutdown, type SignalMessage } from 'kamaelia-xstate';
import { closed, connect, readAll, until } from './server-helpers.js';
import { spreadPort } from './helpers/spreadPort.js';
import { cleanupsAfterEach } from './helpers/cleanups.js';
import { haproxyRequired, haproxyVersion, spawnHaproxy } from './helpers/haproxy.js';

const cleanups = cleanupsAfterEach();

const Named = (name: string) => () =>
  defineComponent({
    name: 'Named',
    inboxes: { inbox: box<Uint8Array>(), control: box<SignalMessage>() },
    outboxes: { outbox: box<Uint8Array | string>(), signal: box<SignalMessage>() },
    body: ({ on, send, finish }) => {
      send('outbox', name);
      send('signal', { kind: 'producerFinished' });
      on('control', (message) => {
        if (isShutdownRequest(message)) finish();
      });
    },
  });

async function startServer(name: string, signals: NodeJS.Signals[]) {
  const server = run(ConnectedServer({ host: '127.0.0.1', protocol: Named(name) }));
  cleanups.push(() => server.stop());
  const { port } = await server.next('listening');
  const agent = agentCheck(server, { port: 0, signals });
  cleanups.push(() => agent.close());
  return { server, port, agent, agentPort: (await agent.listening).port };
}

/** HAProxy's `show stat` on its admin socket: status by server name. */
function serverStatus(socketPath: string): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ path: socketPath });
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.once('error', reject);
    socket.once('connect', () => socket.write('show stat\n'));
    socket.once('end', () => {
      const [header = '', ...rows] = text.split('\n').filter((line) => line !== '');
      const columns = header.replace(/^# /, '').split(',');
      const status: Record<string, string> = {};
      for (const row of rows) {
        const cells = row.split(',');
        status[cells[columns.indexOf('svname')]!] = cells[columns.indexOf('status')]!;
      }
      resolve(status);
    });
  });
}

async function whoAnswers(port: number, count: number): Promise<Set<string>> {
  const names = new Set<string>();
  for (let i = 0; i < count; i++) {
    const socket = await connect(port);
    names.add((await readAll(socket)).toString());
    await closed(socket);
  }
  return names;
}

describe.skipIf(haproxyVersion === undefined && !haproxyRequired)(`agentCheck behind HAProxy ${haproxyVersion ?? '(missing)'}`, () => {
  it('drain (on a signal) and maint take a listening server out of HAProxy; up brings it back', async () => {
    expect(haproxyVersion, 'haproxy must be installed (.ci/run installs it)').toBeDefined();
    const a = await startServer('a', ['SIGUSR2']);
    const b = await startServer('b', []); // in the same process: only a drains on the signal
    const frontend = await spreadPort();
    const haproxy = spawnHaproxy('kamaelia-agent-', (dir) =>
      [
        'global',
        `  stats socket ${path.join(dir, 'admin.sock')} level admin`,
        'defaults',
        '  mode tcp',
        '  timeout connect 1s',
        '  timeout client 10s',
        '  timeout server 10s',
        'frontend app',
        `  bind 127.0.0.1:${frontend}`,
        '  default_backend app',
        'backend app',
        '  balance roundrobin',
        '  default-server check inter 100ms agent-check agent-inter 100ms',
        `  server a 127.0.0.1:${a.port} agent-port ${a.agentPort}`,
        `  server b 127.0.0.1:${b.port} agent-port ${b.agentPort}`,
        '',
      ].join('\n'),
    );
    cleanups.push(haproxy.stop);
    const admin = path.join(haproxy.dir, 'admin.sock');
    let status: Record<string, string> = {};
    const waitFor = async (server: string, wanted: RegExp, what: string): Promise<void> => {
      await until(() => wanted.test(status[server] ?? ''), what, 10_000).catch((error: Error) => {
        throw new Error(`${error.message}; HAProxy says ${JSON.stringify(status)}${haproxy.exited() ? `; it exited: ${haproxy.stderr()}` : ''}`);
      });
    };
    const poll = setInterval(() => void serverStatus(admin).then((now) => (status = now), () => {}), 20);
    cleanups.push(() => clearInterval(poll));

    await waitFor('a', /^UP/, 'a to be UP');
    await waitFor('b', /^UP/, 'b to be UP');
    expect(await whoAnswers(frontend, 6)).toEqual(new Set(['a', 'b']));

    process.emit('SIGUSR2', 'SIGUSR2');
    expect(a.agent.state).toBe('drain');
    await waitFor('a', /^DRAIN/, 'a to be drained');
    expect(await whoAnswers(frontend, 6), JSON.stringify(status)).toEqual(new Set(['b'])); // a still listens, but gets nothing new

    a.agent.set('up');
    await waitFor('a', /^UP/, 'a to be UP again');
    expect(await whoAnswers(frontend, 6)).toEqual(new Set(['a', 'b']));

    b.agent.set('maint');
    await waitFor('b', /^MAINT/, 'b in maintenance');
    expect(await whoAnswers(frontend, 6)).toEqual(new Set(['a']));
  });
});

describe('agentCheck', () => {
  it('answers one line per connection, and closes its port once the server has ended', async () => {
    const server = run(ConnectedServer({ host: '127.0.0.1', protocol: Named('x') }));
    cleanups.push(() => server.stop());
    await server.next('listening');
    const agent = agentCheck(server, { port: 0 });
    const { port } = await agent.listening;
    expect((await readAll(await connect(port))).toString()).toBe('up ready\n');
    agent.set('maint');
    expect((await readAll(await connect(port))).toString()).toBe('maint\n');
    server.send('control', serverShutdown());
    await server.done;
    await expect(agent.close()).resolves.toBeUndefined();
    await expect(connect(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('refuses bad options with a clear error', () => {
    const handle = { done: new Promise<never>(() => {}) };
    expect(() => agentCheck(handle as never, { port: 70_000 })).toThrow(/port must be an integer from 0 to 65535/);
    expect(() => agentCheck({} as never, { port: 0 })).toThrow(/handle must be what run\(\) returned/);
    expect(() => agentCheck(handle as never, { port: 0, timeout: -1 })).toThrow(/timeout/);
  });
});
