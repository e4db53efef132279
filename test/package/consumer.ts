// A program that uses kamaelia-xstate as an npm user would: compiled by test/package.test.ts under
// strict + nodenext against the installed tarball, then run. Prints one JSON line of what it saw.
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createMachine } from 'xstate';
import { ConnectedServer, EchoProtocol, Lines, Pipeline, TCPClient, createInspector, producerFinished, run, serverShutdown, toDuplex } from 'kamaelia-xstate';
import { tcpClientMachine } from 'kamaelia-xstate/machines';
import { createTestModel } from 'kamaelia-xstate/testing';

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

// Lines and a Node stream pipeline through toDuplex, against the same server.
const lines = run(Pipeline(TCPClient('127.0.0.1', port), Lines()));
lines.send('inbox', 'one\r\ntwo\n');
const framed = [await lines.next('outbox', { timeoutMs: 10_000 }), await lines.next('outbox', { timeoutMs: 10_000 })];
lines.send('control', producerFinished());
await lines.done;
let piped = '';
await pipeline(
  Readable.from(['through ', 'a pipeline\n']),
  toDuplex(TCPClient('127.0.0.1', port)),
  new Writable({
    write(chunk: Buffer, _encoding, callback) {
      piped += chunk.toString();
      callback();
    },
  }),
);

// The user's own machine, made with the user's xstate, walked by the testing module: one xstate.
const toggle = createMachine({ id: 'toggle', initial: 'off', states: { off: { on: { flip: 'on' } }, on: { on: { flip: 'off' } } } });
const togglePaths = createTestModel(toggle).getShortestPaths().length;

const page: Record<string, number> = {};
for (const path of ['/', '/app.js', '/style.css', '/vendor/elk.bundled.js']) {
  const response = await fetch(new URL(path, inspector.url));
  page[path] = response.status;
  if (response.ok) await response.arrayBuffer();
}

server.send('control', serverShutdown());
await server.done;
await inspector.close();
console.log(JSON.stringify({ echoed, clientStatus: clientResult.status, framed, piped, togglePaths, page, machine: tcpClientMachine.id }));
