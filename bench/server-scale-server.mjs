/* global setTimeout */
// The server half of bench/server-scale.ts, in plain JavaScript so it runs as compiled code
// (dist/, built by the orchestrator) without a TypeScript loader: tsx/esbuild add a `__name`
// property to every function, which alone costs ~256 bytes per closure and would skew the figures.
//   node bench/server-scale-server.mjs <raw|kamaelia>   (forked by bench/server-scale.ts)
import net from 'node:net';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';

const HOST = '127.0.0.1';
const mode = process.argv[2];

function memory() {
  v8.setFlagsFromString('--expose_gc');
  const gc = runInNewContext('gc');
  gc();
  gc();
  const usage = process.memoryUsage();
  return { heap: usage.heapUsed, rss: usage.rss, external: usage.external };
}

async function waitFor(condition, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

let openConnections;
let port;
/** Graceful shutdown: stop accepting, finish every connection (flush, FIN), wait for all to close. */
let shutdown;
if (mode === 'raw') {
  const sockets = new Set();
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.pipe(socket);
  });
  await new Promise((resolve) => server.listen({ port: 0, host: HOST, backlog: 4096 }, resolve));
  port = server.address().port;
  openConnections = () => new Promise((resolve) => server.getConnections((_, count) => resolve(count)));
  shutdown = () =>
    new Promise((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.end();
    });
} else {
  const { ConnectedServer, EchoProtocol, run, serverShutdown, serverStats } = await import('../dist/src/index.js');
  const server = run(ConnectedServer({ host: HOST, backlog: 4096, drainTimeout: 0, protocol: () => EchoProtocol() }));
  port = (await server.next('listening')).port;
  openConnections = async () => serverStats(server.actor)?.open ?? 0;
  shutdown = async () => {
    server.send('control', serverShutdown());
    await server.done;
  };
}
const before = memory();
process.send({ type: 'ready', port });
process.on('message', async (message) => {
  if (message.type === 'measure') {
    await waitFor(async () => (await openConnections()) === message.count);
    process.send({ type: 'measured', before, during: memory() });
  } else if (message.type === 'shutdown') {
    const started = Date.now();
    await shutdown();
    process.send({ type: 'shutDown', ms: Date.now() - started });
  } else if (message.type === 'measureAfterClose') {
    await waitFor(async () => (await openConnections()) === 0);
    process.send({ type: 'measuredAfterClose', after: memory() });
  } else if (message.type === 'exit') {
    process.exit(0); // lets --cpu-prof write its profile
  }
});
