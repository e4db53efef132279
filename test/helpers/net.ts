// Loopback helpers for tests: listeners, connected socket pairs, byte collectors, and waiting for
// a condition with a deadline (never a sleep used as an assertion).
import * as net from 'node:net';

export interface Listener {
  readonly server: net.Server;
  readonly port: number;
  readonly host: string;
  /** Sockets the listener accepted, in order. */
  readonly accepted: net.Socket[];
  /** Resolves with the next accepted socket. */
  nextConnection(): Promise<net.Socket>;
  close(): Promise<void>;
}

/** A listener on an ephemeral loopback port. `onConnection` runs for each accepted socket. */
export async function listen(onConnection?: (socket: net.Socket) => void, host = '127.0.0.1'): Promise<Listener> {
  const accepted: net.Socket[] = [];
  const waiting: ((socket: net.Socket) => void)[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('error', () => {});
    accepted.push(socket);
    onConnection?.(socket);
    waiting.shift()?.(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  let seen = 0;
  return {
    server,
    port,
    host,
    accepted,
    nextConnection: () => {
      if (accepted.length > seen) return Promise.resolve(accepted[seen++]!);
      return new Promise((resolve) => waiting.push((socket) => (seen++, resolve(socket))));
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of accepted) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A connected pair over loopback: `local` (ours, for the CSA) and `peer` (the test's end). */
export async function socketPair(host = '127.0.0.1'): Promise<{ local: net.Socket; peer: net.Socket; close: () => Promise<void> }> {
  const listener = await listen(undefined, host);
  const peerPromise = listener.nextConnection();
  const local = net.connect({ host, port: listener.port, allowHalfOpen: true });
  await new Promise<void>((resolve, reject) => {
    local.once('connect', resolve);
    local.once('error', reject);
  });
  const peer = await peerPromise;
  return {
    local,
    peer,
    close: async () => {
      local.destroy();
      await listener.close();
    },
  };
}

/** Collects everything a socket receives. */
export function collect(socket: net.Socket): { bytes: () => Buffer; length: () => number; ended: Promise<void>; closed: Promise<void> } {
  const chunks: Buffer[] = [];
  let length = 0;
  socket.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    length += chunk.length;
  });
  return {
    bytes: () => Buffer.concat(chunks),
    length: () => length,
    ended: new Promise((resolve) => socket.once('end', resolve)),
    closed: new Promise((resolve) => socket.once('close', () => resolve())),
  };
}

/** Waits until `condition()` holds, checking every few ms; rejects after `timeoutMs` naming `what`. */
export async function until(condition: () => boolean, what = 'condition', timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A deterministic payload of `size` bytes, so corruption and reordering are visible. */
export function pattern(size: number, seed = 0): Buffer {
  const buffer = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) buffer[i] = (i * 31 + seed + (i >>> 8)) & 0xff;
  return buffer;
}

/** A loopback port nothing listens on (it was just bound and closed): connecting is refused. */
export async function closedPort(): Promise<number> {
  const listener = await listen();
  await listener.close();
  return listener.port;
}
