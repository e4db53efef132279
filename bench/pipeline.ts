// Routing and spawning costs of the graph supervisor:
//  1. messages/s through a 3-stage Pipeline, against the same chain hand-written with EventEmitters;
//  2. time to spawn 10,000 children under one supervisor, and to stop them (gracefully through
//     control, and with stop()).
// Run: npx tsx bench/pipeline.ts [--quick]
import { EventEmitter } from 'node:events';
import { parseArgs } from 'node:util';
import { createActor, type AnyActorLogic } from 'xstate';
import { deliverToInbox } from '../src/kernel/routing.js';
import { Graphline, Pipeline, box, childrenOf, defineComponent, isShutdownRequest, shutdownMicroprocess, type AnyComponent, type SignalMessage } from '../src/index.js';

const Forward = () =>
  defineComponent({
    name: 'Forward',
    inboxes: { inbox: box<number>(), control: box<SignalMessage>() },
    outboxes: { outbox: box<number>(), signal: box<SignalMessage>() },
    body: ({ on, send, finish }) => {
      on('inbox', (n) => send('outbox', n));
      on('control', (message) => {
        if (!isShutdownRequest(message)) return;
        send('signal', message);
        finish();
      });
    },
  });

function start(component: AnyComponent) {
  const actor = createActor(component.logic as AnyActorLogic, { input: component.input });
  actor.start();
  return actor;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export function pipelineRate(messages: number): number {
  const actor = start(Pipeline(Forward(), Forward(), Forward()));
  let received = 0;
  actor.on('outbox', () => received++);
  const t0 = performance.now();
  const deliver = (message: unknown): void => deliverToInbox(actor, 'inbox', message); // what run()'s send() does
  for (let i = 0; i < messages; i++) deliver(i);
  const seconds = (performance.now() - t0) / 1000;
  if (received !== messages) throw new Error(`pipeline delivered ${received} of ${messages}`);
  actor.stop();
  return messages / seconds;
}

export function emitterRate(messages: number): number {
  const stages = [new EventEmitter(), new EventEmitter(), new EventEmitter()];
  let received = 0;
  stages[0]!.on('inbox', (n: number) => stages[1]!.emit('inbox', n));
  stages[1]!.on('inbox', (n: number) => stages[2]!.emit('inbox', n));
  stages[2]!.on('inbox', () => received++);
  const t0 = performance.now();
  for (let i = 0; i < messages; i++) stages[0]!.emit('inbox', i);
  const seconds = (performance.now() - t0) / 1000;
  if (received !== messages) throw new Error('emitter chain lost messages');
  return messages / seconds;
}

export async function spawnAndStop(children: number): Promise<{ spawnMs: number; gracefulStopMs: number; stopMs: number }> {
  const many = (): AnyComponent => {
    const named: Record<string, AnyComponent> = {};
    for (let i = 0; i < children; i++) named[`c${i}`] = Forward();
    return Graphline(named, {});
  };
  let t0 = performance.now();
  const graceful = start(many());
  const spawnMs = performance.now() - t0;
  if (childrenOf(graceful).size !== children) throw new Error('not every child was spawned');
  const ended = new Promise<void>((resolve) => graceful.subscribe({ complete: resolve }));
  t0 = performance.now();
  graceful.send({ type: 'control', data: shutdownMicroprocess() });
  await ended;
  const gracefulStopMs = performance.now() - t0;

  const abrupt = start(many());
  t0 = performance.now();
  abrupt.stop();
  const stopMs = performance.now() - t0;
  return { spawnMs, gracefulStopMs, stopMs };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
  const messages = values.quick ? 200_000 : 1_000_000;
  const rounds = values.quick ? 3 : 5;
  pipelineRate(50_000); // warm up the JIT
  emitterRate(50_000);
  const ours: number[] = [];
  const raw: number[] = [];
  for (let round = 0; round < rounds; round++) {
    raw.push(emitterRate(messages));
    ours.push(pipelineRate(messages));
  }
  const oursRate = median(ours);
  const rawRate = median(raw);
  console.log(`3-stage Pipeline routing: ${Math.round(oursRate).toLocaleString('en-US')} msgs/s`);
  console.log(`same chain with EventEmitters: ${Math.round(rawRate).toLocaleString('en-US')} msgs/s  (ratio ours/raw ${(oursRate / rawRate).toFixed(3)})`);
  // Several rounds: XState's own children table degrades after its first large delete, ours must not.
  for (let round = 1; round <= (values.quick ? 2 : 3); round++) {
    const spawn = await spawnAndStop(10_000);
    console.log(
      `10,000 children under one supervisor (round ${round}): spawn ${spawn.spawnMs.toFixed(0)} ms, graceful stop via control ${spawn.gracefulStopMs.toFixed(0)} ms, stop() ${spawn.stopMs.toFixed(0)} ms`,
    );
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
