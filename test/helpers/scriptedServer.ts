// A loopback server that a model-based test steers: it echoes; "STARTTLS\n" makes it a TLS server
// in place (installed before reading further, so a ClientHello right behind the command is kept);
// "GARBAGE\n" makes it answer the next bytes (a ClientHello) with junk and close. The test can end
// (half-close) or reset the current connection.
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { TestPki } from './certs.js';

export interface ScriptedServer {
  readonly port: number;
  /** Bytes echoed so far on the current connection. */
  readonly echoed: () => number;
  readonly connections: () => number;
  /** The peer's half-close (FIN) on the current connection. */
  halfClose(): void;
  /** An RST on the current connection. */
  reset(): void;
  close(): Promise<void>;
}

export async function scriptedServer(pki: TestPki): Promise<ScriptedServer> {
  let raw: net.Socket | undefined;
  let stream: net.Socket | tls.TLSSocket | undefined;
  let echoed = 0;
  let connections = 0;
  const all: net.Socket[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    connections++;
    all.push(socket);
    raw = socket;
    stream = socket;
    echoed = 0;
    socket.on('error', () => {});
    const echo = (target: net.Socket | tls.TLSSocket) => (chunk: Buffer) => {
      echoed += chunk.length;
      target.write(chunk);
    };
    const plainEcho = echo(socket);
    const onPlain = (chunk: Buffer): void => {
      const text = chunk.toString('latin1');
      if (text.startsWith('STARTTLS\n')) {
        socket.off('data', onPlain);
        socket.pause();
        const rest = chunk.subarray('STARTTLS\n'.length);
        if (rest.length > 0) socket.unshift(rest);
        const secure = new tls.TLSSocket(socket, { isServer: true, key: pki.server.key, cert: pki.server.cert, allowHalfOpen: true } as tls.TLSSocketOptions);
        secure.on('error', () => {});
        secure.on('data', echo(secure));
        secure.on('end', () => secure.end());
        stream = secure;
        return;
      }
      if (text.startsWith('GARBAGE\n')) {
        socket.off('data', onPlain);
        const junk = (): void => void socket.end('HTTP/1.1 400 Bad Request\r\n\r\nthis is not TLS\r\n');
        // The ClientHello may have come in the same chunk as the command.
        if (chunk.length > 'GARBAGE\n'.length) junk();
        else socket.once('data', junk);
        return;
      }
      plainEcho(chunk);
    };
    socket.on('data', onPlain);
    socket.on('end', () => {
      if (stream === socket) socket.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    echoed: () => echoed,
    connections: () => connections,
    halfClose: () => stream?.end(),
    reset: () => raw?.resetAndDestroy(),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of all) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
