// A cluster echo server for bench/cluster.ts, run as its own program: `raw N` (node:cluster with N
// workers each running a node:net echo server, the baseline) or `ours N` (ConnectedServer with
// workers: N and EchoProtocol). The primary prints "listening <port>" and stops on SIGTERM.
import cluster from 'node:cluster';
import net from 'node:net';
import { ConnectedServer, EchoProtocol, run, serverShutdown } from '../../src/index.js';

const [kind = 'ours', workersText = '1'] = process.argv.slice(2);
const workers = Number(workersText);
const host = '127.0.0.1';

if (kind === 'ours') {
  const handle = run(ConnectedServer({ host, port: 0, workers, drainTimeout: 0, closeTimeout: 500, protocol: () => EchoProtocol() }));
  if (cluster.isPrimary) {
    const { port } = await handle.next('listening', { timeoutMs: 30_000 });
    process.stdout.write(`listening ${port}\n`);
    process.once('SIGTERM', () => handle.send('control', serverShutdown()));
  }
} else if (cluster.isPrimary) {
  let listening = 0;
  for (let i = 0; i < workers; i++) {
    cluster.fork().on('listening', (address) => {
      if (++listening === workers) process.stdout.write(`listening ${address.port}\n`);
    });
  }
  process.once('SIGTERM', () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
  });
} else {
  const server = net.createServer({ noDelay: true }, (socket) => {
    socket.on('error', () => socket.destroy());
    socket.pipe(socket);
  });
  server.listen(0, host);
}
