// The page's own model (inspector/page/store.js, graphModel.js), run in Node: records in, the lanes,
// counters and component graph the page draws out — including with thousands of connections.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import type { InspectorRecord } from 'kamaelia-xstate';
import { applyRecords, counters, createStore, laneSpans, parseRecording, storeAt } from '../inspector/page/store.js';
import { componentGroups, elkGraph, portId, type ElkNode } from '../inspector/page/graphModel.js';
import { manyConnections } from './helpers/inspectorRecords.js';

// elkjs ships CommonJS whose typings do not fit NodeNext's default import; require it as the page's global would be.
const ELK = createRequire(import.meta.url)('elkjs/lib/elk.bundled.js') as new () => { layout(graph: ElkNode): Promise<ElkNode & { children?: (ElkNode & { width?: number })[] }> };

const pipelineActor = (id: string, t = 0): InspectorRecord => ({
  k: 'actor',
  t,
  id,
  parent: null,
  path: 'Pipeline',
  name: 'Pipeline',
  component: 'Pipeline',
  inboxes: ['inbox', 'control'],
  outboxes: ['outbox', 'signal'],
  graph: {
    children: [
      { name: 'server', component: 'ConnectedServer' },
      { name: 'Echo', component: 'ConsoleEchoer' },
    ],
    links: [
      { from: { child: 'self', box: 'inbox' }, to: { child: 0, box: 'inbox' } },
      { from: { child: 0, box: 'outbox' }, to: { child: 1, box: 'inbox' } },
      { from: { child: 1, box: 'outbox' }, to: { child: 'self', box: 'outbox' } },
    ],
  },
});

const child = (id: string, parent: string, name: string, component: string | null): InspectorRecord => ({
  k: 'actor',
  t: 0,
  id,
  parent,
  path: `Pipeline/${name}`,
  name,
  component,
  ...(component ? { inboxes: ['inbox', 'control'], outboxes: ['outbox', 'signal'] } : {}),
});

describe('page store', () => {
  it('builds lanes with spans, bytes, reasons and counters', () => {
    const store = createStore();
    applyRecords(store, [
      { k: 'hello', t: 1000, version: 1, showPayloadBytes: 0 },
      { k: 'lane', t: 1000, lane: 'a', side: 'client', path: 'TCPClient' },
      { k: 'state', t: 1000, lane: 'a', state: 'connecting' },
      { k: 'peer', t: 1001, lane: 'a', peer: '127.0.0.1:80' },
      { k: 'state', t: 1010, lane: 'a', state: 'connected' },
      { k: 'bytes', t: 1500, lane: 'a', in: 4000, out: 2000 },
      { k: 'state', t: 1600, lane: 'a', state: 'closed', reason: { message: 'peer closed' } },
      { k: 'log', t: 1600, id: 'x', type: 'inbox', size: 5 },
      { k: 'dropped', t: 1600, count: 9 },
    ]);
    const lane = store.lanes.get('a')!;
    expect(lane.peer).toBe('127.0.0.1:80');
    expect(laneSpans(lane, 2000)).toEqual([
      { state: 'connecting', t: 1000, until: 1010 },
      { state: 'connected', t: 1010, until: 1600 },
      { state: 'closed', t: 1600, until: 1600 },
    ]);
    expect(lane.reason).toEqual({ message: 'peer closed' });
    const c = counters(store, 1600);
    expect(c).toMatchObject({ open: 0, total: 1, bytesInPerSecond: 2000, bytesOutPerSecond: 1000, eventsPerSecond: 5 });
    expect(store.stateCounts.closed).toBe(1);
    expect(store.logDropped).toBe(9);
  });

  it('ignores records after a lane closed, and kinds it does not know', () => {
    const store = createStore();
    applyRecords(store, [
      { k: 'lane', t: 1, lane: 'a', side: 'server', path: 'p' },
      { k: 'state', t: 1, lane: 'a', state: 'failed', reason: { code: 'ECONNRESET', message: 'reset' } },
      { k: 'state', t: 2, lane: 'a', state: 'connected' },
      { k: 'from-the-future', t: 3 } as unknown as InspectorRecord,
    ]);
    expect(store.lanes.get('a')!.segments.map((s) => s.state)).toEqual(['failed']);
    expect(store.openLanes).toBe(0);
  });

  it('rejects a file that is not a recording, naming the line', () => {
    expect(() => parseRecording('{"k":"hello","t":1}\nnot json\n')).toThrow(/line 2 is not JSON/);
    expect(() => parseRecording('{"hello":1}\n')).toThrow(/line 1 is not an inspector record/);
    expect(parseRecording('\n{"k":"end","t":5,"id":"a","status":"done"}\n{"k":"hello","t":1}\n').map((r) => r.k)).toEqual(['hello', 'end']);
  });

  it('keeps up with 5 000 connections: one graph box for them, counts by state, replay at any time', async () => {
    const records = [pipelineActor('p'), child('s', 'p', '0:server', 'ConnectedServer'), child('e', 'p', '1:Echo', 'ConsoleEchoer'), ...manyConnections(5000, 's')];
    const store = createStore();
    applyRecords(store, records);
    expect(store.laneOrder).toHaveLength(5000);
    expect(store.openLanes).toBe(2500);
    expect(store.stateCounts).toMatchObject({ connected: 2500, closed: 2500 });

    const groups = componentGroups(store);
    // Pipeline, its two declared children, and one folded box for every connection's adapter.
    expect([...groups.keys()]).toEqual(['root:Pipeline', 'root:Pipeline/0:server', 'root:Pipeline/1:Echo', 'root:Pipeline/0:server/[ConnectedSocketAdapter]']);
    expect(groups.get('root:Pipeline/0:server/[ConnectedSocketAdapter]')).toMatchObject({ dynamic: true, live: 2500, total: 5000 });

    // The graph ELK lays out: links become edges between the right ports, including the graph's own.
    const graph = elkGraph(groups);
    const pipeline = graph.children![0]!;
    expect(pipeline.edges!.map((e) => [e.sources[0], e.targets[0]])).toEqual([
      [portId('root:Pipeline', 'in', 'inbox'), portId('root:Pipeline/0:server', 'in', 'inbox')],
      [portId('root:Pipeline/0:server', 'out', 'outbox'), portId('root:Pipeline/1:Echo', 'in', 'inbox')],
      [portId('root:Pipeline/1:Echo', 'out', 'outbox'), portId('root:Pipeline', 'out', 'outbox')],
    ]);
    const laidOut = await new ELK().layout(graph);
    expect(laidOut.children?.[0]?.width).toBeGreaterThan(0);

    // Replay: at t=2009, connections 0..1999 exist (opened at 10+i); the even ones closed at 12+i,
    // so 0..1996 have closed by then and 1998 has not yet.
    const then = storeAt(records, 2009);
    expect(then.laneOrder).toHaveLength(2000);
    expect(then.stateCounts.closed).toBe(999);
    expect(then.stateCounts.connected).toBe(1001);
  });

  it('folds roots with the same id and the children a component spawns, skipping internal actors', () => {
    const talker = (id: string): InspectorRecord[] => [
      {
        k: 'actor',
        t: 0,
        id,
        parent: null,
        path: 'talker',
        name: 'talker',
        component: 'Graphline',
        inboxes: ['inbox'],
        outboxes: ['outbox'],
        graph: { children: [{ name: 'client', component: 'TCPClient' }], links: [{ from: { child: 0, box: 'outbox' }, to: { child: 'self', box: 'outbox' } }] },
      },
      { k: 'actor', t: 0, id: `${id}c`, parent: id, path: 'talker/0:client', name: '0:client', component: 'TCPClient', inboxes: ['inbox'], outboxes: ['outbox'] },
      // an internal helper actor (no component) between the client and its socket adapter
      { k: 'actor', t: 0, id: `${id}h`, parent: `${id}c`, path: 'talker/0:client/connector', name: 'connector', component: null },
      { k: 'actor', t: 0, id: `${id}s`, parent: `${id}h`, path: 'talker/0:client/csa', name: 'csa:ConnectedSocketAdapter', component: 'ConnectedSocketAdapter', inboxes: ['inbox'], outboxes: ['outbox'] },
    ];
    const store = createStore();
    applyRecords(store, [...talker('a'), ...talker('b'), { k: 'end', t: 1, id: 'bs', status: 'done' }]);
    const groups = componentGroups(store);
    expect([...groups.keys()]).toEqual(['root:talker', 'root:talker/0:client', 'root:talker/0:client/[ConnectedSocketAdapter]']);
    expect(groups.get('root:talker')).toMatchObject({ live: 2, total: 2, dynamic: false });
    expect(groups.get('root:talker/0:client/[ConnectedSocketAdapter]')).toMatchObject({ live: 1, total: 2, dynamic: true, parentKey: 'root:talker/0:client' });
    const [root] = elkGraph(groups).children!;
    expect(root!.edges!.map((e) => [e.sources[0], e.targets[0]])).toEqual([[portId('root:talker/0:client', 'out', 'outbox'), portId('root:talker', 'out', 'outbox')]]);
    expect(root!.children![0]!.children!.map((c) => c.id)).toEqual(['root:talker/0:client/[ConnectedSocketAdapter]']);
  });

  it('keeps machines, steps, joins, TLS and both addresses; rates fall to zero when nothing happens', () => {
    const store = createStore();
    applyRecords(store, [
      { k: 'machine', t: 1, machine: 'm1', definition: { id: 'TCPClient', states: {} } },
      { k: 'actor', t: 1, id: 'c', parent: null, path: 'TCPClient', name: 'TCPClient', component: 'TCPClient', machine: 'm1' },
      { k: 'step', t: 1, id: 'c', value: 'connecting', event: 'xstate.init' },
      { k: 'lane', t: 1, lane: 'c', side: 'client', path: 'TCPClient' },
      { k: 'step', t: 5, id: 'c', value: { open: 'connected' }, event: 'connect.ok' },
      { k: 'join', t: 5, lane: 'c', id: 'csa' },
      { k: 'peer', t: 5, lane: 'c', peer: '127.0.0.1:80', local: '127.0.0.1:5000' },
      { k: 'tls', t: 6, lane: 'c', protocol: 'TLSv1.3' },
      { k: 'bytes', t: 1000, lane: 'c', in: 2000, out: 0 },
    ]);
    expect(store.machines.get('m1')).toEqual({ id: 'TCPClient', states: {} });
    expect(store.actors.get('c')!.steps).toEqual([
      { t: 1, value: 'connecting', event: 'xstate.init' },
      { t: 5, value: { open: 'connected' }, event: 'connect.ok' },
    ]);
    expect(store.lanes.get('c')).toMatchObject({ feeders: ['c', 'csa'], peer: '127.0.0.1:80', local: '127.0.0.1:5000', tls: 'TLSv1.3', activeAt: 1000 });
    expect(counters(store, 1000).bytesInPerSecond).toBe(1000);
    // Nothing since: two seconds later the rate is zero, not the last value.
    expect(counters(store, 3001).bytesInPerSecond).toBe(0);
  });

  it("draws a server's run-time links once, between the folded boxes of its connections", () => {
    const records: InspectorRecord[] = [pipelineActor('p'), child('s', 'p', '0:server', 'ConnectedServer'), child('e', 'p', '1:Echo', 'ConsoleEchoer'), ...manyConnections(5000, 's')];
    for (let i = 0; i < 5000; i++) records.push({ k: 'actor', t: 10 + i, id: `h${i}`, parent: 's', path: `Pipeline/0:server/${i}:EchoProtocol`, name: `${i}:EchoProtocol`, component: 'EchoProtocol', inboxes: ['inbox', 'control'], outboxes: ['outbox', 'signal'] });
    // The server sends one wire of each kind; a replayed or merged session may hold more.
    records.push({ k: 'wire', t: 20, from: 'c0', outbox: 'outbox', to: 'h0', inbox: 'inbox' }, { k: 'wire', t: 20, from: 'h0', outbox: 'outbox', to: 'c0', inbox: 'inbox' }, { k: 'wire', t: 21, from: 'c1', outbox: 'outbox', to: 'h1', inbox: 'inbox' });
    const store = createStore();
    applyRecords(store, records);
    const groups = componentGroups(store);
    const csa = 'root:Pipeline/0:server/[ConnectedSocketAdapter]';
    const handler = 'root:Pipeline/0:server/[EchoProtocol]';
    expect(groups.wires.map((w) => `${w.from}.${w.outbox} -> ${w.to}.${w.inbox}`)).toEqual([`${csa}.outbox -> ${handler}.inbox`, `${handler}.outbox -> ${csa}.inbox`]);
    const edges = elkGraph(groups).children![0]!.edges!.filter((e) => e.wire);
    expect(edges.map((e) => [e.sources[0], e.targets[0]])).toEqual([
      [portId(csa, 'out', 'outbox'), portId(handler, 'in', 'inbox')],
      [portId(handler, 'out', 'outbox'), portId(csa, 'in', 'inbox')],
    ]);
  });
});
