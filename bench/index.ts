// `npm run bench` (about 4 minutes) or `npm run bench -- --quick` (under a minute).
// Measures a raw node:net echo server and ours, ConnectedServer(EchoProtocol), alternating runs
// (raw, ours, raw, ours, ...) against servers in their own processes, all on 127.0.0.1. Prints the
// median of each figure and the ratio ours/raw, writes bench/results.json.
// The accept workload drives the server from several client processes (--clients=N, default 2,
// bench/acceptClient.ts) so that the server is the bottleneck; its headline is the server's CPU per
// connection, with every process's CPU saturation beside it. The other workloads run their clients
// in this process.
// Options: --quick, --only=bulk,accept,...  --runs=N  --out=path  --clients=N  --cpu-prof (profiles
// both servers into bench/profiles/)  --sides=ours (measure one side only, e.g. while profiling)
// --ours=floor (ours' column measures raw node:net plus one bare XState actor per connection: the
// floor an actor per connection sets, bench/servers/floorEchoServer.ts).
// npm run bench compiles with tsc first and runs the JavaScript, as the package ships: under tsx
// (esbuild with keepNames) every closure carries a name property, which added ~9 KB of heap per idle
// connection and CPU per accept to "ours" and would have measured the loader, not the library.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { oursStreamClient } from './clients/oursStreamClient.js';
import { emitterRate, pipelineRate } from './pipeline.js';
import { countTimeWait, describeMachine, openFilesSoftLimit } from './machine.js';
import { startServerProcess, type ServerProcess } from './serverProcess.js';
import { formatFigure, median } from './stats.js';
import { markdownTable, textTable, type FigureResult, type FigureSpec, type WorkloadResult } from './report.js';
import { startClientProcesses, type ClientProcesses } from './clientProcesses.js';
import { acceptConnectionsServed, acceptServerBound } from './workloads/acceptServerBound.js';
import { bulkEcho } from './workloads/bulkEcho.js';
import { clientStream, rawStreamClient } from './workloads/clientStream.js';
import { idleConnections } from './workloads/idleConnections.js';
import { pingPong } from './workloads/pingPong.js';
import type { ServerKind } from './ipc.js';
import { describeMetricsCost, metricsCost } from './metricsCost.js';

type Side = Exclude<ServerKind, 'floor'>;
const host = '127.0.0.1';
/** bench/ in the repository, whether this runs from source (tsx) or from dist-bench/bench. */
const benchDir = new URL(import.meta.url.endsWith('.js') ? '../../bench/' : './', import.meta.url);

const { values: options } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    runs: { type: 'string' },
    out: { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
    sides: { type: 'string', default: 'raw,ours' },
    clients: { type: 'string', default: '2' },
    ours: { type: 'string', default: 'ours' },
  },
});

const quick = options.quick ?? false;
// `--ours=floor` puts the XState floor server (bench/servers/floorEchoServer.ts) in ours' column.
const oursKind: ServerKind = options.ours === 'floor' ? 'floor' : 'ours';
const sides = (options.sides ?? 'raw,ours').split(',').filter((side): side is Side => side === 'raw' || side === 'ours');

/** Each process holds one descriptor per idle connection; stay under the soft limit (ulimit -n). */
function idleConnectionCount(wanted: number): number {
  const limit = openFilesSoftLimit() ?? Number.POSITIVE_INFINITY;
  const possible = Math.floor(limit - 500);
  if (possible >= wanted) return wanted;
  process.stderr.write(`idle workload: ulimit -n is ${limit}, so ${possible} connections instead of ${wanted} (raise it with ulimit -n)\n`);
  return Math.max(100, possible);
}

const clientCount = Number(options.clients ?? 2);
if (!Number.isInteger(clientCount) || clientCount < 1) throw new Error(`--clients must be a whole number of client processes, at least 1 (got ${options.clients})`);

const settings = {
  runs: Number(options.runs ?? (quick ? 3 : 5)),
  window: quick ? { warmupMs: 200, windowMs: 600 } : { warmupMs: 1_000, windowMs: 3_000 },
  // 50 loops shared out over the client processes; the cap only guards against a runaway window.
  accept: {
    loops: 50,
    maxConnections: 1_000_000,
    clientProcesses: clientCount,
    firstWarmupConnections: quick ? 5_000 : 20_000,
    firstWarmupMaxMs: quick ? 8_000 : 30_000,
  },
  idle: { connections: idleConnectionCount(quick ? 2_000 : 10_000), concurrency: 100, timeoutMs: 60_000, runs: quick ? 2 : 3 },
  stream: { mebibytes: quick ? 64 : 512, timeoutMs: 60_000 },
  routing: { messages: quick ? 200_000 : 1_000_000 },
};

type Servers = Record<Side, ServerProcess | undefined>;
/** The accept workload's client processes, started when it first runs. */
let clientProcesses: Promise<ClientProcesses> | undefined;
type Figures = Readonly<Record<string, number>>;

interface Workload {
  readonly id: string;
  readonly title: string;
  readonly figures: readonly FigureSpec[];
  readonly runs?: number;
  /** Whether "ours" needs the ours server process (the client-side workloads do not). */
  readonly needsOursServer: boolean;
  /**
   * Also report the server's CPU time per operation (the figure `operations` counts them): on a
   * shared machine this is steadier than a rate, which other processes' load drags around.
   */
  readonly serverCpuPer?: { readonly unit: string };
  measure(side: Side, servers: Servers): Promise<Figures>;
}

const latencyFigures: readonly FigureSpec[] = [
  { key: 'p50Micros', label: 'p50 latency', unit: 'µs', better: 'lower' },
  { key: 'p99Micros', label: 'p99 latency', unit: 'µs', better: 'lower' },
];

function echoPort(servers: Servers, side: Side): number {
  const server = servers[side];
  if (!server) throw new Error(`no ${side} server`);
  return server.echoPort;
}

function pingPongWorkload(connections: number, target: number): Workload {
  return {
    id: `pingpong-${connections}`,
    title: `64 B ping-pong, ${connections} connection${connections === 1 ? '' : 's'}`,
    figures: [{ key: 'messagesPerSecond', label: 'rate', unit: 'msg/s', better: 'higher', target }, ...latencyFigures],
    needsOursServer: true,
    serverCpuPer: { unit: 'µs/msg' },
    measure: (side, servers) => pingPong(host, echoPort(servers, side), connections, settings.window).then((f) => ({ ...f })),
  };
}

const workloads: readonly Workload[] = [
  {
    id: 'bulk',
    title: 'Bulk echo, 64 KiB writes, 1 connection',
    figures: [{ key: 'mbPerSecond', label: 'throughput', unit: 'MB/s', better: 'higher', target: 0.9 }],
    needsOursServer: true,
    serverCpuPer: { unit: 'µs/MB' },
    measure: (side, servers) => bulkEcho(host, echoPort(servers, side), settings.window).then((f) => ({ ...f })),
  },
  pingPongWorkload(1, 0.8),
  pingPongWorkload(50, 0.7),
  {
    id: 'accept',
    title: `Accept, ${settings.accept.loops} loops of connect / 1-byte echo / reset in ${settings.accept.clientProcesses} client processes`,
    figures: [
      { key: 'serverCpu', label: 'server CPU', unit: 'µs/conn', better: 'lower', target: 1.6 },
      { key: 'connectionsPerSecond', label: 'rate', unit: 'conn/s', better: 'higher' },
      { key: 'serverBusy', label: 'server process CPU', unit: '% of a core', better: 'lower', noRatio: true },
      ...Array.from({ length: settings.accept.clientProcesses }, (_, i): FigureSpec => ({
        key: `clientBusy${i + 1}`,
        label: `client process ${i + 1} CPU`,
        unit: '% of a core',
        better: 'lower',
        noRatio: true,
      })),
    ],
    needsOursServer: true,
    measure: async (side, servers) => {
      const server = servers[side];
      if (!server) throw new Error(`no ${side} server`);
      clientProcesses ??= startClientProcesses(settings.accept.clientProcesses);
      return acceptServerBound(host, server, await clientProcesses, { ...settings.window, ...settings.accept }).then((f) => ({ ...f }));
    },
  },
  {
    id: 'idle',
    title: `${settings.idle.connections.toLocaleString('en-US')} idle connections, server memory after GC`,
    figures: [
      { key: 'bytesPerConnection', label: 'heap+external', unit: 'B/conn', better: 'lower', target: 2 },
      // Raw's RSS barely moves (its heap growth fits in pages already mapped), so no ratio.
      { key: 'rssBytesPerConnection', label: 'RSS growth', unit: 'B/conn', better: 'lower', noRatio: true },
    ],
    runs: settings.idle.runs,
    needsOursServer: true,
    measure: (side, servers) => {
      const server = servers[side];
      if (!server) throw new Error(`no ${side} server`);
      return idleConnections(host, server, settings.idle).then((f) => ({ ...f }));
    },
  },
  {
    id: 'client-stream',
    title: 'Client streaming 64 KiB chunks to a raw sink (TCPClient vs net.connect)',
    figures: [
      { key: 'mbPerSecond', label: 'throughput', unit: 'MB/s', better: 'higher' },
      { key: 'clientCpu', label: 'client CPU', unit: 'µs/MB', better: 'lower' },
    ],
    needsOursServer: false,
    measure: (side, servers) => {
      const sink = servers.raw;
      if (!sink) throw new Error('no raw server for the sink');
      return clientStream(side === 'raw' ? rawStreamClient : oursStreamClient, host, sink.sinkPort, settings.stream).then((f) => ({ ...f }));
    },
  },
  {
    id: 'routing',
    title: '3-stage Pipeline routing in process (bench/pipeline.ts; raw: the same chain of EventEmitters)',
    figures: [{ key: 'messagesPerSecond', label: 'rate', unit: 'msg/s', better: 'higher' }],
    needsOursServer: false,
    measure: async (side) => ({ messagesPerSecond: (side === 'raw' ? emitterRate : pipelineRate)(settings.routing.messages) }),
  },
];

function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}

function figureSpecs(workload: Workload): readonly FigureSpec[] {
  if (!workload.serverCpuPer) return workload.figures;
  return [...workload.figures, { key: 'serverCpu', label: 'server CPU', unit: workload.serverCpuPer.unit, better: 'lower' }];
}

async function measureWithServerCpu(workload: Workload, side: Side, servers: Servers): Promise<Figures> {
  const server = servers[side];
  if (!workload.serverCpuPer || !server) return workload.measure(side, servers);
  const before = await server.cpuMicros();
  const figures = await workload.measure(side, servers);
  const used = (await server.cpuMicros()) - before;
  return { ...figures, serverCpu: used / (figures.operations ?? Number.NaN) };
}

async function runWorkload(workload: Workload, servers: Servers, oursMissing: string | undefined): Promise<WorkloadResult> {
  const runs: Record<Side, Figures[]> = { raw: [], ours: [] };
  const errors: string[] = [];
  const count = Math.min(settings.runs, workload.runs ?? settings.runs);
  for (let run = 1; run <= count; run++) {
    for (const side of sides) {
      if (side === 'ours' && workload.needsOursServer && oursMissing) continue;
      try {
        const figures = await measureWithServerCpu(workload, side, servers);
        runs[side].push(figures);
        const shown = figureSpecs(workload).map((f) => `${f.label} ${formatFigure(figures[f.key] ?? Number.NaN)} ${f.unit}`).join(', ');
        progress(`  ${workload.id} run ${run}/${count} ${side.padEnd(4)} ${shown}`);
      } catch (error) {
        const message = `${side} run ${run}: ${error instanceof Error ? error.message : String(error)}`;
        errors.push(message);
        progress(`  ${workload.id} ${message}`);
      }
    }
  }
  if (workload.needsOursServer && oursMissing) errors.push(`ours not measured: ${oursMissing}`);
  const figures = figureSpecs(workload).map((spec): FigureResult => {
    const raw = runs.raw.map((f) => f[spec.key]!);
    const ours = runs.ours.map((f) => f[spec.key]!);
    const rawMedian = median(raw);
    const oursMedian = median(ours);
    const ratio = oursMedian / rawMedian;
    const met = spec.target === undefined || !Number.isFinite(ratio) ? undefined : spec.better === 'higher' ? ratio >= spec.target : ratio <= spec.target;
    return { ...spec, raw: { runs: raw, median: rawMedian }, ours: { runs: ours, median: oursMedian }, ratio, ...(met === undefined ? {} : { met }) };
  });
  return { id: workload.id, title: workload.title, figures, errors };
}

async function main(): Promise<void> {
  const machine = describeMachine();
  const selected = options.only ? workloads.filter((w) => options.only!.split(',').includes(w.id)) : workloads;
  const withMetrics = !options.only || options.only.split(',').includes('metrics');
  if (selected.length === 0 && !withMetrics) throw new Error(`--only matched no workload (have ${workloads.map((w) => w.id).join(', ')}, metrics)`);
  console.log(
    `kamaelia-xstate bench${quick ? ' (quick)' : ''}: ${machine.cpus} CPUs, ${machine.cpuModel}, Node ${machine.node}, ${machine.platform}, open files ${machine.openFilesLimit}, load ${os.loadavg()[0].toFixed(1)}`,
  );

  const profileFlags = (kind: ServerKind): string[] =>
    options['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${fileURLToPath(new URL('./profiles', benchDir))}`, `--cpu-prof-name=${kind}-${Date.now()}.cpuprofile`] : [];
  const [raw, ours] = await Promise.allSettled([
    startServerProcess('raw', { nodeFlags: profileFlags('raw') }),
    startServerProcess(oursKind, { nodeFlags: profileFlags(oursKind) }),
  ]);
  if (raw.status === 'rejected') throw raw.reason;
  const servers: Servers = { raw: raw.value, ours: ours.status === 'fulfilled' ? ours.value : undefined };
  const oursMissing = ours.status === 'rejected' ? (ours.reason instanceof Error ? ours.reason.message : String(ours.reason)) : undefined;
  if (oursMissing) progress(`ours server unavailable: ${oursMissing}`);

  const results: WorkloadResult[] = [];
  const loadBefore = os.loadavg();
  const timeWait: Record<string, number | undefined> = { before: countTimeWait() };
  const started = Date.now();
  try {
    for (const workload of selected) {
      progress(`${workload.title}`);
      results.push(await runWorkload(workload, servers, oursMissing));
      if (workload.id === 'accept') timeWait.afterAccept = countTimeWait();
    }
    if (options['cpu-prof'] && selected.some((w) => w.id === 'accept')) {
      for (const side of sides) {
        const server = servers[side];
        if (server) progress(`${side} server served ${acceptConnectionsServed(server)} accept connections (profile-summary --connections=N gives µs per connection)`);
      }
    }
  } finally {
    await Promise.all([servers.raw?.stop(), servers.ours?.stop(), clientProcesses?.then((clients) => clients.close())]);
  }
  timeWait.after = countTimeWait();
  // Diagnostics channels and the OpenTelemetry bridge: their own servers, after the others (bench/metricsCost.ts).
  const metrics = withMetrics ? await metricsCost({ quick }) : undefined;

  console.log('');
  console.log(textTable(results));
  const errors = results.flatMap((r) => r.errors.map((e) => `${r.id}: ${e}`));
  for (const error of errors) console.log(`! ${error}`);
  if (metrics) console.log(`\n${describeMetricsCost(metrics)}`);

  const out = options.out ?? fileURLToPath(new URL(quick ? './results.local.json' : './results.json', benchDir));
  const report = {
    generatedAt: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    seconds: Math.round((Date.now() - started) / 1000),
    machine,
    // Other work on the machine drags the rates around; the 1-minute load average says how much.
    loadAverage: { before: loadBefore[0], after: os.loadavg()[0] },
    settings,
    timeWaitSockets: timeWait,
    workloads: results,
    ...(metrics ? { metricsCost: metrics } : {}),
  };
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nwritten to ${out}\n\n${markdownTable(results)}`);
  if (results.some((r) => r.figures.some((f) => f.raw.runs.length === 0))) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
