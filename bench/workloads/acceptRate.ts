// Accept rate: 50 loops, each connect → send 1 byte → wait for the echo → close, again and again.
// The client closes with a reset (SO_LINGER 0), so neither side keeps the connection in TIME_WAIT;
// closing with FIN from the client would strand ~28k loopback ports for a minute and the rate
// would collapse on the next run (see shared/notes/anchors.md section 6).
import net from 'node:net';
import { measureWindow, type WindowSettings } from './window.js';

export interface AcceptSettings extends WindowSettings {
  readonly loops: number;
  /** Upper bound on connections per run, whatever the window. */
  readonly maxConnections: number;
}

const oneByte = Buffer.from([0x63]);

export async function acceptRate(host: string, port: number, settings: AcceptSettings): Promise<{ connectionsPerSecond: number; errors: number; operations: number }> {
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
  const connectionsPerSecond = await measureWindow(settings, () => completed);
  stopped = true;
  await Promise.race([loopsDone, new Promise((resolve) => setTimeout(resolve, 5_000))]);
  for (const socket of active) socket.resetAndDestroy();
  if (errors > completed / 10) throw new Error(`accept loops: ${errors} errors against ${completed} connections`);
  return { connectionsPerSecond, errors, operations: completed };
}
