// A message to a body component runs its handler without XState's mailbox when nothing is queued
// (componentLogic.ts, handleNow). It must keep the mailbox's guarantees: one handler at a time,
// in order, nothing handled after finish(), and inspectors still see every message.
import { describe, expect, it } from 'vitest';
import type { InspectionEvent } from 'xstate';
import { Pipeline, box, defineComponent, run, type SignalMessage } from 'kamaelia-xstate';
import { deliverToInbox } from '../src/kernel/routing.js';

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
