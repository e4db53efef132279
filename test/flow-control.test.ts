// Flow control through graphs: a producer sees the gate of the final inbox its outbox feeds,
// across Pipeline/Graphline passthroughs in both directions, and after links change.
import { describe, expect, it } from 'vitest';
import { createActor, type AnyActorRef } from 'xstate';
import { EchoProtocol, Graphline, Pipeline, box, canSend, childrenOf, defineComponent, run, setInboxOpen, whenCanSend, type SignalMessage } from 'kamaelia-xstate';
import { addInboxPassthrough, linkToInbox, removeInboxPassthroughsTo, removeLinksBetween } from '../src/kernel/routing.js';
import { probe, until } from './helpers/probe.js';

describe('flow control', () => {
  it('a producer sees its consumer close and open, through nested passthroughs', async () => {
    const [producer, consumer] = [probe('Producer'), probe('Consumer')];
    // the consumer sits inside a Graphline whose inbox passes through to it
    const inner = Graphline({ C: consumer.component }, { 'self.inbox': 'C.inbox' });
    const handle = run(Pipeline(producer.component, inner));
    await until(() => producer.started && consumer.started);
    const producerRef = childrenOf(handle.actor).get('0')!;
    const consumerRef = childrenOf(childrenOf(handle.actor).get('1')!).get('0')!;
    expect(canSend(producerRef, 'outbox')).toBe(true);
    setInboxOpen(consumerRef, 'inbox', false);
    expect(canSend(producerRef, 'outbox')).toBe(false);
    let woken = 0;
    whenCanSend(producerRef, 'outbox', () => woken++);
    expect(woken).toBe(0);
    setInboxOpen(consumerRef, 'inbox', true);
    expect(woken).toBe(0); // not inside the consumer's call
    await Promise.resolve();
    expect(woken).toBe(1);
    expect(canSend(producerRef, 'outbox')).toBe(true);
    handle.stop();
  });

  it('a consumer outside a graph gates a producer inside it (outbox passthrough)', async () => {
    const [producer, consumer] = [probe('Producer'), probe('Consumer')];
    const inner = Graphline({ P: producer.component }, { 'P.outbox': 'self.outbox' });
    const handle = run(Pipeline(inner, consumer.component));
    await until(() => producer.started && consumer.started);
    const producerRef = childrenOf(childrenOf(handle.actor).get('0')!).get('0')!;
    const consumerRef = childrenOf(handle.actor).get('1')!;
    setInboxOpen(consumerRef, 'inbox', false);
    expect(canSend(producerRef, 'outbox')).toBe(false);
    const cancel = whenCanSend(producerRef, 'outbox', () => {
      throw new Error('cancelled waits must not fire');
    });
    cancel();
    setInboxOpen(consumerRef, 'inbox', true);
    expect(canSend(producerRef, 'outbox')).toBe(true);
    handle.stop();
  });

  it('EchoProtocol passes a closed consumer back to its producer, and the reopening', async () => {
    const Feeder = defineComponent({
      name: 'Feeder',
      inboxes: { inbox: box<Uint8Array>(), control: box<SignalMessage>() },
      outboxes: { outbox: box<Uint8Array>(), signal: box<SignalMessage>() },
      body: ({ on, send }) => on('inbox', (bytes) => send('outbox', bytes)),
    });
    const consumer = probe('Consumer');
    const handle = run(Pipeline(Feeder, EchoProtocol(), consumer.component));
    await until(() => consumer.started);
    const [producerRef, consumerRef] = [childrenOf(handle.actor).get('0')!, childrenOf(handle.actor).get('2')!];
    setInboxOpen(consumerRef, 'inbox', false);
    expect(canSend(producerRef, 'outbox')).toBe(true); // the echo's own inbox is still open
    handle.send('inbox', new Uint8Array([1]));
    expect(consumer.on('inbox')).toHaveLength(1); // delivered anyway: a gate is advice
    expect(canSend(producerRef, 'outbox')).toBe(false); // but now the echo holds its producer back
    setInboxOpen(consumerRef, 'inbox', true);
    await until(() => canSend(producerRef, 'outbox'), 'the echo to reopen its inbox');
    handle.stop();
  });

  it('a gate closed again before the wake-up keeps its producers waiting', async () => {
    const [producer, consumer] = [probe('Producer'), probe('Consumer')];
    const handle = run(Pipeline(producer.component, consumer.component));
    await until(() => producer.started && consumer.started);
    const [producerRef, consumerRef] = [childrenOf(handle.actor).get('0')!, childrenOf(handle.actor).get('1')!];
    setInboxOpen(consumerRef, 'inbox', false);
    let woken = 0;
    whenCanSend(producerRef, 'outbox', () => woken++);
    setInboxOpen(consumerRef, 'inbox', true);
    setInboxOpen(consumerRef, 'inbox', false);
    await Promise.resolve();
    expect(woken).toBe(0);
    setInboxOpen(consumerRef, 'inbox', true);
    await Promise.resolve();
    expect(woken).toBe(1);
    handle.stop();
  });
});

function started(): AnyActorRef {
  return createActor(EchoProtocol().logic).start() as AnyActorRef;
}

describe('flow control after links change (the gate list is cached between changes)', () => {
  it('canSend follows the consumer gate and a later link to a closed consumer', () => {
    const [producer, first, second] = [started(), started(), started()];
    linkToInbox(producer, 'outbox', first, 'inbox');
    expect(canSend(producer, 'outbox')).toBe(true);
    setInboxOpen(first, 'inbox', false);
    expect(canSend(producer, 'outbox')).toBe(false);
    setInboxOpen(first, 'inbox', true);
    expect(canSend(producer, 'outbox')).toBe(true);

    setInboxOpen(second, 'inbox', false);
    linkToInbox(producer, 'outbox', second, 'inbox');
    expect(canSend(producer, 'outbox')).toBe(false);
    removeLinksBetween(producer, second);
    expect(canSend(producer, 'outbox')).toBe(true);
  });

  it('sees through a passthrough added after the first question', () => {
    const [producer, graph, inner] = [started(), started(), started()];
    linkToInbox(producer, 'outbox', graph, 'inbox');
    expect(canSend(producer, 'outbox')).toBe(true);
    setInboxOpen(inner, 'inbox', false);
    addInboxPassthrough(graph, 'inbox', inner, 'inbox');
    expect(canSend(producer, 'outbox')).toBe(false);
    removeInboxPassthroughsTo(graph, inner);
    expect(canSend(producer, 'outbox')).toBe(true);
  });

  it('whenCanSend wakes once the consumer opens, and not after cancelling', async () => {
    const [producer, consumer] = [started(), started()];
    linkToInbox(producer, 'outbox', consumer, 'inbox');
    setInboxOpen(consumer, 'inbox', false);
    let woken = 0;
    whenCanSend(producer, 'outbox', () => woken++);
    const cancel = whenCanSend(producer, 'outbox', () => woken++);
    cancel();
    expect(woken).toBe(0);
    setInboxOpen(consumer, 'inbox', true);
    await Promise.resolve();
    expect(woken).toBe(1);
  });
});
