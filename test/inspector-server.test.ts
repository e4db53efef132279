// createInspector over real loopback HTTP and WebSocket: what it serves, what it streams, what it
// records, and that close() leaves nothing listening.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createWebSocketInspector } from '@statelyai/inspect';
import { createActor, createMachine } from 'xstate';
import { createInspector, run, type Inspector, type InspectorRecord } from 'kamaelia-xstate';
import { parseRecording, storeAt } from '../inspector/page/store.js';
import { FakeConnection } from './helpers/fakeConnection.js';
import { inspectorsAfterEach } from './helpers/inspectors.js';

const { open, scratch } = inspectorsAfterEach();

/** A page stand-in: collects every record the inspector streams. */
async function listen(inspector: Inspector): Promise<{ records: InspectorRecord[]; socket: WebSocket; until(test: (records: InspectorRecord[]) => boolean): Promise<void> }> {
  const socket = new WebSocket(new URL('ws', inspector.url).href.replace(/^http/, 'ws'));
  const records: InspectorRecord[] = [];
  const waiters = new Set<() => void>();
  socket.on('message', (data: Buffer) => {
    records.push(...(JSON.parse(data.toString()) as InspectorRecord[]));
    for (const wake of waiters) wake();
  });
  await once(socket, 'open');
  return {
    records,
    socket,
    until: (test) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out; have ${JSON.stringify(records.map((r) => r.k))}`)), 5_000);
        const check = (): void => {
          if (!test(records)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      }),
  };
}

/** Resolves once the clock has moved on by at least one millisecond. */
async function laterMillisecond(): Promise<void> {
  const now = Date.now();
  while (Date.now() <= now) await new Promise((resolve) => setTimeout(resolve, 1));
}

const statesOf = (records: InspectorRecord[]): string[] => records.flatMap((r) => (r.k === 'state' ? [r.state] : []));

describe('createInspector', () => {
  it('binds loopback by default and serves the page, its scripts and elkjs, offline', async () => {
    const inspector = await open();
    expect(new URL(inspector.url).hostname).toBe('127.0.0.1');
    const page = await fetch(inspector.url);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('/vendor/elk.bundled.js');
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org)/); // nothing fetched from the network
    for (const path of ['app.js', 'store.js', 'graph.js', 'graphModel.js', 'lanes.js', 'log.js', 'style.css']) {
      const response = await fetch(new URL(path, inspector.url));
      expect(response.status, path).toBe(200);
    }
    const elk = await fetch(new URL('vendor/elk.bundled.js', inspector.url));
    expect(elk.status).toBe(200);
    expect(await elk.text()).toContain('ELK');
    expect((await fetch(new URL('/%2e%2e/package.json', inspector.url))).status).toBe(404);
    expect((await fetch(new URL('/store.d.ts', inspector.url))).status).toBe(404);
  });

  it('streams a connection lifecycle to a page in batches, and catches a late page up', async () => {
    const inspector = await open();
    const early = await listen(inspector);
    const handle = run(FakeConnection(), { inspect: inspector.inspect });
    handle.actor.send({ type: 'go' });
    handle.send('inbox', new Uint8Array(3));
    handle.send('control', { kind: 'producerFinished' });
    handle.actor.send({ type: 'drained' });
    await handle.done;
    await early.until((records) => statesOf(records).includes('closed'));
    expect(early.records[0]).toMatchObject({ k: 'hello', version: 1, showPayloadBytes: 0 });
    expect(statesOf(early.records)).toEqual(['connecting', 'connected', 'flushing', 'closed']);
    expect(early.records.filter((r) => r.k === 'bytes').at(-1)).toMatchObject({ out: 3 });

    const late = await listen(inspector);
    await late.until((records) => statesOf(records).includes('closed'));
    expect(statesOf(late.records)).toEqual(['connecting', 'connected', 'flushing', 'closed']);
    expect(late.records.some((r) => r.k === 'actor' && r.component === 'FakeConnection')).toBe(true);
    early.socket.close();
    late.socket.close();
  });

  it('records JSON lines that replay to the same lifecycle at any moment', async () => {
    const dir = scratch('inspector-');
    const file = join(dir, 'session.jsonl');
    const inspector = await open({ record: file });
    const handle = run(FakeConnection(), { inspect: inspector.inspect });
    inspector.flush();
    handle.actor.send({ type: 'go' });
    await laterMillisecond();
    handle.actor.send({ type: 'tls' });
    inspector.flush();
    // Records carry millisecond times: the moment of the upgrade must be its own.
    await laterMillisecond();
    handle.actor.send({ type: 'tlsDone' });
    handle.send('control', { kind: 'producerFinished' });
    handle.actor.send({ type: 'drained' });
    await handle.done;
    await inspector.close();

    const records = parseRecording(readFileSync(file, 'utf8'));
    expect(records[0]).toMatchObject({ k: 'hello' });
    const stateRecords = records.filter((r) => r.k === 'state');
    expect(stateRecords.map((r) => (r.k === 'state' ? r.state : ''))).toEqual(['connecting', 'connected', 'upgradingTls', 'connected', 'flushing', 'closed']);
    // Replayed to the moment of the TLS upgrade, the lane is upgrading and still open.
    const upgrading = stateRecords[2]!;
    const then = storeAt(records, upgrading.t);
    const lane = [...then.lanes.values()][0]!;
    expect(lane.segments.at(-1)?.state).toBe('upgradingTls');
    expect(then.openLanes).toBe(1);
    const end = storeAt(records, records.at(-1)!.t);
    expect(end.openLanes).toBe(0);
    expect([...end.lanes.values()][0]!.segments.map((s) => s.state)).toEqual(['connecting', 'connected', 'upgradingTls', 'connected', 'flushing', 'closed']);
  });

  it('sends payload sizes only, unless showPayloadBytes asks for the first bytes', async () => {
    for (const showPayloadBytes of [0, 4]) {
      const inspector = await open({ showPayloadBytes });
      const page = await listen(inspector);
      const handle = run(FakeConnection(), { inspect: inspector.inspect });
      handle.actor.send({ type: 'go' });
      handle.send('inbox', Buffer.from('password=hunter2'));
      await page.until((records) => records.some((r) => r.k === 'log' && r.type === 'inbox'));
      const log = page.records.find((r) => r.k === 'log' && r.type === 'inbox');
      expect(log).toMatchObject({ size: 16 });
      const streamed = JSON.stringify(page.records);
      expect(streamed).not.toContain('hunter2');
      expect(streamed).not.toContain(Buffer.from('password=hunter2').toString('hex'));
      if (showPayloadBytes) expect(log).toMatchObject({ head: Buffer.from('pass').toString('hex') });
      else expect(log).not.toHaveProperty('head');
      handle.stop();
      page.socket.close();
    }
  });

  it("refuses a WebSocket opened by another web site's page", async () => {
    const inspector = await open();
    const wsUrl = new URL('ws', inspector.url).href.replace(/^http/, 'ws');
    const foreign = new WebSocket(wsUrl, { origin: 'http://evil.example' });
    const [error] = (await once(foreign, 'error')) as [Error];
    expect(error.message).toMatch(/403/);
    const own = new WebSocket(wsUrl, { origin: new URL(inspector.url).origin });
    await once(own, 'open');
    own.close();
  });

  it('refuses HTTP and WebSocket requests naming a foreign Host (DNS rebinding), unless allowed', async () => {
    const inspector = await open({ allowedHosts: ['inspector.test'] });
    const { port } = new URL(inspector.url);
    const wsUrl = new URL('ws', inspector.url).href.replace(/^http/, 'ws');
    const status = (path: string, host: string): Promise<number> =>
      new Promise((resolve, reject) => {
        httpGet({ host: '127.0.0.1', port: Number(port), path, headers: { host } }, (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        }).once('error', reject);
      });
    // A page at http://evil.example:PORT whose name resolved to 127.0.0.1 sends its own name.
    const evil = `evil.example:${port}`;
    for (const path of ['/', '/records.jsonl', '/app.js']) expect(await status(path, evil), path).toBe(403);
    const foreign = new WebSocket(wsUrl, { headers: { host: evil }, origin: `http://${evil}` });
    const [error] = (await once(foreign, 'error')) as [Error];
    expect(error.message).toMatch(/403/);
    // Without an Origin (a program's client) the Host still has to be known.
    const program = new WebSocket(wsUrl, { headers: { host: evil } });
    expect(((await once(program, 'error')) as [Error])[0].message).toMatch(/403/);
    // Loopback names, IP addresses and allowed names are answered.
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, `inspector.test:${port}`, 'INSPECTOR.test']) {
      expect(await status('/records.jsonl', host), host).toBe(200);
    }
    const allowed = new WebSocket(wsUrl, { headers: { host: `inspector.test:${port}` }, origin: `http://inspector.test:${port}` });
    await once(allowed, 'open');
    allowed.close();
  });

  it('shows an XState v5 program that uses @statelyai/inspect unchanged, and saves the session in its format', async () => {
    const dir = scratch('inspector-');
    const file = join(dir, 'session.jsonl');
    const inspector = await open({ record: file });
    expect(inspector.wsUrl).toBe(`${inspector.url.replace(/^http/, 'ws')}inspect`);
    const page = await listen(inspector);
    const stately = createWebSocketInspector({ url: inspector.wsUrl });
    const light = createMachine({
      id: 'light',
      initial: 'green',
      states: { green: { on: { next: 'yellow' } }, yellow: { on: { next: 'red' } }, red: { type: 'final' } },
    });
    const actor = createActor(light, { inspect: stately.inspect }).start();
    actor.send({ type: 'next' });
    actor.send({ type: 'next' });
    const steps = (records: InspectorRecord[]): unknown[] => records.flatMap((r) => (r.k === 'step' ? [r.value] : []));
    await page.until((records) => steps(records).includes('red'));
    stately.stop();
    const machine = page.records.find((r) => r.k === 'machine');
    expect(machine).toMatchObject({ definition: { id: 'light', initial: 'green' } });
    expect(page.records.find((r) => r.k === 'actor')).toMatchObject({ name: 'light', machine: machine?.k === 'machine' ? machine.machine : '' });
    expect(steps(page.records)).toEqual(['green', 'yellow', 'red']);
    expect(page.records.filter((r) => r.k === 'log').map((r) => (r.k === 'log' ? r.type : ''))).toEqual(['xstate.init', 'next', 'next']);

    // Saved as @statelyai/inspect messages, it opens (and replays) to the same steps.
    const saved = await (await fetch(new URL('records.stately.jsonl', inspector.url))).text();
    expect(JSON.parse(saved.split('\n')[0]!)).toMatchObject({ type: '@xstate.actor', name: 'light' });
    const reopened = parseRecording(saved);
    const end = storeAt(reopened, reopened.at(-1)!.t);
    const [replayed] = [...end.actors.values()];
    expect(replayed!.steps.map((step) => step.value)).toEqual(['green', 'yellow', 'red']);
    expect(end.machines.get(replayed!.machine!)).toMatchObject({ id: 'light' });
    // And our own recording holds it too.
    await inspector.close();
    expect(parseRecording(readFileSync(file, 'utf8')).filter((r) => r.k === 'step')).toHaveLength(3);
    page.socket.close();
  });

  it('close() ends the page connections and stops listening', async () => {
    const inspector = await open();
    const page = await listen(inspector);
    const closed = once(page.socket, 'close');
    await inspector.close();
    const [code] = (await closed) as [number];
    expect(code).toBe(1001);
    const { port } = new URL(inspector.url);
    const probe = connect(Number(port), '127.0.0.1');
    const [error] = (await once(probe, 'error')) as [NodeJS.ErrnoException];
    expect(error.code).toBe('ECONNREFUSED');
  });

  it('reports a port that is taken instead of pretending to listen', async () => {
    const first = await open();
    await expect(createInspector({ port: Number(new URL(first.url).port) })).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});
