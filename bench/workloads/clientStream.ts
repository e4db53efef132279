// A client streaming to a raw sink: 64 KiB chunks, flow-controlled, until the sink has acknowledged
// every MiB. The raw client is net.connect writing until 'drain'; ours is a Pipeline feeding a
// TCPClient (see ../clients/oursStreamClient.ts).
import net from 'node:net';

export interface StreamSettings {
  readonly mebibytes: number;
  readonly timeoutMs: number;
}

export const streamChunk = Buffer.alloc(64 * 1024, 0x65);
export const chunksPerMebibyte = (1 << 20) / streamChunk.length;

/** Streams `settings.mebibytes` to the sink; resolves with the seconds until the last acknowledgement. */
export type StreamClient = (host: string, port: number, settings: StreamSettings) => Promise<number>;

export const rawStreamClient: StreamClient = (host, port, settings) =>
  new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const socket = net.connect({ host, port, noDelay: true });
    let chunksLeft = settings.mebibytes * chunksPerMebibyte;
    let acks = 0;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`raw stream: ${acks} of ${settings.mebibytes} MiB acknowledged within ${settings.timeoutMs} ms`));
    }, settings.timeoutMs);
    const pump = (): void => {
      while (chunksLeft > 0) {
        chunksLeft--;
        if (!socket.write(streamChunk)) {
          socket.once('drain', pump);
          return;
        }
      }
    };
    socket.once('connect', pump);
    socket.on('data', (data: Buffer) => {
      acks += data.length;
      if (acks < settings.mebibytes) return;
      clearTimeout(timer);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      socket.end();
      socket.once('close', () => resolve(seconds));
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });

/** Throughput, and this (client) process's CPU time per MB: the client is what is compared here. */
export async function clientStream(
  client: StreamClient,
  host: string,
  port: number,
  settings: StreamSettings,
): Promise<{ mbPerSecond: number; clientCpu: number }> {
  const megabytes = (settings.mebibytes * (1 << 20)) / 1e6;
  const cpuBefore = process.cpuUsage();
  const seconds = await client(host, port, settings);
  const cpu = process.cpuUsage(cpuBefore);
  return { mbPerSecond: megabytes / seconds, clientCpu: (cpu.user + cpu.system) / megabytes };
}
