// What attaching the inspector costs the inspected program: the server's CPU time per message.
// The server, ConnectedServer(EchoProtocol) on 127.0.0.1, runs in a child process of its own, in one
// of four modes:
//   off      — no inspector (run() passes no `inspect`, so XState does no inspection work at all)
//   no-op    — an `inspect` that does nothing: what XState itself spends building inspection events
//   attached — createInspector's observer attached, no page open
//   page     — attached, and a page (a WebSocket client in this process, reading /ws) taking every batch
// This process is the client (raw node:net): small-message ping-pong over 50 connections (64 B each
// way) and short connections (connect, 64 B echoed, close; 20 at a time). For each it reads the
// server's CPU time (user + system) around a measuring window and divides by the operations done
// in it: on a shared machine that is steadier than a rate. All modes run in the same invocation,
// interleaved, their order rotated each round; the table gives medians and the ratio to "off".
//
// Usage: npm run bench:inspector [-- --rounds 3 --window 3000 --quick]
//        npx tsx bench/inspector-cost.ts ... (the same, from source)
//        --profile MODE writes a CPU profile of the server in that mode to bench/profiles/.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';
import { ConnectedServer, EchoProtocol, createInspector, run, serverShutdown, type Listening } from '../src/index.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string' },
    window: { type: 'string' },
    warmup: { type: 'string' },
    quick: { type: 'boolean', default: false },
    profile: { type: 'string' },
    // internal: this process is the server, in this mode
    serve: { type: 'string' },
  },
});
const quick = values.quick ?? false;
const rounds = Number(values.rounds ?? (quick ? 1 : 3));
const windowMs = Number(values.window ?? (quick ? 1_500 : 3_000));
const warmupMs = Number(values.warmup ?? (quick ? 500 : 1_000));
const LOOPBACK = '127.0.0.1';
const MESSAGE = Buffer.alloc(64, 0x62);

type Mode = 'off' | 'noop' | 'attached' | 'page';
const MODES: readonly Mode[] = ['off', 'noop', 'attached', 'page'];

type ToServer = { cmd: 'cpu' } | { cmd: 'stop' };
type FromServer = { type: 'ready'; port: number; pageUrl?: string } | { type: 'cpu'; micros: number };

// ---- the server (child) ------------------------------------------------------------------------

async function serve(mode: Mode): Promise<void> {
  const inspector = mode === 'attached' || mode === 'page' ? await createInspector({ port: 0 }) : undefined;
  const inspect = mode === 'noop' ? () => {} : inspector?.inspect;
  const server = run(ConnectedServer({ host: LOOPBACK, port: 0, protocol: () => EchoProtocol() }), inspect ? { inspect } : {});
  const { port } = (await server.next('listening', { timeoutMs: 10_000 })) as Listening;
  const send = (message: FromServer): void => void process.send?.(message);
  process.on('message', (message: ToServer) => {
    if (message.cmd === 'cpu') {
      const { user, system } = process.cpuUsage();
      send({ type: 'cpu', micros: user + system });
    } else {
      server.send('control', serverShutdown());
      void Promise.race([server.done, new Promise((resolve) => setTimeout(resolve, 3_000))])
        .then(() => inspector?.close())
        .finally(() => process.exit(0));
    }
  });
  process.on('disconnect', () => process.exit(0));
  send(inspector ? { type: 'ready', port, pageUrl: inspector.url } : { type: 'ready', port });
}

// ---- the client (this process) -----------------------------------------------------------------

interface Server {
  readonly port: number;
  cpu(): Promise<number>;
  stop(): Promise<void>;
}

async function startServer(mode: Mode): Promise<Server & { pageUrl?: string }> {
  const compiled = import.meta.url.endsWith('.js');
  const flags = values.profile === mode ? ['--cpu-prof', '--cpu-prof-dir=bench/profiles'] : [];
  if (flags.length > 0) mkdirSync('bench/profiles', { recursive: true });
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--serve', mode], {
    execArgv: [...(compiled ? [] : ['--import', 'tsx']), ...flags],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = <T extends FromServer['type']>(type: T): Promise<Extract<FromServer, { type: T }>> =>
    new Promise((resolve, reject) => {
      const onMessage = (message: FromServer): void => {
        if (message.type !== type) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(message as Extract<FromServer, { type: T }>);
      };
      const onExit = (code: number | null): void => reject(new Error(`the ${mode} server exited (${code})`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  const ready = await next('ready');
  return {
    port: ready.port,
    ...(ready.pageUrl ? { pageUrl: ready.pageUrl } : {}),
    async cpu() {
      const answer = next('cpu');
      child.send({ cmd: 'cpu' } satisfies ToServer);
      return (await answer).micros;
    },
    async stop() {
      const exited = once(child, 'exit');
      child.send({ cmd: 'stop' } satisfies ToServer);
      await exited;
    },
  };
}

/** A page: a WebSocket on /ws that reads every batch (and parses it, as the page does). */
async function openPage(pageUrl: string): Promise<() => void> {
  const ws = new WebSocket(new URL('ws', pageUrl).href.replace(/^http/, 'ws'));
  let records = 0;
  ws.on('message', (data: Buffer) => (records += (JSON.parse(data.toString()) as unknown[]).length));
  await once(ws, 'open');
  return () => ws.close();
}

/** Counts operations while `load` runs; returns server CPU µs per operation and operations/s over the window. */
async function measure(server: Server, load: (count: () => void, stopped: () => boolean) => Promise<void>): Promise<{ cpuPerOp: number; rate: number }> {
  let operations = 0;
  let stop = false;
  const running = load(
    () => operations++,
    () => stop,
  );
  await new Promise((resolve) => setTimeout(resolve, warmupMs));
  const cpu0 = await server.cpu();
  const ops0 = operations;
  const t0 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, windowMs));
  const cpu1 = await server.cpu();
  const ops1 = operations;
  const seconds = (performance.now() - t0) / 1000;
  stop = true;
  await running;
  return { cpuPerOp: (cpu1 - cpu0) / (ops1 - ops0), rate: (ops1 - ops0) / seconds };
}

/** 50 connections, each sending 64 B and waiting for them to come back, over and over. */
function pingPong(port: number) {
  return async (count: () => void, stopped: () => boolean): Promise<void> => {
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        const socket = net.connect({ host: LOOPBACK, port, noDelay: true });
        await once(socket, 'connect');
        await new Promise<void>((resolve, reject) => {
          let pending = MESSAGE.length;
          socket.on('data', (data: Buffer) => {
            pending -= data.length;
            if (pending > 0) return;
            count();
            if (stopped()) return resolve();
            pending = MESSAGE.length;
            socket.write(MESSAGE);
          });
          socket.on('error', reject);
          socket.write(MESSAGE);
        });
        socket.resetAndDestroy();
      }),
    );
  };
}

/** Short connections, 20 at a time: connect, 64 B echoed, close (and wait for the server's close). */
function connectEchoClose(port: number) {
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const socket = net.connect({ host: LOOPBACK, port, noDelay: true });
      let pending = MESSAGE.length;
      socket.on('connect', () => socket.write(MESSAGE));
      socket.on('data', (data: Buffer) => {
        pending -= data.length;
        if (pending <= 0) socket.end();
      });
      socket.on('close', () => (pending <= 0 ? resolve() : reject(new Error('closed before the echo'))));
      socket.on('error', reject);
    });
  return async (count: () => void, stopped: () => boolean): Promise<void> => {
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (!stopped()) {
          await one();
          count();
        }
      }),
    );
  };
}

const WORKLOADS = [
  { name: 'ping-pong, 50 connections, 64 B', unit: 'msg', load: pingPong },
  { name: 'connect, echo 64 B, close (20 at a time)', unit: 'conn', load: connectEchoClose },
] as const;

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  console.log(`node ${process.version}, ${cpus().length} CPUs, load average ${loadavg()[0]!.toFixed(1)}; median of ${rounds} round(s), ${windowMs} ms windows, each server in a fresh process`);
  console.log('| workload | off | no-op `inspect` | inspector attached | attached, page open | server CPU ×: no-op / attached / page |');
  console.log('|---|---|---|---|---|---|');
  for (const workload of WORKLOADS) {
    const cpu = new Map<Mode, number[]>(MODES.map((mode) => [mode, []]));
    const rate = new Map<Mode, number[]>(MODES.map((mode) => [mode, []]));
    for (let round = 0; round < rounds; round++) {
      for (const mode of MODES.map((_, i) => MODES[(i + round) % MODES.length]!)) {
        const server = await startServer(mode);
        const closePage = mode === 'page' && server.pageUrl ? await openPage(server.pageUrl) : undefined;
        try {
          const figures = await measure(server, workload.load(server.port));
          cpu.get(mode)!.push(figures.cpuPerOp);
          rate.get(mode)!.push(figures.rate);
        } finally {
          closePage?.();
          await server.stop();
        }
      }
    }
    const [off, noop, attached, page] = MODES.map((mode) => median(cpu.get(mode)!)) as [number, number, number, number];
    const cell = (mode: Mode): string => `${median(cpu.get(mode)!).toFixed(1)} µs/${workload.unit} (${Math.round(median(rate.get(mode)!)).toLocaleString('en-US')} ${workload.unit}/s)`;
    const ratio = (n: number): string => `×${(n / off).toFixed(2)}`;
    console.log(`| ${workload.name} | ${cell('off')} | ${cell('noop')} | ${cell('attached')} | ${cell('page')} | ${ratio(noop)} / ${ratio(attached)} / ${ratio(page)} |`);
  }
}

if (values.serve !== undefined) {
  if (!MODES.includes(values.serve as Mode)) throw new Error(`unknown mode ${values.serve}`);
  await serve(values.serve as Mode);
} else if (import.meta.url === `file://${process.argv[1]}`) {
  await main();
}
