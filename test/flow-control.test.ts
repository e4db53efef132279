// Flow control through the post office: a producer's canSend/whenCanSend follow the consumers its
// outbox leads to, also after links change (the gate list is cached between changes).
import { describe, expect, it } from 'vitest';
import { createActor, type AnyActorRef } from 'xstate';
import { EchoProtocol } from 'kamaelia-xstate';
import { addInboxPassthrough, canSend, linkToInbox, setInboxOpen, whenCanSend } from '../src/routing.js';

function started(): AnyActorRef {
  return createActor(EchoProtocol().logic).start() as AnyActorRef;
}

describe('flow control', () => {
  it('canSend follows the consumer gate and a later link to a closed consumer', () => {
    const [producer, first, second] = [started(), started(), started()];
    linkToInbox(producer, 'outbox', first, 'inbox');
    expect(canSend(producer, 'outbox')).toBe(true);
    setInboxOpen(first, 'inbox', false);
    expect(canSend(producer, 'outbox')).toBe(false);
    setInboxOpen(first, 'inbox', true);
    expect(canSend(producer, 'outbox')).toBe(true);

    setInboxOpen(second, 'inbox', false);
    const unlink = linkToInbox(producer, 'outbox', second, 'inbox');
    expect(canSend(producer, 'outbox')).toBe(false);
    unlink();
    expect(canSend(producer, 'outbox')).toBe(true);
  });

  it('sees through a passthrough added after the first question', () => {
    const [producer, graph, inner] = [started(), started(), started()];
    linkToInbox(producer, 'outbox', graph, 'inbox');
    expect(canSend(producer, 'outbox')).toBe(true);
    setInboxOpen(inner, 'inbox', false);
    const undo = addInboxPassthrough(graph, 'inbox', inner, 'inbox');
    expect(canSend(producer, 'outbox')).toBe(false);
    undo();
    expect(canSend(producer, 'outbox')).toBe(true);
  });

  it('whenCanSend wakes once the consumer opens, and not after cancelling', () => {
    const [producer, consumer] = [started(), started()];
    linkToInbox(producer, 'outbox', consumer, 'inbox');
    setInboxOpen(consumer, 'inbox', false);
    let woken = 0;
    whenCanSend(producer, 'outbox', () => woken++);
    const cancel = whenCanSend(producer, 'outbox', () => woken++);
    cancel();
    expect(woken).toBe(0);
    setInboxOpen(consumer, 'inbox', true);
    expect(woken).toBe(1);
  });
});
