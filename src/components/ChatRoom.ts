// ChatRoom: the handlers of one room's connections share a table of senders, so each line a client
// sends goes straight out of every other member's outbox (to that member's connection).
import { box, defineComponent } from '../kernel/component.js';
import { isShutdownRequest, type SignalMessage } from '../kernel/messages.js';

const NEWLINE = 0x0a;

/**
 * A chat room for a server: each connection whose handler is `room.member()` joins; each complete
 * line (ending in `\n`) a member sends goes to every other member, as bytes. A member leaves when
 * its connection closes.
 *
 * @example
 * ```ts
 * import { ChatRoom, ConnectedServer, run } from 'kamaelia-xstate';
 * const room = new ChatRoom();
 * run(ConnectedServer({ port: 1602, protocol: room.member }));
 * ```
 */
export class ChatRoom {
  private readonly members = new Map<number, (line: Uint8Array) => void>();
  private nextMember = 0;

  /** How many members (open connections) the room has. */
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
