// The baseline: the plain node:net echo server anyone would write by hand (pipe respects
// backpressure both ways; an error such as a peer's reset just closes the socket).
import net from 'node:net';
import type { EchoServer } from './EchoServer.js';

export function startRawEchoServer(host: string): Promise<EchoServer> {
  return serve(host, (socket) => socket.pipe(socket));
}

/** A sink that discards what it reads and answers one byte for each whole MiB, so a sender can time delivery. */
export function startRawSink(host: string): Promise<EchoServer> {
  const mebibyte = 1 << 20;
  return serve(host, (socket) => {
    let received = 0;
    socket.on('data', (chunk: Buffer) => {
      const before = Math.floor(received / mebibyte);
      received += chunk.length;
      const acks = Math.floor(received / mebibyte) - before;
      if (acks > 0) socket.write(Buffer.alloc(acks, 1));
    });
    socket.on('end', () => socket.end());
  });
}

export async function serve(host: string, handle: (socket: net.Socket) => void): Promise<EchoServer> {
  const open = new Set<net.Socket>();
  const server = net.createServer({ noDelay: true }, (socket) => {
    open.add(socket);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => open.delete(socket));
    handle(socket);
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    // A large backlog: the accept workload opens 50 connections at once, the idle one thousands.
    server.listen({ host, port: 0, backlog: 4096 }, () => resolve((server.address() as net.AddressInfo).port));
  });
  return {
    port,
    connections: () => open.size,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of open) socket.destroy();
      }),
  };
}
