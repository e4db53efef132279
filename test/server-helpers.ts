// Test helpers for the server tests: loopback clients, waiting on conditions, and certificates made
// at test time with selfsigned (test-only, never shipped).
import net from 'node:net';
import tls from 'node:tls';
import { generate } from 'selfsigned';

/** Resolves once `condition()` is true; rejects with `what` after `timeoutMs`. */
export async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export function connect(port: number, host = '127.0.0.1'): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host, allowHalfOpen: true });
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/**
 * Collects everything the peer sends until it ends or the socket closes; resolves with it. Ends our
 * side too when the peer ends, as a well-behaved client does.
 */
export function readAll(socket: net.Socket | tls.TLSSocket): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    const done = (): void => resolve(Buffer.concat(chunks));
    socket.once('end', () => {
      socket.end();
      done();
    });
    socket.once('close', done);
    socket.on('error', () => {});
  });
}

/** Resolves with the first `length` bytes received. */
export function readBytes(socket: net.Socket | tls.TLSSocket, length: number, timeoutMs = 5000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const timer = setTimeout(() => reject(new Error(`timed out after ${total} of ${length} bytes`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      total += chunk.length;
      if (total >= length) {
        clearTimeout(timer);
        socket.off('data', onData);
        resolve(Buffer.concat(chunks).subarray(0, length));
      }
    };
    socket.on('data', onData);
  });
}

/** Resolves when the server has closed the connection (we see EOF, a reset or a close); discards data. */
export function closed(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed || socket.readableEnded) {
      resolve();
      return;
    }
    socket.on('data', () => {});
    socket.once('end', () => {
      socket.end();
      resolve();
    });
    socket.once('close', () => resolve());
    socket.on('error', () => {});
  });
}

let nextReserved = 0;

/**
 * A port that nothing listens on, for a test that binds it itself a moment later. It comes from
 * below the kernel's ephemeral range (32768+), so no client socket or port-0 server can take it
 * meanwhile, and from a block of its own for each vitest worker, so parallel files do not collide.
 */
export async function freePort(): Promise<number> {
  const worker = Number(process.env.VITEST_POOL_ID ?? process.env.VITEST_WORKER_ID ?? 1);
  const blockStart = 20_000 + ((worker - 1) % 8) * 1_000;
  for (let tries = 0; tries < 1_000; tries++) {
    const port = blockStart + (nextReserved++ % 1_000);
    if (await canBind(port)) return port;
  }
  throw new Error('no free port below the ephemeral range');
}

/** Whether `port` on 127.0.0.1 is free now: binds it and lets it go. */
export async function canBind(port: number): Promise<boolean> {
  const server = net.createServer();
  const bound = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => resolve(true));
  });
  if (bound) await new Promise<void>((resolve) => server.close(() => resolve()));
  return bound;
}

export interface TestCertificates {
  readonly ca: string;
  readonly serverKey: string;
  readonly serverCert: string;
  readonly clientKey: string;
  readonly clientCert: string;
  /** A client certificate not signed by `ca`. */
  readonly strangerKey: string;
  readonly strangerCert: string;
}

let certificates: Promise<TestCertificates> | undefined;

/** A CA, a server certificate for 127.0.0.1/localhost and client certificates, made once per test file. */
export function testCertificates(): Promise<TestCertificates> {
  certificates ??= (async () => {
    const ec = { keyType: 'ec' as const, curve: 'P-256' as const, algorithm: 'sha256' };
    const ca = await generate([{ name: 'commonName', value: 'kamaelia-xstate test CA' }], {
      ...ec,
      extensions: [
        { name: 'basicConstraints', cA: true, critical: true },
        { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
      ],
    });
    const signer = { key: ca.private, cert: ca.cert };
    const server = await generate([{ name: 'commonName', value: 'localhost' }], {
      ...ec,
      ca: signer,
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
        { name: 'extKeyUsage', serverAuth: true },
        { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
      ],
    });
    const clientExtensions = [
      { name: 'basicConstraints' as const, cA: false },
      { name: 'keyUsage' as const, digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage' as const, clientAuth: true },
    ];
    const client = await generate([{ name: 'commonName', value: 'test client' }], { ...ec, ca: signer, extensions: clientExtensions });
    const stranger = await generate([{ name: 'commonName', value: 'stranger' }], { ...ec, extensions: clientExtensions });
    return {
      ca: ca.cert,
      serverKey: server.private,
      serverCert: server.cert,
      clientKey: client.private,
      clientCert: client.cert,
      strangerKey: stranger.private,
      strangerCert: stranger.cert,
    };
  })();
  return certificates;
}

/** A TLS client over loopback that verifies the server against `ca`. */
export function tlsConnect(port: number, options: tls.ConnectionOptions): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ...options });
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Counts of active libuv handles by type (TCPSocketWrap, TCPServerWrap, Timeout, ...). */
export function activeResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const name of process.getActiveResourcesInfo()) counts.set(name, (counts.get(name) ?? 0) + 1);
  return counts;
}
