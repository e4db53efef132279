// run(): the handle's contract, and what happens when a component throws.
import { describe, expect, it } from 'vitest';
import { assign, fromCallback, setup } from 'xstate';
import {
  Graphline,
  OneShot,
  Pipeline,
  box,
  defineComponent,
  isComponentFailed,
  isProducerFinished,
  run,
  type InboxEvent,
  type OutboxEvent,
  type SignalMessage,
} from 'kamaelia-xstate';
import { probe, settle, until } from './helpers/probe.js';

const Thrower = (when: 'start' | 'message') =>
  defineComponent({
    name: 'Thrower',
    inboxes: { inbox: box<unknown>(), control: box<SignalMessage>() },
    outboxes: { outbox: box<unknown>(), signal: box<SignalMessage>() },
    body: ({ on }) => {
      if (when === 'start') throw new Error('broken at start');
      on('inbox', () => {
        throw Object.assign(new Error('cannot handle this'), { code: 'EBADTHING' });
      });
    },
  });

describe('run()', () => {
  it('buffers outbox messages from the start, so next() misses nothing', async () => {
    const handle = run(OneShot('hello'));
    await handle.done;
    expect(await handle.next('outbox')).toBe('hello');
    expect(isProducerFinished(await handle.next('signal'))).toBe(true);
  });

  it('next() rejects after its timeout, naming the box, and leaves no timer behind', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const a = probe('A');
    const handle = run(a.component);
    const before = timers();
    await expect(handle.next('outbox', { timeoutMs: 20 })).rejects.toThrow(/timed out after 20 ms waiting for a message on "outbox"/);
    const p = handle.next('outbox', { timeoutMs: 60_000 });
    a.send('outbox', 'late');
    expect(await p).toBe('late');
    expect(timers()).toBe(before);
    handle.stop();
  });

  it('next() rejects once the component has ended with nothing left', async () => {
    const handle = run(OneShot('x'));
    await handle.done;
    await handle.next('outbox');
    await expect(handle.next('outbox')).rejects.toThrow(/ended before a message arrived on "outbox"/);
  });

  it('messages() yields everything in order and ends with the component', async () => {
    const a = probe('A');
    const handle = run(a.component);
    await until(() => a.started);
    for (let i = 0; i < 5; i++) a.send('outbox', i);
    a.finish();
    const seen: unknown[] = [];
    for await (const message of handle.messages('outbox')) seen.push(message);
    expect(seen).toEqual([0, 1, 2, 3, 4]);
  });

  it('names unknown boxes in its errors', () => {
    const handle = run(OneShot(1));
    // @ts-expect-error -- no such inbox
    expect(() => handle.send('inbx', 1)).toThrow(/OneShot has no inbox "inbx" \(it has inbox, control\)/);
    // @ts-expect-error -- no such outbox
    expect(() => handle.next('outbx')).toThrow(/has no outbox "outbx"/);
    handle.stop();
  });

  it('stop() ends the component and runs every cleanup below it', async () => {
    const [a, b] = [probe('A'), probe('B')];
    const handle = run(Pipeline(a.component, b.component));
    await until(() => a.started && b.started);
    handle.stop();
    expect(await handle.done).toEqual({ status: 'stopped' });
    expect([a.cleanedUp, b.cleanedUp]).toEqual([true, true]);
    handle.send('inbox', 'ignored after the end');
  });

  it('a child that throws is stopped and reported on the top signal; its siblings keep running', async () => {
    const [a, b] = [probe('A'), probe('B')];
    const handle = run(Graphline({ A: a.component, bad: Thrower('message'), B: b.component }, { 'A.outbox': 'bad.inbox', 'bad.signal': 'B.control' }));
    await until(() => a.started && b.started);
    a.send('outbox', 'poison');
    const report = await handle.next('signal', { timeoutMs: 2000 });
    expect(isComponentFailed(report)).toBe(true);
    expect(report).toMatchObject({ component: 'Graphline/1:bad', reason: { code: 'EBADTHING', message: expect.stringMatching(/cannot handle this/) } });
    // whoever listened to the failed child's signal hears that it produces no more, with the reason
    await until(() => b.on('control').length === 1);
    expect(b.on('control')[0]).toMatchObject({ kind: 'producerFinished', reason: { code: 'EBADTHING' } });
    // the others are still alive and working
    a.send('outbox', 'more');
    await settle();
    expect(handle.actor.getSnapshot().status).toBe('active');
    expect(a.finished || b.finished).toBe(false);
    a.finish();
    b.finish();
    // the Graphline's last word carries the failure, so the run ended in error
    expect(await handle.done).toMatchObject({ status: 'error', reason: { code: 'EBADTHING' } });
    expect(await handle.next('signal')).toMatchObject({ kind: 'producerFinished', reason: { code: 'EBADTHING' } });
  });

  it('a child that throws while starting is reported the same way', async () => {
    const a = probe('A');
    const handle = run(Pipeline(a.component, Thrower('start')));
    expect(await handle.next('signal', { timeoutMs: 2000 })).toMatchObject({ kind: 'componentFailed', component: 'Pipeline/1:Thrower' });
    a.finish();
    expect((await handle.done).status).toBe('error');
  });

  it("a machine component that throws has its own children stopped too (XState leaves them running)", async () => {
    let resourceOpen = false;
    const resource = fromCallback(() => {
      resourceOpen = true;
      return () => {
        resourceOpen = false;
      };
    });
    type In = { inbox: unknown; control: SignalMessage };
    type Out = { outbox: string; signal: SignalMessage };
    const machine = setup({
      types: {} as { events: InboxEvent<In>; emitted: OutboxEvent<Out>; context: { n: number } },
      actors: { resource },
    }).createMachine({
      context: { n: 0 },
      invoke: { src: 'resource' },
      on: {
        inbox: {
          actions: assign(({ event }) => {
            throw new Error(`machine cannot take ${String(event.data)}`);
          }),
        },
      },
    });
    const Fragile = defineComponent({
      name: 'Fragile',
      inboxes: { inbox: box<unknown>(), control: box<SignalMessage>() },
      outboxes: { outbox: box<string>(), signal: box<SignalMessage>() },
      logic: machine,
    });
    const a = probe('A');
    const handle = run(Pipeline(a.component, Fragile));
    await until(() => resourceOpen, 'the machine started its resource');
    a.send('outbox', 'x');
    expect(await handle.next('signal', { timeoutMs: 2000 })).toMatchObject({
      kind: 'componentFailed',
      reason: { message: expect.stringMatching(/machine cannot take x/) },
    });
    expect(resourceOpen).toBe(false);
    handle.stop();
  });

  it('a root component that throws ends the run with status error and a report on signal', async () => {
    const handle = run(Thrower('message'));
    handle.send('inbox', 'poison');
    expect(await handle.done).toEqual({ status: 'error', reason: { code: 'EBADTHING', message: 'cannot handle this' } });
    expect(await handle.next('signal')).toMatchObject({ kind: 'componentFailed', component: 'Thrower' });
  });
});
