// Accept loops: each loop connects → sends 1 byte → waits for the echo → closes, again and again.
// The client closes with a reset (SO_LINGER 0), so neither side keeps the connection in TIME_WAIT;
// closing with FIN from the client would strand ~28k loopback ports for a minute and the rate
// would collapse on the next run (see shared/notes/anchors.md section 6).
// `npm run bench` runs these loops in several client processes (bench/acceptClient.ts) so that the
// server, not the client, is the limit; bench/cluster.ts runs them in its own process.
import net from 'node:net';
import { measureWindow, type WindowSettings } from './window.js';

export interface AcceptLoopSettings {
  readonly loops: number;
  /** Upper bound on connections per run, whatever the window. */
  readonly maxConnections: number;
}

export interface AcceptSettings extends WindowSettings, AcceptLoopSettings {}

/** Running accept loops: counters to sample, and a stop that waits for the loops to finish. */
export interface AcceptLoops {
  /** Connections that completed (echo received) so far. */
  completed(): number;
  /** Connections that failed so far. */
  errors(): number;
  /** Stops starting connections, waits up to 5 s for the loops, resets what is still open. */
  stop(): Promise<void>;
}

const oneByte = Buffer.from([0x63]);

export function startAcceptLoops(host: string, port: number, settings: AcceptLoopSettings): AcceptLoops {
  let completed = 0;
  let started = 0;
  let errors = 0;
  let stopped = false;
  const active = new Set<net.Socket>();
  const loop = (done: () => void): void => {
    if (stopped || started >= settings.maxConnections) {
      done();
      return;
    }
    started++;
    const socket = net.connect({ host, port, noDelay: true });
    active.add(socket);
    const next = (): void => {
      active.delete(socket);
      setImmediate(loop, done);
    };
    socket.once('connect', () => socket.write(oneByte));
    socket.once('data', () => {
      completed++;
      socket.resetAndDestroy();
      next();
    });
    socket.once('error', () => {
      errors++;
      socket.destroy();
      next();
    });
  };
  const loopsDone = Promise.all(Array.from({ length: settings.loops }, () => new Promise<void>((resolve) => loop(resolve))));
  return {
    completed: () => completed,
    errors: () => errors,
    stop: async () => {
      stopped = true;
      await Promise.race([loopsDone, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      for (const socket of active) socket.resetAndDestroy();
    },
  };
}

/** Accept loops in this process for one measuring window (bench/cluster.ts). */
export async function acceptRate(host: string, port: number, settings: AcceptSettings): Promise<{ connectionsPerSecond: number; errors: number; operations: number }> {
  const loops = startAcceptLoops(host, port, settings);
  const connectionsPerSecond = await measureWindow(settings, loops.completed);
  await loops.stop();
  const completed = loops.completed();
  const errors = loops.errors();
  if (errors > completed / 10) throw new Error(`accept loops: ${errors} errors against ${completed} connections`);
  return { connectionsPerSecond, errors, operations: completed };
}
