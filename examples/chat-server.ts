// Chat server: each line a client sends goes to every other client.
//   npx tsx examples/chat-server.ts [port]      then, in two terminals: nc 127.0.0.1 1602
// One ChatMember handler per connection; the members of a room share a Map of senders, so a line
// goes straight from its sender's handler out of each other member's outbox (to that CSA).
import { pathToFileURL } from 'node:url';
import {
  ConnectedServer,
  box,
  defineComponent,
  isShutdownRequest,
  run,
  serverShutdown,
  type ConnectedServerOptions,
  type SignalMessage,
} from '../src/index.js';

const NEWLINE = 0x0a;

/** A chat room: the connection handlers of its members, each able to send to its own client. */
export class ChatRoom {
  private readonly members = new Map<number, (line: Uint8Array) => void>();
  private nextMember = 0;

  get size(): number {
    return this.members.size;
  }

  /** The handler for one connection: splits what its client sends into lines and passes each on. */
  readonly member = () =>
    defineComponent({
      name: 'ChatMember',
      inboxes: { inbox: box<Uint8Array>(), control: box<SignalMessage>() },
      outboxes: { outbox: box<Uint8Array>(), signal: box<SignalMessage>() },
      body: ({ on, send, finish }) => {
        const id = this.nextMember++;
        let partial: Buffer = Buffer.alloc(0);
        this.members.set(id, (line) => send('outbox', line));
        on('inbox', (data) => {
          let pending = partial.length > 0 ? Buffer.concat([partial, data]) : Buffer.from(data);
          for (let end = pending.indexOf(NEWLINE); end >= 0; end = pending.indexOf(NEWLINE)) {
            const line = pending.subarray(0, end + 1);
            for (const [other, deliver] of this.members) if (other !== id) deliver(line);
            pending = pending.subarray(end + 1);
          }
          partial = Buffer.from(pending);
        });
        on('control', (message) => {
          if (isShutdownRequest(message)) finish(); // the connection is gone (socketShutdown)
        });
        return () => this.members.delete(id);
      },
    });
}

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
