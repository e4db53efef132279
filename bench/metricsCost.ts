// What the diagnostics channels and the OpenTelemetry bridge cost per accepted connection.
//  - nil check: the observer calls a connection makes (open, close) with nobody subscribed, timed
//    in process, in ns per connection;
//  - accept CPU: ConnectedServer(EchoProtocol) in its own process, three ways, alternating runs of
//    the accept workload (bench/workloads/acceptRate.ts): `off` (no subscriber), `noop` (a subscriber
//    that does nothing on every channel: the publishing alone) and `otel` (instrumentServers with the
//    real @opentelemetry/sdk-metrics MeterProvider). Server CPU µs per connection, median of runs;
//    the overhead is the median of the ratio within each round (the load drifts between rounds).
// `npm run bench` runs it after the other workloads (`--only=metrics` for this alone), or:
// npx tsx bench/metricsCost.ts [--quick]
import { fork, type ChildProcess } from 'node:child_process';
import diagnosticsChannel from 'node:diagnostics_channel';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { ConnectedServer, DIAGNOSTICS_CHANNELS, EchoProtocol, run } from '../src/index.js';
import { serverDiagnostics } from '../src/internet/diagnostics.js';
import { instrumentServers } from '../src/otel/index.js';
import { median } from './stats.js';
import { acceptRate } from './workloads/acceptRate.js';

type Mode = 'off' | 'noop' | 'otel';
const MODES: readonly Mode[] = ['off', 'noop', 'otel'];
const host = '127.0.0.1';

/** What the bench reports (and bench/index.ts writes into results.json as `metricsCost`). */
export interface MetricsCost {
  /** ns per connection for the observer's open + close calls with no subscriber. */
  readonly noSubscriberNsPerConnection: number;
  /** The same calls with a no-op subscriber on every channel, and with the OpenTelemetry bridge subscribed (in process, steadier than the end-to-end figures). */
  readonly noopNsPerConnection: number;
  readonly otelNsPerConnection: number;
  /** otelNsPerConnection as a fraction of the median `off` server CPU per connection. */
  readonly otelOverheadInProcess: number;
  /** Median server CPU µs per accepted connection, by mode. */
  readonly serverCpuMicrosPerConnection: Record<Mode, number>;
  readonly connectionsPerSecond: Record<Mode, number>;
  /**
   * otel / off − 1, and noop / off − 1 (fractions; 0.05 = 5 % more CPU per connection): the median
   * over rounds of the ratio within each round, so a drift in the machine's load between rounds cancels.
   */
  readonly otelOverhead: number;
  readonly noopOverhead: number;
  /** Each counted round's server CPU µs per connection, by mode. */
  readonly serverCpuRuns: Record<Mode, number[]>;
  readonly runs: number;
}

/** Times the per-connection observer calls (open, close) in this process, in ns per connection. */
function observerCost(iterations: number): number {
  const observer = serverDiagnostics('Bench', undefined);
  const socket = new net.Socket();
  const time = (): number => {
    const started = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) {
      observer.opened(i, socket);
      observer.closed(i, socket, undefined);
    }
    return Number(process.hrtime.bigint() - started) / iterations;
  };
  time(); // warm up (JIT)
  const ns = Math.min(time(), time(), time());
  socket.destroy();
  return ns;
}

/** The in-process figures: no subscriber, a no-op subscriber, the OpenTelemetry bridge. */
function inProcessCosts(iterations: number): { none: number; noop: number; otel: number } {
  for (const name of Object.values(DIAGNOSTICS_CHANNELS)) {
    if (diagnosticsChannel.hasSubscribers(name)) throw new Error(`${name} has a subscriber: the nil check needs none`);
  }
  const none = observerCost(iterations);
  const noop = (): void => {};
  for (const name of Object.values(DIAGNOSTICS_CHANNELS)) diagnosticsChannel.subscribe(name, noop);
  const withNoop = observerCost(iterations);
  for (const name of Object.values(DIAGNOSTICS_CHANNELS)) diagnosticsChannel.unsubscribe(name, noop);
  const reader = new PeriodicExportingMetricReader({ exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE), exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ readers: [reader] });
  const bridge = instrumentServers({ meterProvider: provider });
  const withOtel = observerCost(iterations);
  bridge.stop();
  void provider.shutdown();
  return { none, noop: withNoop, otel: withOtel };
}

/** In the child: serve, instrumented as `mode` says, and answer CPU questions. */
async function serve(mode: Mode): Promise<void> {
  if (mode === 'noop') for (const name of Object.values(DIAGNOSTICS_CHANNELS)) diagnosticsChannel.subscribe(name, () => {});
  if (mode === 'otel') {
    const reader = new PeriodicExportingMetricReader({ exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE), exportIntervalMillis: 3_600_000 });
    instrumentServers({ meterProvider: new MeterProvider({ readers: [reader] }) });
  }
  const handle = run(ConnectedServer({ host, port: 0, protocol: () => EchoProtocol() }));
  const { port } = await handle.next('listening');
  process.on('message', (message: { cmd: string }) => {
    if (message.cmd === 'cpu') {
      const { user, system } = process.cpuUsage();
      process.send?.({ type: 'cpu', micros: user + system });
    } else if (message.cmd === 'stop') process.exit(0);
  });
  process.on('disconnect', () => process.exit(0));
  process.send?.({ type: 'ready', port });
}

interface Server {
  readonly port: number;
  cpu(): Promise<number>;
  stop(): void;
}

async function startServer(mode: Mode): Promise<Server> {
  const self = fileURLToPath(import.meta.url);
  const compiled = self.endsWith('.js');
  const child: ChildProcess = fork(self, ['--serve', mode], { execArgv: compiled ? [] : ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = <T>(type: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const onExit = (code: number | null): void => reject(new Error(`the ${mode} server exited (${code})`));
      const onMessage = (message: { type: string } & T): void => {
        if (message.type !== type) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(message);
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  const { port } = await next<{ port: number }>('ready');
  return {
    port,
    cpu: async () => {
      const answer = next<{ micros: number }>('cpu');
      child.send({ cmd: 'cpu' });
      return (await answer).micros;
    },
    stop: () => void (child.connected ? child.send({ cmd: 'stop' }) : child.kill()),
  };
}

/** Runs the comparison; `quick` for shorter windows and fewer runs. */
export async function metricsCost(options: { quick?: boolean; runs?: number; log?: (line: string) => void } = {}): Promise<MetricsCost> {
  const quick = options.quick ?? false;
  const runs = options.runs ?? (quick ? 5 : 9);
  const log = options.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const inProcess = inProcessCosts(quick ? 200_000 : 1_000_000);
  log(`  metrics: observer open+close in process: ${inProcess.none.toFixed(1)} ns/conn with no subscriber, ${inProcess.noop.toFixed(0)} ns with a no-op one, ${inProcess.otel.toFixed(0)} ns with the OpenTelemetry bridge`);
  const servers = Object.fromEntries(await Promise.all(MODES.map(async (mode) => [mode, await startServer(mode)] as const))) as Record<Mode, Server>;
  const cpu: Record<Mode, number[]> = { off: [], noop: [], otel: [] };
  const rates: Record<Mode, number[]> = { off: [], noop: [], otel: [] };
  // Short windows, many rounds: each round's three modes run back to back, and their ratios are paired.
  const settings = quick ? { warmupMs: 200, windowMs: 800, loops: 50, maxConnections: 20_000 } : { warmupMs: 500, windowMs: 2_000, loops: 50, maxConnections: 100_000 };
  try {
    // A first round warms every server up (JIT) and is not counted; then the order rotates per round.
    for (let round = 0; round <= runs; round++) {
      for (const mode of MODES.map((_, i) => MODES[(i + round) % MODES.length]!)) {
        const server = servers[mode];
        const before = await server.cpu();
        const figures = await acceptRate(host, server.port, settings);
        const used = (await server.cpu()) - before;
        if (round === 0) continue;
        cpu[mode].push(used / figures.operations);
        rates[mode].push(figures.connectionsPerSecond);
        log(`  metrics run ${round}/${runs} ${mode.padEnd(4)} ${figures.connectionsPerSecond.toFixed(0)} conn/s, ${(used / figures.operations).toFixed(1)} µs server CPU/conn`);
      }
    }
  } finally {
    for (const server of Object.values(servers)) server.stop();
  }
  const serverCpuMicrosPerConnection = { off: median(cpu.off), noop: median(cpu.noop), otel: median(cpu.otel) };
  return {
    noSubscriberNsPerConnection: inProcess.none,
    noopNsPerConnection: inProcess.noop,
    otelNsPerConnection: inProcess.otel,
    otelOverheadInProcess: inProcess.otel / 1000 / serverCpuMicrosPerConnection.off,
    serverCpuMicrosPerConnection,
    connectionsPerSecond: { off: median(rates.off), noop: median(rates.noop), otel: median(rates.otel) },
    otelOverhead: median(cpu.otel.map((otel, i) => otel / cpu.off[i]! - 1)),
    noopOverhead: median(cpu.noop.map((noop, i) => noop / cpu.off[i]! - 1)),
    serverCpuRuns: cpu,
    runs,
  };
}

/** One line per figure, for the bench's printed report. */
export function describeMetricsCost(cost: MetricsCost): string {
  const { off, noop, otel } = cost.serverCpuMicrosPerConnection;
  const percent = (fraction: number): string => `${fraction >= 0 ? '+' : ''}${(fraction * 100).toFixed(1)} %`;
  return [
    `Metrics cost (accept workload, server CPU per connection, median of ${cost.runs} rounds of the three modes back to back; overheads are the median of each round's ratio):`,
    `  observer calls per connection, in process: no subscriber ${cost.noSubscriberNsPerConnection.toFixed(1)} ns · no-op subscriber ${cost.noopNsPerConnection.toFixed(0)} ns · OpenTelemetry bridge ${cost.otelNsPerConnection.toFixed(0)} ns (${percent(cost.otelOverheadInProcess)} of off's accept CPU)`,
    `  off ${off.toFixed(1)} µs/conn · noop subscriber ${noop.toFixed(1)} µs/conn (${percent(cost.noopOverhead)}) · OpenTelemetry bridge ${otel.toFixed(1)} µs/conn (${percent(cost.otelOverhead)}, limit +10 %)`,
  ].join('\n');
}

const { values } = parseArgs({ options: { serve: { type: 'string' }, quick: { type: 'boolean', default: false }, only: { type: 'string' }, runs: { type: 'string' }, out: { type: 'string' }, 'cpu-prof': { type: 'boolean' }, sides: { type: 'string' } }, strict: false });
const invokedDirectly = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (typeof values.serve === 'string') {
  if (!(MODES as readonly string[]).includes(values.serve)) throw new Error(`--serve takes ${MODES.join(', ')}`);
  void serve(values.serve as Mode);
} else if (invokedDirectly) {
  const cost = await metricsCost({ quick: values.quick === true });
  console.log(describeMetricsCost(cost));
}
