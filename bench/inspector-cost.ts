// What attaching the inspector costs. Each workload runs four ways in the same process:
//   off      — no inspector (run() passes no `inspect`, so XState does no inspection work at all)
//   no-op    — an `inspect` that does nothing: what XState itself spends building inspection events
//   attached — createInspector's observer attached, no page open
//   page     — attached, and a page (a WebSocket client here) receiving every batch
// Usage: npx tsx bench/inspector-cost.ts [--rounds 3] [--messages 200000] [--echo-mib 64] [--connections 300]
import { execFile } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { WebSocket } from 'ws';
import type { InspectionEvent } from 'xstate';
import {
  ConnectedServer,
  DataSource,
  EchoProtocol,
  Graphline,
  Pipeline,
  TCPClient,
  box,
  createInspector,
  defineComponent,
  producerFinished,
  run,
  serverShutdown,
  type Inspector,
  type Listening,
  type SignalMessage,
} from '../src/index.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    messages: { type: 'string', default: '200000' },
    'echo-mib': { type: 'string', default: '64' },
    connections: { type: 'string', default: '300' },
    // internal: run one measurement in this (child) process
    workload: { type: 'string' },
    mode: { type: 'string' },
  },
});
const rounds = Number(values.rounds);
const messageCount = Number(values.messages);
const echoBytes = Number(values['echo-mib']) * 1024 * 1024;
const connectionCount = Number(values.connections);
const LOOPBACK = '127.0.0.1';
const execFileAsync = promisify(execFile);

type Mode = 'off' | 'noop' | 'attached' | 'page';
const MODES: readonly Mode[] = ['off', 'noop', 'attached', 'page'];

/** What a workload is given: the `inspect` observer to attach, if any. */
type Inspect = ((event: InspectionEvent) => void) | undefined;

/** Messages per second through DataSource → 3 EchoProtocols (relays) → a counting sink. */
async function pipelineRate(inspect: Inspect): Promise<number> {
  let seen = 0;
  const Sink = defineComponent({
    name: 'Sink',
    inboxes: { inbox: box<Uint8Array>(), control: box<SignalMessage>() },
    outboxes: { outbox: box<never>(), signal: box<SignalMessage>() },
    body: ({ on, finish }) => {
      on('inbox', () => seen++);
      on('control', () => finish());
    },
  });
  const message = Buffer.from('x');
  const items = Array.from({ length: messageCount }, () => message);
  const started = performance.now();
  const handle = run(Pipeline(DataSource(items), EchoProtocol(), EchoProtocol(), EchoProtocol(), Sink), inspect ? { inspect } : {});
  await handle.done;
  const seconds = (performance.now() - started) / 1000;
  if (seen !== messageCount) throw new Error(`sink saw ${seen} of ${messageCount}`);
  return messageCount / seconds;
}

/** Waits for `count` bytes on its inbox, then asks its TCPClient to close, and ends when it has. */
const ByteCounter = (count: number, onDone: () => void) =>
  defineComponent({
    name: 'ByteCounter',
    inboxes: { inbox: box<Uint8Array>(), control: box<SignalMessage>() },
    outboxes: { outbox: box<never>(), signal: box<SignalMessage>() },
    body: ({ on, send, finish }) => {
      let received = 0;
      on('inbox', (chunk) => {
        received += chunk.byteLength;
        if (received === count) {
          onDone();
          send('signal', producerFinished());
        }
      });
      on('control', () => finish());
    },
  });

/** An echo server (ConnectedServer + EchoProtocol) on loopback for the duration of `body`. */
async function withEchoServer<T>(inspect: Inspect, body: (port: number) => Promise<T>): Promise<T> {
  const server = run(ConnectedServer({ host: LOOPBACK, port: 0, protocol: () => EchoProtocol() }), inspect ? { inspect } : {});
  const { port } = (await server.next('listening', { timeoutMs: 5_000 })) as Listening;
  try {
    return await body(port);
  } finally {
    server.send('control', serverShutdown());
    await server.done;
  }
}

/** One TCPClient sends `echoBytes` in 16 KiB chunks through the echo server and reads them back: MiB/s. */
function echoRate(inspect: Inspect): Promise<number> {
  return withEchoServer(inspect, async (port) => {
    const chunk = Buffer.alloc(16 * 1024, 7);
    const chunks = Array.from({ length: echoBytes / chunk.length }, () => chunk);
    let finished = 0;
    const started = performance.now();
    const client = run(
      Graphline(
        { source: DataSource(chunks), client: TCPClient(LOOPBACK, port), counter: ByteCounter(echoBytes, () => (finished = performance.now())) },
        { 'source.outbox': 'client.inbox', 'client.outbox': 'counter.inbox', 'counter.signal': 'client.control', 'client.signal': 'counter.control' },
      ),
      inspect ? { inspect } : {},
    );
    await client.done;
    if (finished === 0) throw new Error('the echo did not return every byte');
    return echoBytes / 1024 / 1024 / ((finished - started) / 1000);
  });
}

/** `connectionCount` short connections (20 at a time): connect, one echoed line, close. Connections/s. */
function connectionRate(inspect: Inspect): Promise<number> {
  return withEchoServer(inspect, async (port) => {
    const line = Buffer.from('hello\n');
    const one = async (): Promise<void> => {
      const client = run(
        Graphline(
          { source: DataSource([line]), client: TCPClient(LOOPBACK, port), counter: ByteCounter(line.length, () => {}) },
          { 'source.outbox': 'client.inbox', 'client.outbox': 'counter.inbox', 'counter.signal': 'client.control', 'client.signal': 'counter.control' },
        ),
        inspect ? { inspect } : {},
      );
      const result = await client.done;
      if (result.status !== 'done') throw new Error(`a connection ended ${result.status}`);
    };
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < connectionCount) {
        next++;
        await one();
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: 20 }, worker));
    return connectionCount / ((performance.now() - started) / 1000);
  });
}

interface Workload {
  readonly name: string;
  readonly unit: string;
  run(inspect: Inspect): Promise<number>;
}

export const workloads: Workload[] = [
  { name: `Pipeline routing (5 components, ${messageCount} messages)`, unit: 'msg/s', run: pipelineRate },
  { name: `Loopback echo, 1 connection, ${echoBytes / 1024 / 1024} MiB in 16 KiB chunks`, unit: 'MiB/s', run: echoRate },
  { name: `Loopback echo, ${connectionCount} short connections (20 at a time)`, unit: 'conn/s', run: connectionRate },
];

async function withMode<T>(mode: Mode, body: (inspect: Inspect) => Promise<T>): Promise<T> {
  if (mode === 'off') return body(undefined);
  if (mode === 'noop') return body(() => {});
  const inspector: Inspector = await createInspector({ port: 0 });
  let page: WebSocket | undefined;
  let received = 0;
  if (mode === 'page') {
    page = new WebSocket(new URL('ws', inspector.url).href.replace('http', 'ws'));
    page.on('message', (data: Buffer) => (received += data.length));
    await new Promise((resolve, reject) => page!.once('open', resolve).once('error', reject));
  }
  try {
    return await body(inspector.inspect);
  } finally {
    await inspector.close();
    page?.close();
    void received;
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** One measurement in this process: a warm-up run, then the measured one. */
async function measureOnce(workload: Workload, mode: Mode): Promise<number> {
  await withMode(mode, workload.run);
  return withMode(mode, workload.run);
}

/**
 * Every measurement runs in a fresh child process (its own heap and JIT state), modes interleaved
 * and their order rotated each round, so no mode inherits another's garbage or warm caches.
 */
export async function measureInspectorCost(): Promise<string[]> {
  const lines = [
    '| workload | off | no-op inspect | inspector attached | inspector + page open | slowdown: no-op / attached / page |',
    '|---|---|---|---|---|---|',
  ];
  const forwarded = ['--messages', String(messageCount), '--echo-mib', String(echoBytes / 1024 / 1024), '--connections', String(connectionCount)];
  for (const [index, workload] of workloads.entries()) {
    const results = new Map<Mode, number[]>(MODES.map((mode) => [mode, []]));
    for (let round = 0; round < rounds; round++) {
      const order = MODES.map((_, i) => MODES[(i + round) % MODES.length]!);
      for (const mode of order) {
        const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--workload', String(index), '--mode', mode, ...forwarded]);
        results.get(mode)!.push(Number(stdout.trim().split('\n').at(-1)));
      }
    }
    const [off, noop, attached, page] = MODES.map((mode) => median(results.get(mode)!)) as [number, number, number, number];
    const fmt = (n: number): string => `${Math.round(n).toLocaleString('en-US')} ${workload.unit}`;
    const slow = (n: number): string => `×${(off / n).toFixed(2)}`;
    lines.push(`| ${workload.name} | ${fmt(off)} | ${fmt(noop)} | ${fmt(attached)} | ${fmt(page)} | ${slow(noop)} / ${slow(attached)} / ${slow(page)} |`);
  }
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (values.workload !== undefined) {
    const workload = workloads[Number(values.workload)];
    const mode = values.mode as Mode;
    if (!workload || !MODES.includes(mode)) throw new Error(`unknown workload ${values.workload} or mode ${values.mode}`);
    console.log(await measureOnce(workload, mode));
  } else {
    console.log(`node ${process.version}, ${cpus().length} CPUs, median of ${rounds} rounds, each measurement in a fresh process`);
    for (const line of await measureInspectorCost()) console.log(line);
  }
}
