// What an idle connection's bytes are: a heap snapshot of the server process with N idle
// connections, diffed against one taken just before they opened (same process, so V8's object ids
// match: the objects new in the second are the connections' and whatever they allocated). Prints,
// per connection, the new objects grouped by kind and name (constructor, closure, hidden class, ...)
// and, for the largest groups, what holds them (the retaining object's kind and the edge's name).
//   npm run bench:heap-diff -- [--connections=2000] [--sides=raw,ours] [--top=30] [--keep]
import { readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startServerProcess } from './serverProcess.js';
import { idleConnections } from './workloads/idleConnections.js';
import { diffSnapshots, type Snapshot } from './heapSnapshotDiff.js';
import type { ServerKind } from './ipc.js';

async function measureSide(kind: ServerKind, connections: number, top: number, keep: boolean): Promise<void> {
  const server = await startServerProcess(kind, { timeoutMs: 30_000 });
  const files = [path.join(os.tmpdir(), `${kind}-before-${process.pid}.heapsnapshot`), path.join(os.tmpdir(), `${kind}-after-${process.pid}.heapsnapshot`)] as const;
  try {
    // A first round opens and closes a few connections, so one-time setup (lazy modules, caches)
    // is in both snapshots and not counted per connection.
    await idleConnections('127.0.0.1', server, { connections: 200, concurrency: 50, timeoutMs: 60_000 });
    await server.heapSnapshot(files[0]);
    let memory = 0;
    await idleConnections('127.0.0.1', server, {
      connections,
      concurrency: 100,
      timeoutMs: 120_000,
      whileOpen: async () => {
        await server.heapSnapshot(files[1]);
      },
    }).then((figures) => (memory = figures.bytesPerConnection));
    const read = (file: string): Snapshot => JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
    const { groups, owners, bytes } = diffSnapshots(read(files[0]), read(files[1]));
    console.log(`\n${kind}: ${connections} idle connections; new objects ${Math.round(bytes / connections)} B per connection (process.memoryUsage heap+external: ${Math.round(memory)} B)\n`);
    console.log('by owner (the nearest named class up the first-holder chain):');
    for (const [owner, size] of [...owners].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.log(`${(size / connections).toFixed(0).padStart(9)}  ${((100 * size) / bytes).toFixed(1).padStart(5)}%  ${owner}`);
    }
    console.log('\nby object:');
    console.log('   B/conn   share  objects/conn  kind name  (largest holders: holder kind name .edge, share of the group)');
    const sorted = [...groups].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, top);
    for (const [key, group] of sorted) {
      const holders = [...group.holders]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 3)
        .map(([by, size]) => `${by} ${Math.round((100 * size) / group.bytes)}%`)
        .join('; ');
      console.log(
        `${(group.bytes / connections).toFixed(0).padStart(9)}  ${((100 * group.bytes) / bytes).toFixed(1).padStart(5)}%  ${(group.count / connections).toFixed(2).padStart(12)}  ${key}\n${' '.repeat(32)}held by ${holders}`,
      );
    }
  } finally {
    await server.stop();
    if (!keep) for (const file of files) rmSync(file, { force: true });
    else console.log(`snapshots kept: ${files.join(' ')}`);
  }
}

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '2000' },
    sides: { type: 'string', default: 'raw,ours' },
    top: { type: 'string', default: '30' },
    keep: { type: 'boolean', default: false },
  },
});
for (const side of values.sides!.split(',')) {
  if (side !== 'raw' && side !== 'ours') throw new Error(`--sides takes raw and ours, not ${side}`);
  await measureSide(side, Number(values.connections), Number(values.top), values.keep ?? false);
}
