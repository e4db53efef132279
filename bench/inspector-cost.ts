// What attaching the inspector costs the inspected program: the server's CPU time per message.
// The server, ConnectedServer(EchoProtocol) on 127.0.0.1, runs in a child process of its own, one
// per mode, all four running at once:
//   off      — no inspector (run() passes no `inspect`, so XState does no inspection work at all)
//   no-op    — an `inspect` that does nothing: what XState itself spends building inspection events
//   attached — createInspector's observer attached, no page open
//   page     — attached, and a page (a WebSocket client in this process, reading /ws and parsing
//              every batch) open
// This process is the client (raw node:net): small-message ping-pong over 50 connections (64 B each
// way) and short connections (connect, 64 B echoed, close; 20 at a time). The load goes to one
// server at a time for a short window, the modes taking turns (their order rotated each cycle), and
// each window reads that server's CPU time (user + system) and divides it by the operations done in
// it. The machine this runs on is shared, and its load moves by the second: short windows taken in
// turns give every mode the same conditions, and CPU time per operation is steadier than a rate.
// The table gives the median over the windows (the first cycle is a warm-up) and the ratio to "off".
//
// Usage: npm run bench:inspector [-- --cycles 12 --window 600 --quick --only ping,connect]
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
    cycles: { type: 'string' },
    window: { type: 'string' },
    quick: { type: 'boolean', default: false },
    profile: { type: 'string' },
    only: { type: 'string' },
    // internal: this process is the server, in this mode
    serve: { type: 'string' },
  },
});
const quick = values.quick ?? false;
const cycles = Number(values.cycles ?? (quick ? 4 : 12));
const windowMs = Number(values.window ?? (quick ? 400 : 600));
const LOOPBACK = '127.0.0.1';
/** After a window, how long the server is left to finish (more than the inspector's 100 ms flush interval). */
const SETTLE_MS = 250;
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

/** Load on one server that can be started and stopped; `ops` counts what it has done. */
interface Load {
  readonly ops: number;
  start(): void;
  /** Stops sending and resolves when what is in flight has come back. */
  stop(): Promise<void>;
  close(): void;
}

/** 50 connections, each sending 64 B and waiting for them to come back, over and over while started. */
async function pingPong(port: number): Promise<Load> {
  let ops = 0;
  let running = false;
  let inFlight = 0;
  let idle: (() => void) | undefined;
  const sockets = await Promise.all(
    Array.from({ length: 50 }, async () => {
      const socket = net.connect({ host: LOOPBACK, port, noDelay: true });
      await once(socket, 'connect');
      let pending = 0;
      socket.on('data', (data: Buffer) => {
        pending -= data.length;
        if (pending > 0) return;
        ops++;
        if (running) {
          pending = MESSAGE.length;
          socket.write(MESSAGE);
        } else if (--inFlight === 0) idle?.();
      });
      socket.on('error', (error) => {
        throw error;
      });
      return { socket, send: () => ((pending = MESSAGE.length), socket.write(MESSAGE)) };
    }),
  );
  return {
    get ops() {
      return ops;
    },
    start() {
      running = true;
      inFlight = sockets.length;
      for (const { send } of sockets) send();
    },
    stop() {
      running = false;
      return new Promise<void>((resolve) => (inFlight === 0 ? resolve() : (idle = resolve)));
    },
    close() {
      for (const { socket } of sockets) socket.resetAndDestroy();
    },
  };
}

/** Short connections, 20 at a time while started: connect, 64 B echoed, close (and wait for the server's close). */
async function connectEchoClose(port: number): Promise<Load> {
  let ops = 0;
  let running = false;
  let workers: Promise<void>[] = [];
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
  return {
    get ops() {
      return ops;
    },
    start() {
      running = true;
      workers = Array.from({ length: 20 }, async () => {
        while (running) {
          await one();
          ops++;
        }
      });
    },
    async stop() {
      running = false;
      await Promise.all(workers);
    },
    close() {},
  };
}

const WORKLOADS = [
  { id: 'ping', name: 'ping-pong, 50 connections, 64 B', unit: 'msg', load: pingPong },
  { id: 'connect', name: 'connect, echo 64 B, close (20 at a time)', unit: 'conn', load: connectEchoClose },
] as const;

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  console.log(
    `node ${process.version}, ${cpus().length} CPUs, load average ${loadavg()[0]!.toFixed(1)}; the four servers run at once, the load goes to each in turn for ${windowMs} ms (CPU read ${SETTLE_MS} ms after); median of ${cycles - 1} windows per mode (after one warm-up cycle)`,
  );
  console.log('| workload | off | no-op `inspect` | inspector attached | attached, page open | server CPU ×: no-op / attached / page |');
  console.log('|---|---|---|---|---|---|');
  const only = values.only?.split(',');
  for (const workload of WORKLOADS.filter((w) => !only || only.includes(w.id))) {
    const servers = await Promise.all(MODES.map((mode) => startServer(mode)));
    const closePage = await openPage(servers[MODES.indexOf('page')]!.pageUrl!);
    const loads = await Promise.all(servers.map((server) => workload.load(server.port)));
    const cpu = new Map<Mode, number[]>(MODES.map((mode) => [mode, []]));
    const rate = new Map<Mode, number[]>(MODES.map((mode) => [mode, []]));
    try {
      for (let cycle = 0; cycle < cycles; cycle++) {
        for (const index of MODES.map((_, i) => (i + cycle) % MODES.length)) {
          const [mode, server, load] = [MODES[index]!, servers[index]!, loads[index]!];
          const cpu0 = await server.cpu();
          const ops0 = load.ops;
          const t0 = performance.now();
          load.start();
          await sleep(windowMs);
          await load.stop();
          const seconds = (performance.now() - t0) / 1000;
          const ops = load.ops - ops0;
          // The server's CPU is read once it has settled: closing connections, and the inspector's
          // batch (every 100 ms), done after the window are the window's cost too. Idle, it spends ~0.
          await sleep(SETTLE_MS);
          const cpu1 = await server.cpu();
          if (cycle === 0) continue; // warm-up
          cpu.get(mode)!.push((cpu1 - cpu0) / ops);
          rate.get(mode)!.push(ops / seconds);
        }
      }
    } finally {
      closePage();
      for (const load of loads) load.close();
      await Promise.all(servers.map((server) => server.stop()));
    }
    const off = median(cpu.get('off')!);
    const cell = (mode: Mode): string => `${median(cpu.get(mode)!).toFixed(1)} µs/${workload.unit} (${Math.round(median(rate.get(mode)!)).toLocaleString('en-US')} ${workload.unit}/s)`;
    const ratio = (mode: Mode): string => `×${(median(cpu.get(mode)!) / off).toFixed(2)}`;
    console.log(`| ${workload.name} | ${cell('off')} | ${cell('noop')} | ${cell('attached')} | ${cell('page')} | ${ratio('noop')} / ${ratio('attached')} / ${ratio('page')} |`);
  }
}

if (values.serve !== undefined) {
  if (!MODES.includes(values.serve as Mode)) throw new Error(`unknown mode ${values.serve}`);
  await serve(values.serve as Mode);
} else if (import.meta.url === `file://${process.argv[1]}`) {
  await main();
}
