// examples/inspectAnyXState.ts — any XState v5 program, inspected offline: it uses @statelyai/inspect
// unchanged, pointed at our inspector's wsUrl. Prints the page's URL; runs until Ctrl-C.
import { createWebSocketInspector } from '@statelyai/inspect';
import { createActor, fromPromise, setup, stateIn } from 'xstate';
import { createInspector } from 'kamaelia-xstate';

// An inspector of its own, unless INSPECTOR_WS names one that is already running.
const inspector = process.env.INSPECTOR_WS ? undefined : await createInspector();
const stately = createWebSocketInspector({ url: process.env.INSPECTOR_WS ?? inspector!.wsUrl });
if (inspector) console.log(`Inspector: ${inspector.url}`);

const door = setup({
  types: {} as { events: { type: 'unlock' } | { type: 'lock' } | { type: 'open' } },
  actors: { motor: fromPromise(() => new Promise<void>((resolve) => setTimeout(resolve, 300))) },
  guards: { isUnlocked: stateIn({ lock: 'unlocked' }) },
}).createMachine({
  id: 'door',
  type: 'parallel',
  states: {
    lock: {
      initial: 'locked',
      states: {
        locked: { on: { unlock: 'unlocked' } },
        unlocked: { on: { lock: 'locked' }, after: { 1500: 'locked' } },
      },
    },
    position: {
      initial: 'shut',
      states: {
        shut: { on: { open: { target: 'opening', guard: 'isUnlocked' } } },
        opening: { invoke: { src: 'motor', onDone: 'open', onError: 'jammed' } },
        open: { after: { 1000: 'closing' } },
        closing: { invoke: { src: 'motor', onDone: 'shut' } },
        jammed: { type: 'final' },
      },
    },
  },
});

const actor = createActor(door, { inspect: stately.inspect }).start();
const visit = setInterval(() => {
  actor.send({ type: 'unlock' });
  actor.send({ type: 'open' });
}, 3000);
actor.send({ type: 'unlock' });
actor.send({ type: 'open' });

process.once('SIGINT', () => {
  clearInterval(visit);
  actor.stop();
  stately.stop();
  void inspector?.close();
});
