// TCPServer binding: port 0, portRange, host, bind failures reported on signal with their code,
// bad options refused at construction, and shutdown in each early state.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TCPServer, run, serverShutdown, serverStats, shutdownMicroprocess, type Listening, type ProducerFinished } from 'kamaelia-xstate';
import { connect } from './server-helpers.js';

function unprivilegedPortStart(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8'));
  } catch {
    return 1024; // not Linux: the classic rule
  }
}

async function occupy(port = 0): Promise<net.Server> {
  const blocker = net.createServer();
  await new Promise<void>((resolve, reject) => {
    blocker.once('error', reject);
    blocker.listen(port, '127.0.0.1', resolve);
  });
  return blocker;
}

describe('TCPServer binding', () => {
  it('binds port 0 to a free port, reports it on listening, and accepts there', async () => {
    const server = run(TCPServer({ host: '127.0.0.1' }));
    const info = await server.next('listening', { timeoutMs: 5000 });
    expect(info).toMatchObject({ kind: 'listening', address: '127.0.0.1', family: 'IPv4' });
    expect(info.port).toBeGreaterThan(0);
    const client = await connect(info.port);
    client.destroy();
    server.send('control', shutdownMicroprocess());
    expect(await server.done).toEqual({ status: 'done' });
  });

  it('binds IPv6 loopback and reports family IPv6', async () => {
    const server = run(TCPServer({ host: '::1' }));
    const info = await server.next('listening', { timeoutMs: 5000 });
    expect(info).toMatchObject({ address: '::1', family: 'IPv6' });
    server.send('control', serverShutdown());
    expect(await server.next('signal')).toEqual(serverShutdown());
  });

  it('picks a free port from portRange, skipping one in use, and reports it', async () => {
    // Below the ephemeral range (32768+ on Linux), so no client socket or port-0 server of a
    // parallel test can take base + 1 in the meantime.
    let base = 0;
    let blocker: net.Server | undefined;
    for (let attempt = 0; !blocker && attempt < 20; attempt++) {
      base = 20_000 + Math.floor(Math.random() * 9_000);
      blocker = await occupy(base).catch(() => undefined);
    }
    try {
      const server = run(TCPServer({ host: '127.0.0.1', portRange: [base, base + 1] }));
      const info = await server.next('listening', { timeoutMs: 5000 });
      expect(info.port).toBe(base + 1);
      server.send('control', serverShutdown());
      await server.done;
    } finally {
      blocker?.close();
    }
  });

  it('reports EADDRINUSE on signal with its code and ends', async () => {
    const blocker = await occupy();
    const { port } = blocker.address() as net.AddressInfo;
    try {
      const server = run(TCPServer({ host: '127.0.0.1', port }));
      const signal = (await server.next('signal', { timeoutMs: 5000 })) as ProducerFinished;
      expect(signal.kind).toBe('producerFinished');
      expect(signal.reason?.code).toBe('EADDRINUSE');
      expect(signal.reason?.message).toContain(String(port));
      expect(await server.done).toMatchObject({ status: 'error', reason: { code: 'EADDRINUSE' } });
      expect(server.actor.getSnapshot().value).toBe('failed');
    } finally {
      blocker.close();
    }
  });

  it('reports a full portRange as EADDRINUSE', async () => {
    const blocker = await occupy();
    const { port } = blocker.address() as net.AddressInfo;
    try {
      const server = run(TCPServer({ host: '127.0.0.1', portRange: [port, port] }));
      const signal = (await server.next('signal', { timeoutMs: 5000 })) as ProducerFinished;
      expect(signal.reason?.code).toBe('EADDRINUSE');
    } finally {
      blocker.close();
    }
  });

  it('reports a host that is not ours (EADDRNOTAVAIL) without sending a packet', async () => {
    // 192.0.2.1 is TEST-NET-1: never a local address, and bind() sends nothing.
    const server = run(TCPServer({ host: '192.0.2.1' }));
    const signal = (await server.next('signal', { timeoutMs: 5000 })) as ProducerFinished;
    expect(signal.reason?.code).toBe('EADDRNOTAVAIL');
    await server.done;
  });

  // Where unprivileged users may bind any port (net.ipv4.ip_unprivileged_port_start=0, as in some
  // containers) no port is privileged and EACCES cannot happen.
  it.skipIf(unprivilegedPortStart() <= 1)('reports EACCES for a privileged port bound by an unprivileged user', async () => {
    const fixture = fileURLToPath(new URL('./fixtures/server-bind-port.ts', import.meta.url));
    const tsx = fileURLToPath(new URL('../node_modules/tsx/dist/cli.mjs', import.meta.url));
    // As root, drop to nobody in a child process; otherwise this process is unprivileged already.
    const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const output = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [tsx, fixture, '127.0.0.1', '1'], { ...asNobody, timeout: 20_000, env: { ...process.env, HOME: '/tmp' } }, (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
      ),
    );
    const signal = JSON.parse(output) as ProducerFinished;
    expect(signal.reason?.code).toBe('EACCES');
  });

  it('refuses bad options at construction, naming them', () => {
    expect(() => TCPServer({ port: 70000 })).toThrow(/port must be an integer from 0 to 65535/);
    expect(() => TCPServer({ port: 1.5 })).toThrow(/port/);
    expect(() => TCPServer({ portRange: [10, 5] })).toThrow(/portRange \[10, 5\] is empty/);
    expect(() => TCPServer({ maxConnections: 0 })).toThrow(/maxConnections/);
    expect(() => TCPServer({ drainTimeout: -1 })).toThrow(/drainTimeout/);
    expect(() => TCPServer({ idleTimeout: Infinity })).toThrow(/idleTimeout/);
    expect(() => TCPServer({ host: '' })).toThrow(/host/);
    expect(() => TCPServer({ tls: { secure: true } })).toThrow(/needs a key and cert/);
  });

  it('a shutdown before the bind completes ends it with that message', async () => {
    const server = run(TCPServer({ host: '127.0.0.1' }));
    server.send('control', shutdownMicroprocess());
    expect(await server.next('signal')).toEqual(shutdownMicroprocess());
    expect(await server.done).toEqual({ status: 'done' });
  });

  it('after serverShutdown with no connections, the port is released and new connects are refused', async () => {
    const server = run(TCPServer({ host: '127.0.0.1' }));
    const { port } = (await server.next('listening')) as Listening;
    server.send('control', serverShutdown());
    await server.done;
    await expect(connect(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(serverStats(server.actor)).toMatchObject({ open: 0, accepted: 0 });
  });
});
