// A listener whose accept queue is full, for connect timeouts. Node's own listener always accepts,
// so a child process listens with a backlog of 1 and then blocks its event loop: the kernel queues
// a couple of handshakes, then drops further SYNs and a connect hangs.
import { spawn, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';

const CHILD = `
const net = require('node:net');
const fs = require('node:fs');
const server = net.createServer();
server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
  fs.writeSync(1, String(server.address().port) + '\\n');
  // Never return to the event loop: nothing is ever accepted.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
});
`;

export interface FullBacklog {
  readonly port: number;
  close(): Promise<void>;
}

export async function fullBacklogListener(): Promise<FullBacklog> {
  const child: ChildProcess = spawn(process.execPath, ['-e', CHILD], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('\n')) resolve(Number(text.trim()));
    });
    child.once('exit', (code) => reject(new Error(`backlog helper exited early with ${code}`)));
  });
  // Fill the accept queue; the kernel completes these without the child accepting.
  const fillers: net.Socket[] = [];
  for (let i = 0; i < 8; i++) {
    const filler = net.connect({ host: '127.0.0.1', port });
    filler.on('error', () => {});
    fillers.push(filler);
  }
  await new Promise((resolve) => fillers[0]!.once('connect', resolve));
  return {
    port,
    close: async () => {
      for (const filler of fillers) filler.destroy();
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
}
