// Idle connections: open N connections, each proves the server has set it up (1-byte echo), then
// sits idle. The server process reports its heap + external bytes after two full GCs, before and
// after; the difference per connection is the figure. Kernel socket buffers are not counted.
import net from 'node:net';
import type { ServerProcess } from '../serverProcess.js';

export interface IdleSettings {
  readonly connections: number;
  /** Connections being opened at once. */
  readonly concurrency: number;
  readonly timeoutMs: number;
  /** Runs once every connection is open and echoed, before they close (bench/heap-diff.ts). */
  readonly whileOpen?: () => Promise<void>;
}

export interface IdleFigures {
  readonly bytesPerConnection: number;
  readonly rssBytesPerConnection: number;
}

const oneByte = Buffer.from([0x64]);

export async function idleConnections(host: string, server: ServerProcess, settings: IdleSettings): Promise<IdleFigures> {
  const before = await server.memory();
  const sockets: net.Socket[] = [];
  const deadline = Date.now() + settings.timeoutMs;
  try {
    let next = 0;
    const opener = async (): Promise<void> => {
      while (next < settings.connections) {
        if (Date.now() > deadline) throw new Error(`idle connections: only ${sockets.length} opened within ${settings.timeoutMs} ms`);
        next++;
        sockets.push(await openEchoed(host, server.echoPort));
      }
    };
    await Promise.all(Array.from({ length: settings.concurrency }, opener));
    const after = await server.memory();
    await settings.whileOpen?.();
    const count = settings.connections;
    return {
      bytesPerConnection: (after.heapUsed + after.external - before.heapUsed - before.external) / count,
      rssBytesPerConnection: (after.rss - before.rss) / count,
    };
  } finally {
    // Resets, so 10,000 closes leave nothing in TIME_WAIT.
    await Promise.all(sockets.map(closeWithReset));
    await waitForServerToDrop(server, deadline + 10_000);
  }
}

function closeWithReset(socket: net.Socket): Promise<void> {
  if (socket.closed) return Promise.resolve();
  return new Promise((resolve) => socket.once('close', () => resolve()).resetAndDestroy());
}

function openEchoed(host: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, noDelay: true });
    socket.once('connect', () => socket.write(oneByte));
    socket.once('data', () => {
      socket.off('error', reject);
      socket.on('error', () => socket.destroy());
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** The next measurement should start from a server that has let go of this run's connections. */
async function waitForServerToDrop(server: ServerProcess, deadline: number): Promise<void> {
  for (;;) {
    const open = await server.connections();
    if (open <= 0 || Date.now() > deadline) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
