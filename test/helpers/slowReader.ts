// A slow reader in its own process (so its buffers do not count in ours): it listens on loopback,
// reads one connection with a nap every 8 MiB, and reports the byte total when the peer ends.
import { spawn } from 'node:child_process';

const CHILD = `
const net = require('node:net');
const fs = require('node:fs');
const server = net.createServer({ allowHalfOpen: true }, (socket) => {
  let total = 0;
  let sinceNap = 0;
  socket.on('data', (chunk) => {
    total += chunk.length;
    sinceNap += chunk.length;
    if (sinceNap >= 8 * 1024 * 1024) {
      sinceNap = 0;
      socket.pause();
      setTimeout(() => socket.resume(), 5);
    }
  });
  socket.on('end', () => {
    fs.writeSync(1, 'total ' + total + '\\n');
    socket.end();
    server.close();
  });
});
server.listen(0, '127.0.0.1', () => fs.writeSync(1, 'port ' + server.address().port + '\\n'));
`;

export interface SlowReader {
  readonly port: number;
  /** Resolves with the number of bytes read once the peer has ended. */
  readonly total: Promise<number>;
  close(): void;
}

export async function slowReader(): Promise<SlowReader> {
  const child = spawn(process.execPath, ['-e', CHILD], { stdio: ['ignore', 'pipe', 'inherit'] });
  let text = '';
  let onPort: (port: number) => void = () => {};
  let onTotal: (total: number) => void = () => {};
  const port = new Promise<number>((resolve) => (onPort = resolve));
  const total = new Promise<number>((resolve) => (onTotal = resolve));
  child.stdout.on('data', (chunk: Buffer) => {
    text += chunk.toString();
    const portMatch = /port (\d+)\n/.exec(text);
    if (portMatch) onPort(Number(portMatch[1]));
    const totalMatch = /total (\d+)\n/.exec(text);
    if (totalMatch) onTotal(Number(totalMatch[1]));
  });
  return { port: await port, total, close: () => void child.kill('SIGKILL') };
}
