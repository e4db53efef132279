// Accept with the server as the bottleneck: the accept loops (connect → 1 byte → its echo → reset)
// run in several client processes at once, and the figures come from samples of every process's
// CPU time at the start and the end of one window. The headline is the server's CPU time per
// connection; beside it, how busy each process was (CPU time over wall time, % of one core), so a
// reader can see which side was the limit: a client near 100% means the client, not the server,
// set the rate.
import type { ClientProcesses } from '../clientProcesses.js';
import type { ClientSample } from '../ipc.js';
import type { ServerProcess } from '../serverProcess.js';
import type { AcceptLoopSettings } from './acceptRate.js';
import type { WindowSettings } from './window.js';

export interface AcceptServerBoundSettings extends WindowSettings, AcceptLoopSettings {
  /**
   * The first run against a server process warms it with this many connections (at most
   * `firstWarmupMaxMs`) before its window: the accept and close paths are not the ones the other
   * workloads warm, and ours, with more JavaScript on them, took ~3,000 connections to fall from
   * ~560 to ~130 µs per connection (measured under load, quick windows).
   */
  readonly firstWarmupConnections: number;
  readonly firstWarmupMaxMs: number;
}

export interface AcceptServerBoundFigures {
  /** Server CPU time per connection, µs. */
  readonly serverCpu: number;
  readonly connectionsPerSecond: number;
  /** Server CPU time over wall time in the window, % of one core. */
  readonly serverBusy: number;
  /** The busiest client process's CPU time over wall time, % of one core. */
  readonly clientBusyMax: number;
  /** Each client process's, `clientBusy1`, `clientBusy2`, ... */
  readonly [clientBusy: `clientBusy${number}`]: number;
  readonly errors: number;
  /** Connections completed in the window, all clients together. */
  readonly operations: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Connections each server process has served in this workload, warm-ups included (for profiles). */
const served = new WeakMap<ServerProcess, number>();

/** Connections `server` served in the accept workload so far, warm-ups included. */
export function acceptConnectionsServed(server: ServerProcess): number {
  return served.get(server) ?? 0;
}

/** Server processes whose accept path has had its first warm-up. */
const warmed = new WeakSet<ServerProcess>();

async function warmUp(server: ServerProcess, clients: ClientProcesses, settings: AcceptServerBoundSettings): Promise<void> {
  const deadline = Date.now() + settings.firstWarmupMaxMs;
  const completed = async (): Promise<number> => (await clients.sample()).reduce((sum, s) => sum + s.completed, 0);
  while ((await completed()) < settings.firstWarmupConnections && Date.now() < deadline) await sleep(100);
  warmed.add(server);
}

/** Seconds between two samples of one process. */
const seconds = (from: { nanos: number }, to: { nanos: number }): number => (to.nanos - from.nanos) / 1e9;

export async function acceptServerBound(host: string, server: ServerProcess, clients: ClientProcesses, settings: AcceptServerBoundSettings): Promise<AcceptServerBoundFigures> {
  // The loops are shared out: the total concurrency stays `settings.loops` whatever the process count.
  const loops = Math.max(1, Math.round(settings.loops / clients.count));
  const maxConnections = Math.ceil(settings.maxConnections / clients.count);
  await clients.start(host, server.echoPort, { loops, maxConnections });
  let first: [{ micros: number; nanos: number }, ClientSample[]];
  let last: [{ micros: number; nanos: number }, ClientSample[]];
  let stopped: ClientSample[];
  try {
    if (!warmed.has(server) && settings.firstWarmupConnections > 0) await warmUp(server, clients, settings);
    await sleep(settings.warmupMs);
    first = await Promise.all([server.cpuSample(), clients.sample()]);
    await sleep(settings.windowMs);
    last = await Promise.all([server.cpuSample(), clients.sample()]);
  } finally {
    stopped = await clients.stop();
  }
  const [serverFrom, clientsFrom] = first;
  const [serverTo, clientsTo] = last;
  // Each process's figures over its own interval between samples: the samples of different
  // processes are a few IPC hops apart, so rates are per process, then added up.
  let connectionsPerSecond = 0;
  let operations = 0;
  const clientBusy: Record<`clientBusy${number}`, number> = {};
  let clientBusyMax = 0;
  clientsFrom.forEach((from, index) => {
    const to = clientsTo[index]!;
    const span = seconds(from, to);
    operations += to.completed - from.completed;
    connectionsPerSecond += (to.completed - from.completed) / span;
    const busy = (to.cpuMicros - from.cpuMicros) / (span * 1e4);
    clientBusy[`clientBusy${index + 1}`] = busy;
    clientBusyMax = Math.max(clientBusyMax, busy);
  });
  const serverBusy = (serverTo.micros - serverFrom.micros) / (seconds(serverFrom, serverTo) * 1e4);
  const completed = stopped.reduce((sum, s) => sum + s.completed, 0);
  const errors = stopped.reduce((sum, s) => sum + s.errors, 0);
  served.set(server, acceptConnectionsServed(server) + completed);
  if (errors > completed / 10) throw new Error(`accept loops: ${errors} errors against ${completed} connections`);
  return {
    // µs of server CPU per second of wall time, over connections per second.
    serverCpu: (serverBusy * 1e4) / connectionsPerSecond,
    connectionsPerSecond,
    serverBusy,
    clientBusyMax,
    ...clientBusy,
    errors,
    operations,
  };
}
