// The Selector: registered in the XState system as `selector`, found or created on first use,
// turning socket readiness into ReadReady / SendReady messages for the registrant's boxes.
import { describe, expect, it } from 'vitest';
import { createActor, fromCallback, type AnyActorRef } from 'xstate';
import { Graphline, TCPClient, box, defineComponent, producerFinished, run, type ReadReadiness, type SendReadiness } from 'kamaelia-xstate';
import { SELECTOR_SYSTEM_ID, newReader, newWriter, removeReader, selectorMachine } from 'kamaelia-xstate/machines';
import { getSelector, notifySelector, selectorLogic } from '../actors/selector.js';
import { listen, socketPair, until } from './helpers/net.js';
import { cleanupsAfterEach } from './helpers/cleanups.js';

const cleanups = cleanupsAfterEach();

/** Records what arrives on its ReadReady and SendReady inboxes. */
function Registrant(seen: { read: ReadReadiness[]; send: SendReadiness[] }) {
  return defineComponent({
    name: 'Registrant',
    inboxes: { ReadReady: box<ReadReadiness>(), SendReady: box<SendReadiness>() },
    outboxes: {},
    body: ({ on }) => {
      on('ReadReady', (message) => seen.read.push(message));
      on('SendReady', (message) => seen.send.push(message));
    },
  });
}

/** A running Selector, a registrant for `socket`'s readiness, and what the registrant has seen. */
function selectorWatching(socket: import('node:net').Socket) {
  const seen = { read: [] as ReadReadiness[], send: [] as SendReadiness[] };
  const registrant = run(Registrant(seen));
  cleanups.push(() => registrant.stop());
  const selector = createActor(selectorLogic);
  selector.start();
  cleanups.push(() => void selector.stop());
  notifySelector(selector, newReader(registrant.actor, 'ReadReady', socket));
  return { seen, selector, registrant };
}

describe('Selector', () => {
  it('the pure machine goes serving when the service reports a registration and idle when the last goes', () => {
    const actor = createActor(selectorMachine.provide({ actors: { readiness: fromCallback(() => {}) } }));
    actor.start();
    expect(actor.getSnapshot().value).toBe('idle');
    actor.send({ type: 'selector.busy', registrations: 2 });
    expect(actor.getSnapshot()).toMatchObject({ value: 'serving', context: { registrations: 2 } });
    actor.send({ type: 'selector.idle' });
    expect(actor.getSnapshot()).toMatchObject({ value: 'idle', context: { registrations: 0 } });
    actor.stop();
  });

  it('is found, not re-created, by every client in the same system, and goes idle when they close', async () => {
    const listener = await listen();
    cleanups.push(listener.close);
    const graph = run(Graphline({ A: TCPClient('127.0.0.1', listener.port), B: TCPClient('127.0.0.1', listener.port) }, {}));
    cleanups.push(() => graph.stop());
    await until(() => listener.accepted.length === 2, 'both clients to connect');
    const system = graph.actor.system;
    await until(() => (system.get(SELECTOR_SYSTEM_ID)?.getSnapshot() as { context?: { registrations: number } })?.context?.registrations !== undefined, 'a selector');
    const selector = system.get(SELECTOR_SYSTEM_ID) as AnyActorRef;
    // Found again, not created anew.
    expect(getSelector(system, graph.actor)).toBe(selector);
    expect(selector.getSnapshot().value).toBe('serving');
    graph.send('control', producerFinished());
    for (const peer of listener.accepted) peer.end();
    await graph.done;
    await until(() => selector.getSnapshot().value === 'idle', 'the selector to go idle');
    expect(selector.getSnapshot().status).toBe('active');
  });

  it('turns readable, end and close into ReadReady and drain into SendReady for the box that registered', async () => {
    const pair = await socketPair();
    cleanups.push(pair.close);
    const { seen, selector, registrant } = selectorWatching(pair.local);
    notifySelector(selector, newWriter(registrant.actor, 'SendReady', pair.local));
    // A second registrant of the same socket is ignored (first wins, as in Kamaelia).
    const other = { read: [] as ReadReadiness[], send: [] as SendReadiness[] };
    const second = run(Registrant(other));
    cleanups.push(() => second.stop());
    notifySelector(selector, newReader(second.actor, 'ReadReady', pair.local));
    expect(selector.getSnapshot().context.registrations).toBe(1);

    pair.peer.write('x');
    await until(() => seen.read.some((r) => r.readiness === 'readable'), 'ReadReady readable');
    expect(pair.local.read()?.toString()).toBe('x');
    // Fill the write buffer past its high-water mark, then let the peer read: 'drain'.
    pair.local.write(Buffer.alloc(4 * 1024 * 1024));
    pair.peer.resume();
    await until(() => seen.send.length > 0, 'SendReady drain');
    expect(seen.send[0]).toEqual({ readiness: 'drain' });
    pair.peer.end();
    await until(() => seen.read.some((r) => r.readiness === 'end'), 'ReadReady end');
    expect(pair.local.read()).toBeNull();
    pair.local.destroy();
    await until(() => seen.read.some((r) => r.readiness === 'close'), 'ReadReady close');
    expect(other.read).toEqual([]);
  });

  it('stops notifying once the registration is removed', async () => {
    const pair = await socketPair();
    cleanups.push(pair.close);
    const { seen, selector } = selectorWatching(pair.local);
    expect(selector.getSnapshot().value).toBe('serving');
    notifySelector(selector, removeReader(pair.local));
    expect(selector.getSnapshot().value).toBe('idle');
    expect(pair.local.listenerCount('readable')).toBe(0);
    // A new registrant now hears the socket; the removed one hears nothing.
    const later = { read: [] as ReadReadiness[], send: [] as SendReadiness[] };
    const next = run(Registrant(later));
    cleanups.push(() => next.stop());
    notifySelector(selector, newReader(next.actor, 'ReadReady', pair.local));
    pair.peer.write('only for the new one');
    await until(() => later.read.some((r) => r.readiness === 'readable'), 'the new registrant to hear it');
    expect(seen.read).toEqual([]);
  });
});
