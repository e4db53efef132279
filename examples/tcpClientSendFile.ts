// The seed's first TCPClient example: send the contents of a file to a server.
//
//   Pipeline(RateControlledFileReader("myfile", rate=100000), TCPClient("1.2.3.4", 1000))
//
// Run: npx tsx examples/tcpClientSendFile.ts <file> [host port]
// Without host and port it starts a receiving server on 127.0.0.1 and reports what arrived.
import * as net from 'node:net';
import { pathToFileURL } from 'node:url';
import { Pipeline, RateControlledFileReader, TCPClient, run, type RunResult, type SignalMessage } from 'kamaelia-xstate';

/** Sends `path` to host:port at `rate` bytes a second; resolves with the client's end signal. */
export async function sendFile(path: string, host: string, port: number, rate = 100_000): Promise<{ result: RunResult; signal: SignalMessage | undefined }> {
  const handle = run(Pipeline(RateControlledFileReader(path, { rate }), TCPClient(host, port)));
  let signal: SignalMessage | undefined;
  for await (const message of handle.messages('signal')) signal = message;
  return { result: await handle.done, signal };
}

/** A loopback server that counts what each connection sends. */
export async function countingServer(): Promise<{ port: number; received: Promise<number>; close: () => void }> {
  let report: (bytes: number) => void = () => {};
  const received = new Promise<number>((resolve) => (report = resolve));
  const server = net.createServer((socket) => {
    let bytes = 0;
    socket.on('data', (chunk: Buffer) => (bytes += chunk.length));
    socket.on('end', () => {
      socket.end();
      report(bytes);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, received, close: () => server.close() };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [path, host, port] = process.argv.slice(2);
  if (!path) {
    console.error('usage: tsx examples/tcpClientSendFile.ts <file> [host port]');
    process.exit(2);
  }
  if (host && port) {
    const { signal } = await sendFile(path, host, Number(port));
    console.log('client ended:', signal);
  } else {
    const server = await countingServer();
    const { signal } = await sendFile(path, '127.0.0.1', server.port, 1_000_000);
    console.log(`server on 127.0.0.1:${server.port} received ${await server.received} bytes; client ended:`, signal);
    server.close();
  }
}
