// Every message to a body component goes through the kernel's one mailbox (src/kernel/mailbox.ts),
// whether it runs as its own actor or hosted inside a server connection, and so do a socket
// binding's box messages: one handler at a time, in order, re-entrancy safe, nothing handled after
// finish(), and inspectors still see every message.
import { describe, expect, it } from 'vitest';
import type { InspectionEvent } from 'xstate';
import { Pipeline, box, defineComponent, run, type SignalMessage } from 'kamaelia-xstate';
import { deliverToInbox } from '../src/kernel/routing.js';
import { Mailbox } from '../src/kernel/mailbox.js';

/** Records handler entry/exit; on `feedBack` messages it sends itself more, from inside the handler. */
function Reentrant(log: string[], options: { finishOn?: number } = {}) {
  return defineComponent({
    name: 'Reentrant',
    inboxes: { inbox: box<number>(), control: box<SignalMessage>() },
    outboxes: { outbox: box<number>(), signal: box<SignalMessage>() },
    body: ({ on, self, finish }) => {
      on('inbox', (n) => {
        log.push(`start ${n}`);
        if (n === 1) {
          deliverToInbox(self, 'inbox', 2);
          deliverToInbox(self, 'inbox', 3);
        }
        if (n === options.finishOn) finish();
        log.push(`end ${n}`);
      });
    },
  });
}

describe('direct delivery to body components', () => {
  it('runs one handler at a time, in order, when a handler sends to its own component', async () => {
    const log: string[] = [];
    const handle = run(Reentrant(log));
    handle.send('inbox', 1);
    expect(log).toEqual(['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
    handle.stop();
    await handle.done;
  });

  it('handles nothing after finish(), not even messages that were already in line', async () => {
    const log: string[] = [];
    const handle = run(Reentrant(log, { finishOn: 1 }));
    handle.send('inbox', 1);
    expect((await handle.done).status).toBe('done');
    expect(log).toEqual(['start 1', 'end 1']);
  });

  it('keeps a message that arrives while the body is still starting, as the mailbox would', async () => {
    const log: string[] = [];
    const Early = defineComponent({
      name: 'Early',
      inboxes: { inbox: box<string>(), control: box<SignalMessage>() },
      outboxes: { outbox: box<string>(), signal: box<SignalMessage>() },
      body: ({ on, self }) => {
        deliverToInbox(self, 'inbox', 'sent before on()');
        on('inbox', (message) => log.push(message));
      },
    });
    const handle = run(Early);
    expect(log).toEqual(['sent before on()']);
    handle.stop();
    await handle.done;
  });

  it('lets inspectors see each message reach each stage', async () => {
    const seen: string[] = [];
    const inspect = (event: InspectionEvent): void => {
      if (event.type === '@xstate.event' && event.event.type === 'inbox') seen.push(`${(event.actorRef as { id?: string }).id}:${String((event.event as { data?: unknown }).data)}`);
    };
    const Forward = () =>
      defineComponent({
        name: 'Forward',
        inboxes: { inbox: box<number>(), control: box<SignalMessage>() },
        outboxes: { outbox: box<number>(), signal: box<SignalMessage>() },
        body: ({ on, send }) => on('inbox', (n) => send('outbox', n)),
      });
    const handle = run(Pipeline(Forward(), Forward()), { inspect });
    handle.send('inbox', 7);
    expect(await handle.next('outbox', { timeoutMs: 2_000 })).toBe(7);
    expect(seen).toEqual(expect.arrayContaining(['0:7', '1:7']));
    handle.stop();
    await handle.done;
  });
});

describe('the kernel mailbox', () => {
  it('runs one handler at a time and in order, what a handler delivers waiting its turn', () => {
    const log: string[] = [];
    const mailbox: Mailbox = new Mailbox({
      take(box, data) {
        log.push(`in ${box}:${String(data)}`);
        if (data === 1) {
          mailbox.deliver(box, 2);
          mailbox.deliver(box, 3);
        }
        log.push(`out ${box}:${String(data)}`);
      },
    });
    mailbox.deliver('a', 1);
    expect(log).toEqual(['in a:1', 'out a:1', 'in a:2', 'out a:2', 'in a:3', 'out a:3']);
    expect(mailbox.busy).toBe(false);
  });

  it('held, keeps deliveries until released, then runs them in order; clear() drops what waits', () => {
    const log: unknown[] = [];
    const mailbox = new Mailbox({ take: (_box, data) => void log.push(data) }, true);
    mailbox.deliver('x', 1);
    mailbox.deliver('x', 2);
    expect(log).toEqual([]);
    mailbox.release();
    expect(log).toEqual([1, 2]);
    expect(mailbox.hold()).toBe(true);
    mailbox.deliver('x', 3);
    mailbox.clear();
    mailbox.release();
    expect(log).toEqual([1, 2]);
  });

  it('a handler that throws leaves the mailbox usable, and what waited still runs next time', () => {
    const log: unknown[] = [];
    const mailbox: Mailbox = new Mailbox({
      take(_box, data) {
        if (data === 'boom') {
          mailbox.deliver('x', 'after');
          throw new Error('boom');
        }
        log.push(data);
      },
    });
    expect(() => mailbox.deliver('x', 'boom')).toThrow('boom');
    expect(mailbox.busy).toBe(false);
    mailbox.deliver('x', 'next');
    expect(log).toEqual(['after', 'next']);
  });
});

describe('a hosted body (a server handler) keeps the same guarantees', () => {
  it('runs one handler at a time, in order, when a handler sends to its own component', async () => {
    const { ConnectedServer } = await import('kamaelia-xstate');
    const net = await import('node:net');
    const log: string[] = [];
    const Handler = () =>
      defineComponent({
        name: 'Handler',
        inboxes: { inbox: box<Buffer | string>(), control: box<SignalMessage>() },
        outboxes: { outbox: box<string>(), signal: box<SignalMessage>() },
        body: ({ on, send, self }) => {
          on('inbox', (data) => {
            const text = String(data);
            log.push(`in ${text}`);
            if (text === 'ping') {
              self.send({ type: 'inbox', data: 'again-1' });
              self.send({ type: 'inbox', data: 'again-2' });
            }
            log.push(`out ${text}`);
            if (text === 'again-2') send('outbox', 'done');
          });
        },
      });
    const server = run(ConnectedServer({ port: 0, host: '127.0.0.1', protocol: Handler }));
    try {
      const { port } = await server.next('listening', { timeoutMs: 5000 });
      const socket = net.connect({ port, host: '127.0.0.1' });
      socket.write('ping');
      await new Promise<void>((resolve) => socket.once('data', () => resolve()));
      socket.destroy();
      expect(log).toEqual(['in ping', 'out ping', 'in again-1', 'out again-1', 'in again-2', 'out again-2']);
    } finally {
      server.stop();
    }
  });
});
