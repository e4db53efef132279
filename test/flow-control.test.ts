// Flow control through graphs: a producer sees the gate of the final inbox its outbox feeds,
// across Pipeline/Graphline passthroughs in both directions.
import { describe, expect, it } from 'vitest';
import { Graphline, Pipeline, canSend, childrenOf, run, setInboxOpen, whenCanSend } from 'kamaelia-xstate';
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
