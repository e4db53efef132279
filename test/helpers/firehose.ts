// A raw node:net server that sends a known stream as fast as its client reads it, for flow-control tests.
import { createHash } from 'node:crypto';
import * as net from 'node:net';

/** A raw node:net server that writes `total` bytes to its first client (honouring 'drain'), then ends. */
export async function firehose(total: number, chunk: Buffer) {
  const sent = createHash('sha256');
  const state = { written: 0, waitingForDrain: false };
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    const pump = (): void => {
      while (state.written < total) {
        const piece = chunk.subarray(0, Math.min(chunk.length, total - state.written));
        sent.update(piece);
        state.written += piece.length;
        if (!socket.write(piece)) {
          state.waitingForDrain = true;
          socket.once('drain', () => {
            state.waitingForDrain = false;
            pump();
          });
          return;
        }
      }
      socket.end();
    };
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    /** How much was written so far, and whether the server is held back waiting for 'drain'. */
    state,
    /** sha256 of everything written. */
    digest: () => sent.digest('hex'),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
