// Chat server: each line a client sends goes to every other client.
//   npx tsx examples/chatServer.ts [port]      then, in two terminals: nc 127.0.0.1 1602
// One ChatRoom member handler per connection (ChatRoom is part of the package): the members of a
// room share a Map of senders, so a line goes straight from its sender out of each other member's outbox.
import { pathToFileURL } from 'node:url';
import { ChatRoom, ConnectedServer, run, serverShutdown, type ConnectedServerOptions } from 'kamaelia-xstate';

export { ChatRoom };

export function ChatServer(options: Omit<ConnectedServerOptions, 'protocol'>, room = new ChatRoom()) {
  return ConnectedServer({ ...options, protocol: room.member });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const server = run(ChatServer({ host: '127.0.0.1', port: Number(process.argv[2] ?? 1602) }));
  const { address, port } = await server.next('listening');
  console.log(`chat server on ${address}:${port} (Ctrl-C to stop)`);
  process.once('SIGINT', () => server.send('control', serverShutdown()));
  await server.done;
}
