// Links share one XState listener per outbox (src/routing.ts): each link still delivers, in the
// order made, and undoing one leaves the others.
import { describe, expect, it } from 'vitest';
import { createActor, type AnyActorRef } from 'xstate';
import { box, defineComponent, type SignalMessage } from 'kamaelia-xstate';
import { deliverToInbox, linkToInbox, removeLinksBetween } from '../src/kernel/routing.js';

function Recorder(name: string, log: string[]) {
  return defineComponent({
    name,
    inboxes: { inbox: box<number>(), control: box<SignalMessage>() },
    outboxes: { outbox: box<number>(), signal: box<SignalMessage>() },
    body: ({ on, send }) => on('inbox', (n) => {
      log.push(`${name}:${n}`);
      send('outbox', n);
    }),
  });
}

describe('links', () => {
  it('deliver to every destination of an outbox in link order, and stop when undone', () => {
    const log: string[] = [];
    const start = (name: string): AnyActorRef => createActor(Recorder(name, log).logic).start() as AnyActorRef;
    const [source, first, second] = [start('source'), start('first'), start('second')];
    linkToInbox(source, 'outbox', first, 'inbox');
    linkToInbox(source, 'outbox', second, 'inbox');
    deliverToInbox(source, 'inbox', 1);
    expect(log).toEqual(['source:1', 'first:1', 'second:1']);
    removeLinksBetween(source, first);
    deliverToInbox(source, 'inbox', 2);
    expect(log).toEqual(['source:1', 'first:1', 'second:1', 'source:2', 'second:2']);
  });

  it('a link undone by an earlier delivery of the same message gets nothing', () => {
    const log: string[] = [];
    const start = (name: string): AnyActorRef => createActor(Recorder(name, log).logic).start() as AnyActorRef;
    const [source, second] = [start('source'), start('second')];
    source.on('outbox', () => removeLinksBetween(source, second)); // an observer that tears the graph down first
    linkToInbox(source, 'outbox', second, 'inbox');
    deliverToInbox(source, 'inbox', 1);
    expect(log).toEqual(['source:1']);
  });
});
