// A program that uses kamaelia-xstate as an npm user would: compiled by test/package.test.ts under
// strict + nodenext against the installed tarball, then run. Prints one JSON line of what it saw.
import { ConnectedServer, EchoProtocol, TCPClient, createInspector, producerFinished, run, serverShutdown } from 'kamaelia-xstate';
import { tcpClientMachine } from 'kamaelia-xstate/machines';

// The shipped types are real types: a port that is not a number is a compile error (never called).
export const typeErrors = (): unknown => [
  // @ts-expect-error port must be a number
  TCPClient('127.0.0.1', '80'),
];

const inspector = await createInspector();
const server = run(ConnectedServer({ host: '127.0.0.1', port: 0, protocol: () => EchoProtocol() }), { inspect: inspector.inspect });
const { port } = await server.next('listening');

const client = run(TCPClient('127.0.0.1', port), { inspect: inspector.inspect });
client.send('inbox', 'hello\n');
client.send('inbox', 'world\n');
let echoed = '';
while (!echoed.endsWith('world\n')) echoed += (await client.next('outbox', { timeoutMs: 10_000 })).toString();
client.send('control', producerFinished());
const clientResult = await client.done;

const page: Record<string, number> = {};
for (const path of ['/', '/app.js', '/style.css', '/vendor/elk.bundled.js']) {
  const response = await fetch(new URL(path, inspector.url));
  page[path] = response.status;
  if (response.ok) await response.arrayBuffer();
}

server.send('control', serverShutdown());
await server.done;
await inspector.close();
console.log(JSON.stringify({ echoed, clientStatus: clientResult.status, page, machine: tcpClientMachine.id }));
