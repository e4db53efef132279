// examples/echoServer.ts — every connection gets its own EchoProtocol; what a client sends comes back.
// npx tsx examples/echoServer.ts [port]     then: nc 127.0.0.1 1601     (Ctrl-C stops it gracefully)
import { ConnectedServer, EchoProtocol, run, serverShutdown } from 'kamaelia-xstate';

const port = Number(process.argv[2] ?? 1601);
const server = run(ConnectedServer({ host: '127.0.0.1', port, protocol: () => EchoProtocol() }));
const { address, port: bound } = await server.next('listening');
console.log(`echo server on ${address}:${bound}`);
process.once('SIGINT', () => server.send('control', serverShutdown()));
console.log('ended:', await server.next('signal'));
