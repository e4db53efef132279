// The other end of a component under test, on loopback: a scripted peer (a raw server) for a
// client, a raw client for a server. Both hand out a LoopbackConnection the test steers: write,
// read what arrived, upgrade to TLS, half-close, reset. Nothing answers on its own: a FIN from the
// component is not answered with a FIN until the test says so.
import * as net from 'node:net';
import * as tls from 'node:tls';

/** One raw connection the test steers. */
export interface LoopbackConnection {
  /** Every byte received so far (after TLS, the decrypted bytes). */
  received(): Buffer;
  /** Resolves once at least `bytes` bytes in all were received; rejects after `timeoutMs` (default 5000). */
  waitForBytes(bytes: number, timeoutMs?: number): Promise<Buffer>;
  /** Resolves once `text` was received (latin1); rejects after `timeoutMs` (default 5000). */
  waitForText(text: string, timeoutMs?: number): Promise<void>;
  /** Sends `data` (over TLS once startTls has run). */
  write(data: Uint8Array | string): void;
  /**
   * Switches to TLS in place (server side with `isServer: true`). Resolves when the handshake
   * completes. `plainBytes`: how many of the bytes received so far were plain text; any received
   * beyond them (a ClientHello right behind the last plain command) go to the handshake instead.
   * Default: all of them were plain.
   */
  startTls(options: tls.TLSSocketOptions & { servername?: string }, plainBytes?: number): Promise<void>;
  /** Our FIN: we send no more, we still read. */
  halfClose(): void;
  /** An RST. */
  reset(): void;
  /** Whether the component's FIN arrived. */
  readonly ended: () => boolean;
  /** Whether the socket is closed. */
  readonly closed: () => boolean;
  /** Resolves when the socket is closed. */
  whenClosed(): Promise<void>;
  /** Resolves when the other side has ended (FIN) or reset; rejects after `timeoutMs` (default 5000). */
  whenEnded(timeoutMs?: number): Promise<void>;
}

function until(condition: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const poll = (): void => {
      if (condition()) resolve();
      else if (Date.now() > deadline) reject(new Error(`loopback: ${what} did not happen within ${timeoutMs} ms`));
      else setTimeout(poll, 2);
    };
    poll();
  });
}

function wrap(raw: net.Socket): LoopbackConnection {
  const chunks: Buffer[] = [];
  let total = 0;
  let ended = false;
  let closed = false;
  let stream: net.Socket | tls.TLSSocket = raw;
  const onData = (chunk: Buffer): void => {
    chunks.push(chunk);
    total += chunk.length;
  };
  raw.on('data', onData);
  raw.on('end', () => (ended = true));
  raw.on('error', () => undefined);
  raw.on('close', () => (closed = true));
  const received = (): Buffer => (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
  return {
    received,
    waitForBytes: async (bytes, timeoutMs = 5000) => {
      await until(() => total >= bytes, `receiving ${bytes} bytes (got ${total})`, timeoutMs);
      return received();
    },
    waitForText: (text, timeoutMs = 5000) => until(() => received().toString('latin1').includes(text), `receiving ${JSON.stringify(text)}`, timeoutMs),
    write: (data) => void stream.write(data),
    startTls: (options, plainBytes) => {
      raw.off('data', onData);
      raw.pause();
      if (plainBytes !== undefined && total > plainBytes) {
        const all = received();
        chunks.length = 0;
        chunks.push(Buffer.from(all.subarray(0, plainBytes)));
        total = plainBytes;
        raw.unshift(all.subarray(plainBytes));
      }
      const secure = options.isServer ? new tls.TLSSocket(raw, { ...options }) : tls.connect({ ...options, socket: raw });
      stream = secure;
      secure.on('data', onData);
      secure.on('end', () => (ended = true));
      return new Promise<void>((resolve, reject) => {
        secure.once('secure', () => resolve());
        secure.once('secureConnect', () => resolve());
        secure.once('error', (error: Error) => reject(error));
        secure.once('close', () => reject(new Error('loopback: the socket closed during the TLS handshake')));
        secure.on('error', () => undefined);
      });
    },
    halfClose: () => void stream.end(),
    reset: () => void raw.resetAndDestroy(),
    ended: () => ended,
    closed: () => closed,
    whenEnded: (timeoutMs = 5000) => until(() => ended || closed, 'the other side ending', timeoutMs),
    whenClosed: () => (closed ? Promise.resolve() : new Promise((resolve) => raw.once('close', () => resolve()))),
  };
}

/** A listening raw server on loopback for a client under test. */
export interface ScriptedPeer {
  readonly host: string;
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: () => number;
  /** The next accepted connection (the first one not yet handed out). */
  connection(timeoutMs?: number): Promise<LoopbackConnection>;
  /** Resets every connection and stops listening. */
  close(): Promise<void>;
}

/** Listens on `host` (default 127.0.0.1) on an ephemeral port. */
export async function scriptedPeer(host = '127.0.0.1'): Promise<ScriptedPeer> {
  const connections: LoopbackConnection[] = [];
  const sockets: net.Socket[] = [];
  let handedOut = 0;
  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: false }, (socket) => {
    sockets.push(socket);
    connections.push(wrap(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  return {
    host,
    port: (server.address() as net.AddressInfo).port,
    accepted: () => connections.length,
    connection: async (timeoutMs = 5000) => {
      await until(() => connections.length > handedOut, 'a connection', timeoutMs);
      return connections[handedOut++]!;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.resetAndDestroy();
        server.close(() => resolve());
      }),
  };
}

/** Connects a raw client to a server under test. */
export async function rawClient(port: number, host = '127.0.0.1'): Promise<LoopbackConnection> {
  const socket = net.connect({ port, host, allowHalfOpen: true });
  const connection = wrap(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  return connection;
}
