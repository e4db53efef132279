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
import type { ServerKind } from './ipc.js';

interface Snapshot {
  readonly snapshot: { readonly meta: { readonly node_fields: string[]; readonly node_types: [string[]]; readonly edge_fields: string[]; readonly edge_types: [string[]] } };
  readonly nodes: number[];
  readonly edges: number[];
  readonly strings: string[];
}

interface Group {
  count: number;
  bytes: number;
  readonly holders: Map<string, number>;
}

/** New objects of `after` (ids absent from `before`), grouped, with their holders. */
export function diffSnapshots(before: Snapshot, after: Snapshot): { groups: Map<string, Group>; owners: Map<string, number>; bytes: number } {
  const meta = after.snapshot.meta;
  const nodeWidth = meta.node_fields.length;
  const edgeWidth = meta.edge_fields.length;
  const [typeAt, nameAt, idAt, sizeAt, edgeCountAt] = ['type', 'name', 'id', 'self_size', 'edge_count'].map((f) => meta.node_fields.indexOf(f)) as [number, number, number, number, number];
  const [edgeTypeAt, edgeNameAt, edgeToAt] = ['type', 'name_or_index', 'to_node'].map((f) => meta.edge_fields.indexOf(f)) as [number, number, number];
  const nodeTypes = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];
  const beforeWidth = before.snapshot.meta.node_fields.length;
  const beforeIdAt = before.snapshot.meta.node_fields.indexOf('id');
  const old = new Set<number>();
  for (let i = 0; i < before.nodes.length; i += beforeWidth) old.add(before.nodes[i + beforeIdAt]!);

  // Plain objects are most of the count: name them by their keys, which says whose they are.
  const keysOf = new Map<number, string>();
  for (let node = 0, edge = 0; node < after.nodes.length; node += nodeWidth) {
    const edgeCount = after.nodes[node + edgeCountAt]!;
    const plain = nodeTypes[after.nodes[node + typeAt]!] === 'object' && after.strings[after.nodes[node + nameAt]!] === 'Object';
    const keys: string[] = [];
    for (let e = 0; e < edgeCount; e++, edge += edgeWidth) {
      if (plain && edgeTypes[after.edges[edge + edgeTypeAt]!] === 'property') {
        const key = after.strings[after.edges[edge + edgeNameAt]!]!;
        if (key !== '__proto__') keys.push(key);
      }
    }
    if (plain) keysOf.set(node, `{${keys.slice(0, 5).join(',')}${keys.length > 5 ? ',...' : ''}}`);
  }
  const label = (node: number): string => {
    const type = nodeTypes[after.nodes[node + typeAt]!]!;
    const name = after.strings[after.nodes[node + nameAt]!]! + (keysOf.get(node) ?? '');
    // Strings and numbers: the kind is enough (their text is the data, not the structure).
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string' || type === 'number' || type === 'heap number') return `(${type})`;
    const short = name.length > 80 ? `${name.slice(0, 77)}...` : name;
    return `${type} ${short}`;
  };
  // First strong holder of each node (node index and edge name): walk every edge once. The first
  // holder is not always the dominator, but for per-connection objects it is nearly always the owner.
  const holderNode = new Map<number, number>();
  const holderEdge = new Map<number, string>();
  let edge = 0;
  for (let node = 0; node < after.nodes.length; node += nodeWidth) {
    const edgeCount = after.nodes[node + edgeCountAt]!;
    for (let e = 0; e < edgeCount; e++, edge += edgeWidth) {
      const type = edgeTypes[after.edges[edge + edgeTypeAt]!]!;
      if (type === 'weak' || type === 'shortcut') continue;
      const to = after.edges[edge + edgeToAt]!;
      if (holderNode.has(to)) continue;
      const nameOrIndex = after.edges[edge + edgeNameAt]!;
      holderNode.set(to, node);
      holderEdge.set(to, type === 'element' || type === 'hidden' ? `[${nameOrIndex}]` : after.strings[nameOrIndex]!);
    }
  }
  // A holder that is itself plumbing (an elements store, an Array, a context, a property array) is
  // named with its own holder, so "Array .elements" reads "Object{...} .gates > Array .elements".
  const plumbing = /^(array |object Array$|object system \/ Context|hidden |object Set$|object Map$|closure native_bind)/;
  const holderText = (node: number, depth = 0): string => {
    const by = holderNode.get(node);
    if (by === undefined) return '(no strong holder)';
    const text = `${label(by)} .${holderEdge.get(node)}`;
    return depth < 2 && plumbing.test(label(by)) ? `${holderText(by, depth + 1)} > ${text}` : text;
  };
  // The owner: the nearest holder up the chain that is a named class (not a plain object, array,
  // closure, context, ...): which part of the program an object belongs to.
  const generic = /^(array|object Object\{|object Array$|object system|hidden|closure|object Set$|object Map$|object shape|code|synthetic|native|\()/;
  const ownerOf = (node: number): string => {
    let at: number | undefined = node;
    for (let depth = 0; at !== undefined && depth < 12; depth++, at = holderNode.get(at)) {
      const text = label(at);
      if (!generic.test(text)) return text;
    }
    return '(none found within 12 holders)';
  };
  const groups = new Map<string, Group>();
  const owners = new Map<string, number>();
  let bytes = 0;
  for (let node = 0; node < after.nodes.length; node += nodeWidth) {
    if (old.has(after.nodes[node + idAt]!)) continue;
    const size = after.nodes[node + sizeAt]!;
    bytes += size;
    const key = label(node);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { count: 0, bytes: 0, holders: new Map() }));
    group.count++;
    group.bytes += size;
    const by = holderText(node);
    group.holders.set(by, (group.holders.get(by) ?? 0) + size);
    const owner = ownerOf(node);
    owners.set(owner, (owners.get(owner) ?? 0) + size);
  }
  return { groups, owners, bytes };
}

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
