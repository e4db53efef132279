// Two honest ways to fail on loopback, for the demo's failing clients:
// - a refused port: bound, then closed, so nothing listens there (ECONNREFUSED);
// - a listener whose accept queue is full: a child process listens with a backlog of 1 and is
//   stopped (SIGSTOP), and two connections fill its queue, so the kernel drops further SYNs and a
//   connect hangs until the client's connect timeout (ETIMEDOUT).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

export async function refusedPort(host: string): Promise<number> {
  const server = createServer();
  server.listen(0, host);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface FullListener {
  readonly port: number;
  close(): void;
}

const LISTEN_WITH_BACKLOG_1 = `
const server = require('node:net').createServer();
server.listen({ port: 0, host: process.argv[1], backlog: 1 }, () => process.send(server.address().port));
// If the demo dies and this process is ever continued, go too.
process.on('disconnect', () => process.exit(0));
`;

export async function fullAcceptQueue(host: string): Promise<FullListener> {
  const child: ChildProcess = spawn(process.execPath, ['-e', LISTEN_WITH_BACKLOG_1, host], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const [port] = (await once(child, 'message')) as [number];
  child.kill('SIGSTOP');
  // Linux queues backlog + 1 finished handshakes; these two fill it.
  const fillers: Socket[] = [];
  for (let i = 0; i < 2; i++) {
    const filler = connect(port, host);
    filler.on('error', () => {}); // torn down with the child
    fillers.push(filler);
    await once(filler, 'connect');
  }
  return {
    port,
    close() {
      for (const filler of fillers) filler.destroy();
      child.kill('SIGKILL');
    },
  };
}
