// The bench's own arithmetic: the accept headline (server CPU per connection from samples of every
// process), the phases of a CPU profile, and the new objects of a heap-snapshot diff. The bench's
// figures go into closing notes; these check the sums behind them on inputs whose answers are known.
import { describe, expect, it } from 'vitest';
import type { ClientProcesses } from '../bench/clientProcesses.js';
import { diffSnapshots, type Snapshot } from '../bench/heapSnapshotDiff.js';
import type { ClientSample } from '../bench/ipc.js';
import { summarise } from '../bench/profile-summary.js';
import type { ServerProcess } from '../bench/serverProcess.js';
import { acceptServerBound } from '../bench/workloads/acceptServerBound.js';

describe('the accept workload with the server as the bottleneck', () => {
  it('divides the server CPU per second by the connections per second of all client processes, and reports each process busy', async () => {
    // Server: 0.9 s of CPU per second of wall time. Client 1: 3,000 conn/s at 40% of a core;
    // client 2: 6,000 conn/s at 80%, each over its own interval between samples.
    const second = 1e9;
    let serverCalls = 0;
    const server = {
      echoPort: 1,
      cpuSample: async () => (serverCalls++ === 0 ? { micros: 0, nanos: 0 } : { micros: 900_000, nanos: second }),
    } as unknown as ServerProcess;
    const samples: ClientSample[][] = [
      [
        { completed: 0, errors: 0, cpuMicros: 0, nanos: 0 },
        { completed: 10, errors: 0, cpuMicros: 0, nanos: 5 },
      ],
      [
        { completed: 3_000, errors: 0, cpuMicros: 400_000, nanos: second },
        { completed: 12_010, errors: 0, cpuMicros: 1_600_000, nanos: 2 * second + 5 },
      ],
    ];
    let sampleCalls = 0;
    const clients: ClientProcesses = {
      count: 2,
      start: async () => {},
      sample: async () => samples[sampleCalls++]!,
      stop: async () => [
        { completed: 3_100, errors: 1, cpuMicros: 0, nanos: 0 },
        { completed: 12_100, errors: 2, cpuMicros: 0, nanos: 0 },
      ],
      close: async () => {},
    };
    const figures = await acceptServerBound('127.0.0.1', server, clients, {
      warmupMs: 1,
      windowMs: 1,
      loops: 50,
      maxConnections: 1_000,
      firstWarmupConnections: 0,
      firstWarmupMaxMs: 0,
    });
    expect(figures.connectionsPerSecond).toBeCloseTo(9_000, 6);
    expect(figures.serverBusy).toBeCloseTo(90, 6);
    expect(figures.serverCpu).toBeCloseTo(100, 6); // 900,000 µs/s over 9,000 conn/s
    expect(figures.clientBusy1).toBeCloseTo(40, 6);
    expect(figures.clientBusy2).toBeCloseTo(80, 6);
    expect(figures.clientBusyMax).toBeCloseTo(80, 6);
    expect(figures.operations).toBe(15_000);
    expect(figures.errors).toBe(3);
  });
});

describe('profile-summary', () => {
  it('puts each sample in the first phase on its stack and leaves idle time out', () => {
    const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0 });
    const profile = {
      nodes: [
        { id: 1, callFrame: frame('(root)'), children: [2, 3, 4, 6] },
        { id: 2, callFrame: frame('(idle)') },
        { id: 3, callFrame: frame('(garbage collector)') },
        { id: 4, callFrame: frame('onconnection', 'node:net'), children: [5] },
        { id: 5, callFrame: frame('accept', 'file:///x/dist-bench/actors/listener.js'), children: [7] },
        { id: 6, callFrame: frame('writeBuffer') },
        { id: 7, callFrame: frame('Actor', 'file:///x/node_modules/xstate/dist/raise.cjs.js') },
      ],
      samples: [2, 3, 4, 7, 7, 6],
      timeDeltas: [1_000, 10, 20, 30, 30, 10],
    };
    const summary = summarise(profile);
    expect(summary.busyMicros).toBe(100);
    expect(summary.phases.get('GC')).toBe(10);
    expect(summary.phases.get('write syscall (raw pays it too)')).toBe(10);
    expect(summary.phases.get('accept: CSA actor, handler, links (library)')).toBe(60);
    expect(summary.phases.get('Node: new socket (raw pays it too)')).toBe(20);
    expect(summary.inclusive.get('onconnection node:net:1')).toBe(80);
    expect(summary.areas.get('xstate')).toBe(60);
  });
});

describe('heap-diff', () => {
  it('counts only objects new in the second snapshot, names plain objects by their keys, and names their holders', () => {
    const meta = {
      node_fields: ['type', 'name', 'id', 'self_size', 'edge_count'],
      node_types: [['hidden', 'object', 'string']] as [string[]],
      edge_fields: ['type', 'name_or_index', 'to_node'],
      edge_types: [['context', 'element', 'property', 'internal', 'hidden', 'shortcut', 'weak']] as [string[]],
    };
    const strings = ['(GC roots)', 'Object', 'Actor', 'box', 'routes', 'x'];
    // Node fields: type, name, id, self_size, edge_count (5 numbers a node); to_node is an index into nodes.
    const before: Snapshot = { snapshot: { meta }, nodes: [0, 0, 1, 0, 0], edges: [], strings };
    const after: Snapshot = {
      snapshot: { meta },
      nodes: [
        0, 0, 1, 0, 1, // root -> actor
        1, 2, 3, 200, 1, // Actor (new) .routes -> record
        1, 1, 5, 56, 1, // Object{box} (new) .box -> string
        2, 5, 7, 20, 0, // a string (new)
      ],
      edges: [
        3, 5, 5, // root -[internal "x"]-> Actor
        2, 4, 10, // Actor -[property routes]-> Object
        2, 3, 15, // Object -[property box]-> string
      ],
      strings,
    };
    const { groups, owners, bytes } = diffSnapshots(before, after);
    expect(bytes).toBe(276);
    expect(groups.get('object Actor')?.bytes).toBe(200);
    expect(groups.get('object Object{box}')?.holders.get('object Actor .routes')).toBe(56);
    expect(groups.get('(string)')?.count).toBe(1);
    expect(owners.get('object Actor')).toBe(276);
  });
});
