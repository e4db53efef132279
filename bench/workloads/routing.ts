// Pipeline routing rate: a source, a relay and a sink in one process, small messages, no sockets.
// Ours is Pipeline(DataSource, relay, sink); the raw baseline is what Node offers for the same
// shape: stream.pipeline of object-mode Readable → Transform → Writable, both flow-controlled.
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as library from '../../src/index.js';

export interface RoutingSettings {
  readonly messages: number;
  readonly timeoutMs: number;
}

function* numbers(count: number): Generator<number> {
  for (let index = 0; index < count; index++) yield index;
}

export async function rawRouting(settings: RoutingSettings): Promise<{ messagesPerSecond: number }> {
  let received = 0;
  const started = process.hrtime.bigint();
  await pipeline(
    Readable.from(numbers(settings.messages)),
    new Transform({ objectMode: true, transform: (chunk: number, _encoding, callback) => callback(null, chunk) }),
    new Writable({
      objectMode: true,
      write: (_chunk: number, _encoding, callback) => {
        received++;
        callback();
      },
    }),
    { signal: AbortSignal.timeout(settings.timeoutMs) },
  );
  if (received !== settings.messages) throw new Error(`raw routing: ${received} of ${settings.messages} arrived`);
  return { messagesPerSecond: settings.messages / (Number(process.hrtime.bigint() - started) / 1e9) };
}

const Relay = () =>
  library.defineComponent({
    name: 'Relay',
    inboxes: { inbox: library.box<number>(), control: library.box<library.SignalMessage>() },
    outboxes: { outbox: library.box<number>(), signal: library.box<library.SignalMessage>() },
    body: ({ on, send }) => on('inbox', (message) => send('outbox', message)),
  });

const Counter = (expected: number, onDone: () => void) =>
  library.defineComponent({
    name: 'Counter',
    inboxes: { inbox: library.box<number>(), control: library.box<library.SignalMessage>() },
    outboxes: { outbox: library.box<never>(), signal: library.box<library.SignalMessage>() },
    body: ({ on }) => {
      let received = 0;
      on('inbox', () => {
        if (++received === expected) onDone();
      });
    },
  });

export async function oursRouting(settings: RoutingSettings): Promise<{ messagesPerSecond: number }> {
  let arrived = (): void => {};
  const allArrived = new Promise<void>((resolve) => (arrived = resolve));
  const started = process.hrtime.bigint();
  const handle = library.run(library.Pipeline(library.DataSource(numbers(settings.messages)), Relay(), Counter(settings.messages, arrived)));
  let timer: NodeJS.Timeout | undefined;
  try {
    const finished = await Promise.race([
      allArrived.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), settings.timeoutMs))),
    ]);
    if (!finished) throw new Error(`ours routing: not all ${settings.messages} messages arrived within ${settings.timeoutMs} ms`);
    return { messagesPerSecond: settings.messages / (Number(process.hrtime.bigint() - started) / 1e9) };
  } finally {
    clearTimeout(timer);
    handle.stop();
  }
}
