// Bulk echo: one connection, 64 KiB writes as fast as the socket takes them (the client waits for
// 'drain', so it measures the server rather than its own buffering); MB/s echoed back in the window.
import net from 'node:net';
import { measureWindow, type WindowSettings } from './window.js';

const chunk = Buffer.alloc(64 * 1024, 0x61);

export async function bulkEcho(host: string, port: number, settings: WindowSettings): Promise<{ mbPerSecond: number; operations: number }> {
  const socket = net.connect({ host, port, noDelay: true });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let received = 0;
  let stopped = false;
  let failure: Error | undefined;
  socket.on('data', (data: Buffer) => (received += data.length));
  socket.on('error', (error) => (failure ??= error));
  const pump = (): void => {
    while (!stopped && socket.write(chunk));
    if (!stopped) socket.once('drain', pump);
  };
  pump();
  const bytesPerSecond = await measureWindow(settings, () => received);
  stopped = true;
  socket.resetAndDestroy();
  if (failure) throw failure;
  // operations: MB echoed over the whole run, to divide the server's CPU time by.
  return { mbPerSecond: bytesPerSecond / 1e6, operations: received / 1e6 };
}
