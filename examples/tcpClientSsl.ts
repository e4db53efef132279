// The seed's SSL example: a Graphline whose OneShot tells the TCPClient to switch to TLS on its
// makessl inbox, with lines typed on the console sent over the connection and replies echoed.
//
//   Graphline(MAKESSL = OneShot(" make ssl "), CONSOLE = ConsoleReader(), ECHO = ConsoleEchoer(),
//             CONNECTION = TCPClient("kamaelia.svn.sourceforge.net", 443),
//             linkages = { ("MAKESSL", "outbox"): ("CONNECTION", "makessl"),
//                          ("CONSOLE", "outbox"): ("CONNECTION", "inbox"),
//                          ("CONNECTION", "outbox"): ("ECHO", "inbox") })
//
// Two linkages are added so the graph ends: the end of console input closes the connection
// (after sending everything), and the connection's end stops the echoer.
//
// Run: echo hello | npx tsx examples/tcpClientSsl.ts [host port]
// Without host and port it starts a TLS echo server on 127.0.0.1 with a throwaway certificate.
import * as net from 'node:net';
import type { Readable, Writable } from 'node:stream';
import * as tls from 'node:tls';
import { pathToFileURL } from 'node:url';
import { generate } from 'selfsigned';
import { ConsoleEchoer, ConsoleReader, Graphline, OneShot, TCPClient, type TCPClientOptions } from 'kamaelia-xstate';

export function sslGraphline(host: string, port: number, options: { tls?: TCPClientOptions['tls']; input?: Readable; output?: Writable } = {}) {
  return Graphline(
    {
      MAKESSL: OneShot(' make ssl '),
      CONSOLE: ConsoleReader({ prompt: '', ...(options.input ? { input: options.input } : {}) }),
      ECHO: ConsoleEchoer(options.output ? { stream: options.output } : {}),
      CONNECTION: TCPClient(host, port, options.tls ? { tls: options.tls } : {}),
    },
    {
      'MAKESSL.outbox': 'CONNECTION.makessl',
      'CONSOLE.outbox': 'CONNECTION.inbox',
      'CONNECTION.outbox': 'ECHO.inbox',
      'CONSOLE.signal': 'CONNECTION.control',
      'CONNECTION.signal': 'ECHO.control',
    },
  );
}

/** A TLS echo server on loopback with a freshly made self-signed certificate (returned as `ca`). */
export async function localTlsEchoServer(): Promise<{ port: number; ca: string; close: () => void }> {
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }] }],
  });
  const server = tls.createServer({ key: pems.private, cert: pems.cert }, (socket) => {
    socket.on('error', () => {});
    socket.on('data', (data: Buffer) => socket.write(`echo over ${socket.getProtocol()}: ${data.toString()}`));
    socket.on('end', () => socket.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, ca: pems.cert, close: () => server.close() };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { run } = await import('kamaelia-xstate');
  const [host, port] = process.argv.slice(2);
  const server = host && port ? undefined : await localTlsEchoServer();
  const graphline = server ? sslGraphline('localhost', server.port, { tls: { ca: server.ca } }) : sslGraphline(host!, Number(port));
  const result = await run(graphline).done;
  server?.close();
  // A refused connection or a certificate that fails the check ends the Graphline with its reason.
  if (result.status === 'error') {
    console.error(`tcpClientSsl: ${result.reason?.code ?? 'ERROR'} ${result.reason?.message ?? ''}`);
    process.exitCode = 1;
  }
}
