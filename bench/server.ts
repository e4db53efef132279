// A benchmark server process: `node --import tsx --expose-gc bench/server.ts raw|ours|floor`, forked by
// bench/index.ts so servers and the client never share a thread. It reports its ports over IPC and
// answers memory, CPU-time and connection-count questions until told to stop.
import { writeHeapSnapshot } from 'node:v8';
import type { MemoryFigures, ServerKind, ServerReply, ServerRequest } from './ipc.js';
import type { EchoServer } from './servers/EchoServer.js';
import { startFloorEchoServer } from './servers/floorEchoServer.js';
import { startOursEchoServer } from './servers/oursEchoServer.js';
import { startRawEchoServer, startRawSink } from './servers/rawEchoServer.js';

const host = '127.0.0.1';

function reply(message: ServerReply): void {
  process.send?.(message);
}

function measureMemory(): MemoryFigures {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('the server process needs --expose-gc to measure memory');
  gc();
  gc();
  const { heapUsed, external, arrayBuffers, rss } = process.memoryUsage();
  return { heapUsed, external, arrayBuffers, rss };
}

function cpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

async function main(kind: ServerKind): Promise<void> {
  if (!process.send) throw new Error('bench/server.ts runs as a forked child of bench/index.ts');
  const echo: EchoServer = kind === 'raw' ? await startRawEchoServer(host) : kind === 'floor' ? await startFloorEchoServer(host) : await startOursEchoServer(host);
  // The TCPClient workload streams to this raw sink (the raw process's one, for both clients).
  const sink = await startRawSink(host);
  process.on('message', (request: ServerRequest) => {
    if (request.cmd === 'memory') reply({ type: 'memory', id: request.id, memory: measureMemory() });
    else if (request.cmd === 'cpu') reply({ type: 'cpu', id: request.id, micros: cpuMicros(), nanos: Number(process.hrtime.bigint()) });
    else if (request.cmd === 'heapSnapshot') {
      measureMemory();
      reply({ type: 'heapSnapshot', id: request.id, path: writeHeapSnapshot(request.path) });
    } else if (request.cmd === 'connections') reply({ type: 'connections', id: request.id, count: echo.connections() ?? -1 });
    else if (request.cmd === 'stop') void Promise.all([echo.close(), sink.close()]).finally(() => process.exit(0));
  });
  // If the client dies, do not linger.
  process.on('disconnect', () => process.exit(0));
  reply({ type: 'ready', echoPort: echo.port, sinkPort: sink.port });
}

const kind = process.argv[2];
if (kind !== 'raw' && kind !== 'ours' && kind !== 'floor') {
  console.error('usage: bench/server.ts raw|ours|floor');
  process.exit(2);
}
main(kind).catch((error: unknown) => {
  reply({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});
