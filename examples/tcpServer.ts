// examples/tcpServer.ts: TCPServer on its own. Every connection is announced on protocolHandlerSignal
// (newCSA), greeted by its ConnectedSocketAdapter, and reported when it ends (shutdownCSA); the
// server shuts down after its first connection has ended.
// npx tsx examples/tcpServer.ts [port]    then: nc 127.0.0.1 1607
import { ConnectedSocketAdapter, TCPServer, isNewCSA, run, serverShutdown } from 'kamaelia-xstate';

const server = run(
  TCPServer({
    host: '127.0.0.1',
    port: Number(process.argv[2] ?? 1607),
    // Kamaelia's CSA hook: how each accepted socket becomes a component (here, one that greets first).
    csa: (socket, options) => ConnectedSocketAdapter(socket, { ...options, initialWrites: ['hello\r\n'] }),
  }),
);
console.log('listening on port', (await server.next('listening')).port);
for await (const message of server.messages('protocolHandlerSignal')) {
  if (isNewCSA(message)) {
    console.log(`connection ${message.id} from ${message.info.peer}:${message.info.peerPort}`);
  } else {
    console.log(`connection ${message.id} ended`, message.reason ?? '');
    server.send('control', serverShutdown()); // stop accepting, let open connections finish, end
  }
}
console.log(await server.done); // { status: 'done' }
