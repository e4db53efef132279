// indexScheduledEvents: stopping an actor cancels exactly its own delayed events, found through an
// index instead of a scan of every delayed event in the system (which made closing thousands of
// connections at once quadratic).
import { describe, expect, it } from 'vitest';
import { createActor, createMachine, raise, waitFor } from 'xstate';
import { stopTree } from '../src/kernel/childActors.js';
import { indexScheduledEvents } from '../src/kernel/xstateInternals.js';

const timed = createMachine({ initial: 'waiting', states: { waiting: { after: { 30: 'fired' } }, fired: {} } });
const root = createMachine({});

describe('indexScheduledEvents', () => {
  it("cancels a stopped actor's timers and only those; the others still fire", async () => {
    const system = createActor(root).start();
    indexScheduledEvents(system.system);
    indexScheduledEvents(system.system); // idempotent
    const actors = Array.from({ length: 50 }, (_, i) => createActor(timed, { parent: system, id: String(i) }).start());
    const pending = (): number => Object.keys(system.system.getSnapshot()._scheduledEvents).length;
    expect(pending()).toBe(50);
    for (const actor of actors.slice(0, 25)) stopTree(actor);
    expect(pending()).toBe(25);
    await Promise.all(actors.slice(25).map((actor) => waitFor(actor, (s) => s.matches('fired'), { timeout: 2000 })));
    expect(actors.slice(0, 25).every((actor) => actor.getSnapshot().matches('waiting'))).toBe(true);
    expect(pending()).toBe(0);
    system.stop();
  });

  it('forgets timers that fired, so an actor that keeps scheduling holds only its live ids', async () => {
    // a delayed raise is not cancelled by any state exit: only the timer firing ends it
    const looping = createMachine({
      entry: raise({ type: 'tick' }, { delay: 1 }),
      on: { tick: { actions: raise({ type: 'tick' }, { delay: 1 }) } },
    });
    const system = createActor(root).start();
    const tracked = indexScheduledEvents(system.system);
    const actor = createActor(looping, { parent: system, id: 'loop' }).start();
    let transitions = 0;
    actor.subscribe(() => transitions++);
    await waitFor(actor, () => transitions >= 50, { timeout: 5000 });
    expect(tracked()).toBeLessThanOrEqual(2);
    stopTree(actor);
    expect(tracked()).toBe(0);
    system.stop();
  });
});
