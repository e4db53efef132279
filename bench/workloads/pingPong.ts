// 64-byte ping-pong: each connection sends 64 bytes, waits for all 64 to come back, and repeats.
// One connection measures latency; fifty measure how many small messages the server turns around.
import net from 'node:net';
import { latencyHistogram, percentileMicros } from '../stats.js';
import { measureWindow, type WindowSettings } from './window.js';

const messageSize = 64;
const message = Buffer.alloc(messageSize, 0x62);

export interface PingPongFigures {
  readonly messagesPerSecond: number;
  readonly p50Micros: number;
  readonly p99Micros: number;
  /** Round trips over the whole run, warm-up included. */
  readonly operations: number;
}

export async function pingPong(host: string, port: number, connections: number, settings: WindowSettings): Promise<PingPongFigures> {
  const histogram = latencyHistogram();
  let measuring = false;
  let stopped = false;
  let roundTrips = 0;
  let failure: Error | undefined;
  const sockets = await Promise.all(
    Array.from({ length: connections }, () => {
      const socket = net.connect({ host, port, noDelay: true });
      return new Promise<net.Socket>((resolve, reject) => socket.once('connect', () => resolve(socket)).once('error', reject));
    }),
  );
  for (const socket of sockets) {
    let pending = 0;
    let sentAt = 0n;
    const ping = (): void => {
      pending = messageSize;
      sentAt = process.hrtime.bigint();
      socket.write(message);
    };
    socket.on('data', (data: Buffer) => {
      pending -= data.length;
      if (pending > 0) return;
      roundTrips++;
      if (measuring) histogram.record(process.hrtime.bigint() - sentAt);
      if (!stopped) ping();
    });
    socket.on('error', (error) => (failure ??= error));
    ping();
  }
  const messagesPerSecond = await measureWindow(
    settings,
    () => roundTrips,
    (phase) => (measuring = phase === 'start'),
  );
  stopped = true;
  for (const socket of sockets) socket.resetAndDestroy();
  if (failure) throw failure;
  return {
    messagesPerSecond,
    p50Micros: percentileMicros(histogram, 50),
    p99Micros: percentileMicros(histogram, 99),
    operations: roundTrips,
  };
}
