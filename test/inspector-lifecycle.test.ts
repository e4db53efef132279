// The inspector's model: XState inspection events in, component / connection-lifecycle records out.
// First with hand-made inspection events (each rule in isolation), then with real actors.
import { describe, expect, it } from 'vitest';
import type { ActorRefLike, AnyEventObject, InspectionEvent } from 'xstate';
import { ConnectedServer, DataSource, EchoProtocol, LifecycleTracker, Pipeline, TCPClient, box, defineComponent, producerFinished, run, type InspectorRecord } from 'kamaelia-xstate';
import { connect, readBytes, until } from './server-helpers.js';
import { lifecycleStateOf } from '../inspector/lifecycle.js';
import { History } from '../inspector/history.js';
import { FakeConnection } from './helpers/fakeConnection.js';

// ---- synthetic inspection events ---------------------------------------------------------------

interface FakeRef extends ActorRefLike {
  readonly id: string;
  readonly _parent?: FakeRef;
}

let nextSession = 0;
function fakeActor(id: string, parent?: FakeRef): FakeRef {
  const sessionId = `t:${nextSession++}`;
  return { id, sessionId, _parent: parent, send: () => {}, getSnapshot: () => undefined } as unknown as FakeRef;
}

const created = (ref: FakeRef): InspectionEvent => ({ type: '@xstate.actor', actorRef: ref, rootId: 'root' });
const received = (ref: FakeRef, event: AnyEventObject, source?: FakeRef): InspectionEvent => ({
  type: '@xstate.event',
  actorRef: ref,
  sourceRef: source,
  event,
  rootId: 'root',
});
const snapshot = (ref: FakeRef, value: unknown, extra: { status?: string; context?: unknown; error?: unknown; event?: AnyEventObject } = {}): InspectionEvent =>
  ({
    type: '@xstate.snapshot',
    actorRef: ref,
    rootId: 'root',
    event: extra.event ?? { type: 'x' },
    snapshot: { value, status: extra.status ?? 'active', context: extra.context ?? {}, error: extra.error, output: undefined },
  }) as InspectionEvent;

function feed(tracker: LifecycleTracker, events: InspectionEvent[]): InspectorRecord[] {
  for (const event of events) tracker.observe(event);
  return tracker.drain();
}

const statesOf = (records: InspectorRecord[], lane: string): string[] =>
  records.flatMap((r) => (r.k === 'state' && r.lane === lane ? [r.state] : []));

describe('lifecycleStateOf', () => {
  it('names lifecycle states at the top level or nested in a compound value, nothing else', () => {
    expect(lifecycleStateOf('connecting')).toBe('connecting');
    expect(lifecycleStateOf({ connected: 'reading' })).toBe('connected');
    expect(lifecycleStateOf({ open: 'upgradingTls' })).toBe('upgradingTls');
    expect(lifecycleStateOf({ open: { tls: 'flushing' } })).toBe('flushing');
    expect(lifecycleStateOf('listening')).toBeUndefined();
    expect(lifecycleStateOf({ running: 'x' })).toBeUndefined();
    expect(lifecycleStateOf(undefined)).toBeUndefined();
  });
});

describe('LifecycleTracker with synthetic inspection events', () => {
  it('makes a client lane from an actor that goes delaying → connecting → connected → closed', () => {
    let clock = 1000;
    const tracker = new LifecycleTracker({ now: () => clock++ });
    const client = fakeActor('client');
    const records = feed(tracker, [
      created(client),
      snapshot(client, 'delaying', { context: { host: '127.0.0.1', port: 4000 } }),
      snapshot(client, 'connecting'),
      snapshot(client, 'connecting'), // no change, no record
      snapshot(client, 'connected'),
      snapshot(client, 'closed', { status: 'done' }),
    ]);
    const lane = records.find((r) => r.k === 'lane');
    expect(lane).toMatchObject({ k: 'lane', lane: client.sessionId, side: 'client', path: 'client' });
    expect(statesOf(records, client.sessionId)).toEqual(['delaying', 'connecting', 'connected', 'closed']);
    expect(records.find((r) => r.k === 'peer')).toMatchObject({ peer: '127.0.0.1:4000' });
    expect(records.find((r) => r.k === 'end')).toMatchObject({ id: client.sessionId, status: 'done' });
    const times = records.filter((r) => r.k === 'state').map((r) => r.t);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('a socket adapter spawned under a client drives the same lane, not a second one', () => {
    const tracker = new LifecycleTracker();
    const client = fakeActor('client');
    const adapter = fakeActor('csa', client);
    const records = feed(tracker, [
      snapshot(client, 'connecting'),
      snapshot(adapter, 'connected', { context: { bytesIn: 0, bytesOut: 0 } }),
      snapshot(client, 'connected'),
      snapshot(adapter, 'upgradingTls'),
      snapshot(client, 'connecting'), // the client's own value no longer drives the lane
      snapshot(adapter, 'connected', { context: { bytesIn: 10, bytesOut: 4 } }),
      snapshot(adapter, 'flushing', { context: { bytesIn: 10, bytesOut: 9 } }),
      snapshot(adapter, 'closed', { status: 'done', context: { bytesIn: 12, bytesOut: 9 } }),
    ]);
    expect(records.filter((r) => r.k === 'lane')).toHaveLength(1);
    expect(statesOf(records, client.sessionId)).toEqual(['connecting', 'connected', 'upgradingTls', 'connected', 'flushing', 'closed']);
    expect(records.filter((r) => r.k === 'bytes').at(-1)).toMatchObject({ lane: client.sessionId, in: 12, out: 9 });
  });

  it('a connection accepted by a server is a server lane starting at connected', () => {
    const tracker = new LifecycleTracker();
    const server = fakeActor('server');
    const csa = fakeActor('7', server);
    const records = feed(tracker, [snapshot(server, 'listening'), snapshot(csa, 'connected', { context: { peer: '127.0.0.1', peerPort: 5555 } }), snapshot(server, 'closed')]);
    expect(records.filter((r) => r.k === 'lane')).toEqual([expect.objectContaining({ lane: csa.sessionId, side: 'server', path: 'server/7' })]);
    expect(records.find((r) => r.k === 'peer')).toMatchObject({ peer: '127.0.0.1:5555' });
    // The listener's `closed` is not a connection's.
    expect(statesOf(records, server.sessionId)).toEqual([]);
  });

  it('carries the terminal reason from the context, the error, or the event', () => {
    const tracker = new LifecycleTracker();
    const refused = fakeActor('refused');
    const timedOut = fakeActor('timedOut');
    const crashed = fakeActor('crashed');
    const parent = fakeActor('graph');
    const records = feed(tracker, [
      created(refused),
      snapshot(refused, 'connecting'),
      snapshot(refused, 'failed', { status: 'done', context: { reason: { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:1' } } }),
      snapshot(timedOut, 'connecting'),
      snapshot(timedOut, 'failed', { event: { type: 'timeout', error: { code: 'ETIMEDOUT', message: 'no connection within 50 ms' } } }),
      created(crashed),
      snapshot(crashed, 'connected'),
      // A machine that throws reports no snapshot; its parent hears xstate.error.actor.* from it.
      received(parent, { type: 'xstate.error.actor.3', error: new Error('boom') }, crashed),
    ]);
    const reasons = records.flatMap((r) => (r.k === 'state' && r.reason ? [[r.lane, r.state, r.reason.code, r.reason.message]] : []));
    expect(reasons).toEqual([
      [refused.sessionId, 'failed', 'ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1'],
      [timedOut.sessionId, 'failed', 'ETIMEDOUT', 'no connection within 50 ms'],
      [crashed.sessionId, 'failed', undefined, 'boom'],
    ]);
    expect(records.find((r) => r.k === 'end' && r.id === crashed.sessionId)).toMatchObject({ status: 'error', reason: { message: 'boom' } });
  });

  it('a connection stopped before it closed ends as closed, reason stopped', () => {
    const tracker = new LifecycleTracker();
    const client = fakeActor('client');
    const records = feed(tracker, [created(client), snapshot(client, 'connected'), snapshot(client, 'connected', { status: 'stopped' })]);
    expect(records.filter((r) => r.k === 'state').at(-1)).toMatchObject({ state: 'closed', reason: { code: 'stopped' } });
  });

  it('counts inbox payload bytes when the machine keeps no totals, and never sends payloads by default', () => {
    const tracker = new LifecycleTracker();
    const csa = fakeActor('csa');
    const secret = Buffer.from('secret payload');
    const records = feed(tracker, [
      snapshot(csa, 'connected'),
      received(csa, { type: 'inbox', data: secret }),
      received(csa, { type: 'inbox', data: 'héllo' }),
      received(csa, { type: 'control', data: { kind: 'producerFinished' } }),
    ]);
    expect(records.filter((r) => r.k === 'bytes').at(-1)).toMatchObject({ in: 0, out: secret.length + 6 });
    const logs = records.filter((r) => r.k === 'log');
    expect(logs.map((r) => [r.type, r.size, r.kind])).toEqual([
      ['inbox', secret.length, undefined],
      ['inbox', 6, undefined],
      ['control', undefined, 'producerFinished'],
    ]);
    expect(JSON.stringify(records)).not.toContain(secret.toString('hex'));
    expect(JSON.stringify(records)).not.toContain('secret');
  });

  it('shows the first payload bytes only when asked to', () => {
    const tracker = new LifecycleTracker({ showPayloadBytes: 4 });
    const csa = fakeActor('csa');
    const records = feed(tracker, [received(csa, { type: 'inbox', data: Buffer.from('abcdefgh') })]);
    expect(records.find((r) => r.k === 'log')).toMatchObject({ size: 8, head: Buffer.from('abcd').toString('hex') });
  });

  it('caps log records per drain and counts the rest', () => {
    const tracker = new LifecycleTracker({ logLimit: 10 });
    const sink = fakeActor('sink');
    const records = feed(
      tracker,
      Array.from({ length: 25 }, (_, i) => received(sink, { type: 'inbox', data: i })),
    );
    expect(records.filter((r) => r.k === 'log')).toHaveLength(10);
    expect(records.find((r) => r.k === 'dropped')).toMatchObject({ count: 15 });
    // The cap is per drain.
    expect(feed(tracker, [received(sink, { type: 'inbox', data: 1 })]).filter((r) => r.k === 'log')).toHaveLength(1);
  });
});

// ---- real actors -------------------------------------------------------------------------------

describe('LifecycleTracker with real actors', () => {
  it('reports a Pipeline as components with boxes and linkages', async () => {
    const tracker = new LifecycleTracker();
    const Sink = defineComponent({
      name: 'Sink',
      inboxes: { inbox: box<number>(), control: box<unknown>() },
      outboxes: { outbox: box<number>(), signal: box<unknown>() },
      body: ({ on, finish }) => {
        on('control', () => finish());
      },
    });
    const handle = run(Pipeline(DataSource([1, 2, 3]), Sink), { inspect: tracker.observe });
    await handle.done;
    const records = tracker.drain();
    const actors = records.filter((r) => r.k === 'actor');
    const pipeline = actors.find((r) => r.component === 'Pipeline');
    expect(pipeline).toMatchObject({ path: 'Pipeline', parent: null, inboxes: ['inbox', 'control'], outboxes: ['outbox', 'signal'] });
    expect(pipeline?.graph?.children).toEqual([
      { name: 'DataSource', component: 'DataSource' },
      { name: 'Sink', component: 'Sink' },
    ]);
    expect(pipeline?.graph?.links).toContainEqual({ from: { child: 0, box: 'outbox' }, to: { child: 1, box: 'inbox' } });
    expect(actors.filter((r) => r.parent === pipeline?.id && r.component).map((r) => r.path)).toEqual(['Pipeline/0:DataSource', 'Pipeline/1:Sink']);
    // the graph's own helper actor shows as internal (no component)
    expect(actors.filter((r) => r.parent === pipeline?.id && !r.component).map((r) => r.path)).toEqual(['Pipeline/childKeeper']);
    // The three numbers reached Sink's inbox, and every actor ended.
    const sink = actors.find((r) => r.component === 'Sink');
    expect(records.filter((r) => r.k === 'log' && r.id === sink?.id && r.type === 'inbox')).toHaveLength(3);
    expect(new Set(records.filter((r) => r.k === 'end').map((r) => r.id))).toEqual(new Set(actors.map((r) => r.id)));
  });

  it('follows a machine component through connecting → connected → upgradingTls → connected → closed', async () => {
    const tracker = new LifecycleTracker();
    const handle = run(FakeConnection(), { inspect: tracker.observe });
    const actor = handle.actor;
    actor.send({ type: 'go' });
    handle.send('inbox', new Uint8Array(5));
    actor.send({ type: 'tls' });
    actor.send({ type: 'tlsDone' });
    handle.send('control', { kind: 'producerFinished' });
    actor.send({ type: 'drained' });
    await handle.done;
    const records = tracker.drain();
    const lane = records.find((r) => r.k === 'lane');
    expect(lane).toMatchObject({ side: 'client', path: 'FakeConnection' });
    expect(statesOf(records, actor.sessionId)).toEqual(['connecting', 'connected', 'upgradingTls', 'connected', 'flushing', 'closed']);
    expect(records.filter((r) => r.k === 'bytes').at(-1)).toMatchObject({ in: 0, out: 5 });
  });

  it('reports a refusal with its reason, and forgets finished lanes after a drain', async () => {
    const tracker = new LifecycleTracker();
    const handle = run(FakeConnection(), { inspect: tracker.observe });
    handle.actor.send({ type: 'refuse' });
    await handle.done;
    expect(tracker.openLanes).toBe(0);
    const records = tracker.drain();
    expect(records.filter((r) => r.k === 'state').at(-1)).toMatchObject({ state: 'failed', reason: { code: 'ECONNREFUSED' } });
    expect(tracker.drain()).toEqual([]);
  });
});

describe('LifecycleTracker over real loopback connections', () => {
  it('sends each machine once, its state values as steps, both addresses, joins and run-time links', async () => {
    const tracker = new LifecycleTracker();
    const server = run(ConnectedServer({ host: '127.0.0.1', protocol: () => EchoProtocol() }), { inspect: tracker.observe });
    const { port } = (await server.next('listening', { timeoutMs: 5000 })) as { port: number };
    const sockets = await Promise.all([connect(port), connect(port)]);
    const clientPorts = sockets.map((socket) => socket.localPort);
    for (const socket of sockets) {
      socket.write('hi');
      await readBytes(socket, 2);
    }
    const client = run(TCPClient('127.0.0.1', port), { inspect: tracker.observe });
    client.send('inbox', 'hello');
    client.send('control', producerFinished());
    await client.done;
    for (const socket of sockets) socket.end();
    const records: InspectorRecord[] = [];
    await until(() => {
      records.push(...tracker.drain());
      return records.filter((r) => r.k === 'state' && r.state === 'closed').length >= 4;
    }, 'four connections closed');
    server.stop();

    const machines = records.flatMap((r) => (r.k === 'machine' ? [r] : []));
    const ids = machines.map((m) => (m.definition as { id: string }).id);
    expect(ids.filter((id) => id === 'ConnectedSocketAdapter')).toHaveLength(1);
    expect(ids).toContain('TCPClient');
    const csaMachine = machines.find((m) => (m.definition as { id: string }).id === 'ConnectedSocketAdapter')!.machine;
    const actors = records.flatMap((r) => (r.k === 'actor' ? [r] : []));
    // Every server-side socket adapter runs that one machine.
    const serverCsas = actors.filter((a) => a.component === 'ConnectedSocketAdapter' && a.path.startsWith('ConnectedServer'));
    expect(serverCsas).toHaveLength(3); // the two sockets and the TCPClient
    expect(serverCsas.every((a) => a.machine === csaMachine)).toBe(true);
    // Server lanes are labelled by who connected, with our end too.
    const peers = records.flatMap((r) => (r.k === 'peer' ? [r] : []));
    for (const clientPort of clientPorts) {
      expect(peers).toContainEqual(expect.objectContaining({ peer: `127.0.0.1:${clientPort}`, local: `127.0.0.1:${port}` }));
    }
    // A socket adapter's steps are its machine's state values, each with the event that made it.
    const steps = records.filter((r) => r.k === 'step' && r.id === serverCsas[0]!.id).map((r) => (r.k === 'step' ? `${String(r.value)} ← ${r.event}` : ''));
    expect(steps[0]).toBe('connected ← xstate.init');
    expect(steps.at(-1)).toMatch(/^closed ← /);
    // The client's socket adapter joins the client's lane.
    const clientLane = records.find((r) => r.k === 'lane' && r.side === 'client');
    const clientCsa = actors.find((a) => a.component === 'ConnectedSocketAdapter' && a.parent !== null && a.path.startsWith('TCPClient'));
    expect(records).toContainEqual(expect.objectContaining({ k: 'join', lane: clientLane?.k === 'lane' ? clientLane.lane : '', id: clientCsa?.id }));
    // CSA ↔ handler links, sent once for all the server's connections.
    const wires = records.flatMap((r) => (r.k === 'wire' ? [r] : []));
    const kinds = wires.map((w) => `${actors.find((a) => a.id === w.from)?.component}.${w.outbox} -> ${actors.find((a) => a.id === w.to)?.component}.${w.inbox}`);
    expect(kinds).toEqual(expect.arrayContaining(['ConnectedSocketAdapter.outbox -> EchoProtocol.inbox', 'EchoProtocol.outbox -> ConnectedSocketAdapter.inbox']));
    expect(new Set(kinds).size).toBe(kinds.length);
  });
});

describe('LifecycleTracker attached to a running system', () => {
  it('lists the actors already running and their current state, then follows the lifecycle', async () => {
    const handle = run(FakeConnection());
    handle.actor.send({ type: 'go' });
    const tracker = new LifecycleTracker();
    tracker.noteExisting(handle.actor);
    const subscription = handle.actor.system.inspect(tracker.observe);
    handle.send('control', { kind: 'producerFinished' });
    handle.actor.send({ type: 'drained' });
    await handle.done;
    subscription.unsubscribe();
    const records = tracker.drain();
    expect(records.find((r) => r.k === 'actor')).toMatchObject({ component: 'FakeConnection', path: 'FakeConnection' });
    expect(statesOf(records, handle.actor.sessionId)).toEqual(['connected', 'flushing', 'closed']);
  });
});

describe('History for late-joining pages', () => {
  it('compacts to the latest bytes and the most recent finished connections', () => {
    const history = new History({ limit: 40, keepFinished: 2, logLimit: 3 });
    const records: InspectorRecord[] = [];
    for (let i = 0; i < 10; i++) {
      const lane = `l${i}`;
      records.push({ k: 'lane', t: i, lane, side: 'client', path: lane });
      records.push({ k: 'state', t: i, lane, state: 'connected' });
      records.push({ k: 'bytes', t: i, lane, in: 1, out: 1 });
      records.push({ k: 'bytes', t: i, lane, in: 2, out: 2 });
      if (i < 8) records.push({ k: 'state', t: i, lane, state: 'closed' });
      records.push({ k: 'log', t: i, id: lane, type: 'inbox' });
    }
    history.add(records);
    const kept = history.snapshot();
    const lanes = kept.flatMap((r) => (r.k === 'lane' ? [r.lane] : []));
    // the two open ones and the two most recently closed
    expect(lanes).toEqual(['l6', 'l7', 'l8', 'l9']);
    expect(kept.filter((r) => r.k === 'bytes').map((r) => (r.k === 'bytes' ? r.in : 0))).toEqual([2, 2, 2, 2]);
    expect(kept.filter((r) => r.k === 'log')).toHaveLength(3);
  });
});
