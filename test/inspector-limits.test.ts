// The inspector under long use, in Node over real loopback: what it keeps is bounded (finished
// connections, steps per actor, the recording's size), context values stay home unless asked for,
// and /inspect can require a token.
import { once } from 'node:events';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createWebSocketInspector } from '@statelyai/inspect';
import { assign, createActor, createMachine, setup } from 'xstate';
import { createInspector, type Inspector, type InspectorRecord } from 'kamaelia-xstate';
import { History } from '../inspector/history.js';
import { applyRecords, createStore, parseRecording } from '../inspector/page/store.js';
import { manyConnections } from './helpers/inspectorRecords.js';
import { inspectorsAfterEach } from './helpers/inspectors.js';

const { open, scratch: scratchDir } = inspectorsAfterEach();

const scratch = (): string => scratchDir('inspector-limits-');

async function recordsOf(inspector: Inspector): Promise<InspectorRecord[]> {
  return parseRecording(await (await fetch(new URL('records.jsonl', inspector.url))).text());
}

/** A machine that flips between two states on every `flip`. */
const flipper = createMachine({ id: 'flipper', initial: 'a', states: { a: { on: { flip: 'b' } }, b: { on: { flip: 'a' } } } });

describe('bounded history', () => {
  it('keeps the first and the latest steps of a long-lived actor, and says how many it dropped', async () => {
    const inspector = await open({ stepsPerActor: 200 });
    const actor = createActor(flipper, { inspect: inspector.inspect }).start();
    for (let i = 0; i < 20_000; i++) {
      actor.send({ type: 'flip' });
      if (i % 1000 === 0) inspector.flush();
    }
    inspector.flush();
    const records = await recordsOf(inspector);
    const steps = records.filter((r) => r.k === 'step' && r.id === actor.sessionId);
    const dropped = records.filter((r) => r.k === 'stepsDropped');
    // 20 001 steps (the first state too): 200 kept, the first 20 and the latest 180.
    expect(steps).toHaveLength(200);
    expect(dropped).toHaveLength(1);
    expect(dropped[0]).toMatchObject({ id: actor.sessionId, count: 20_001 - 200 });
    const index = records.indexOf(dropped[0]!);
    expect(records.slice(0, index).filter((r) => r.k === 'step')).toHaveLength(20);
    // The page's model keeps the same, and knows the gap.
    const store = createStore();
    applyRecords(store, records);
    const kept = store.actors.get(actor.sessionId)!;
    expect(kept.steps).toHaveLength(200);
    expect(kept.stepsDropped).toBe(20_001 - 200);
    actor.stop();
  });

  it('holds bounded memory while a machine changes state for ever (heap grows by less than 16 MiB over 300 000 steps)', async () => {
    const inspector = await open({ flushIntervalMs: 10 });
    const actor = createActor(flipper, { inspect: inspector.inspect }).start();
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const heap = (): number => {
      gc();
      gc();
      return process.memoryUsage().heapUsed;
    };
    for (let i = 0; i < 20_000; i++) actor.send({ type: 'flip' });
    inspector.flush();
    const before = heap();
    for (let round = 0; round < 30; round++) {
      for (let i = 0; i < 10_000; i++) actor.send({ type: 'flip' });
      inspector.flush();
    }
    const grown = heap() - before;
    const steps = (await recordsOf(inspector)).filter((r) => r.k === 'step');
    expect(steps.length).toBeLessThanOrEqual(1_000);
    expect(grown).toBeLessThan(16 * 1024 * 1024);
    actor.stop();
  });

  it('keeps the newest finished connections, for a late page and in an open page alike', () => {
    const history = new History({ keepFinished: 100 });
    const records = manyConnections(1_000, 's'); // 500 closed, 500 open
    history.add(records);
    const snapshot = history.snapshot();
    const trimmed = snapshot.find((r) => r.k === 'trimmed');
    expect(trimmed).toMatchObject({ k: 'trimmed' });
    const lanes = snapshot.filter((r) => r.k === 'lane').length;
    expect(lanes).toBeLessThanOrEqual(500 + 150);
    expect(trimmed?.k === 'trimmed' ? trimmed.lanes : 0).toBe(1_000 - lanes);
    // An open page that saw every record keeps as many (it is told the limit in the hello).
    const page = createStore();
    applyRecords(page, [{ k: 'hello', t: 0, version: 1, showPayloadBytes: 0, limits: history.limits }, ...records]);
    expect(page.lanes.size).toBeLessThanOrEqual(500 + 150);
    expect(page.droppedLanes + page.lanes.size).toBe(1_000);
    // And a page caught up late counts the dropped ones as seen.
    const late = createStore();
    applyRecords(late, snapshot);
    expect(late.droppedLanes).toBe(1_000 - lanes);
  });

  it('rotates the recording at recordMaxBytes, keeping recordFiles files that each replay on their own', async () => {
    const file = join(scratch(), 'session.jsonl');
    const inspector = await open({ record: file, recordMaxBytes: 20_000, recordFiles: 3, stepsPerActor: 50 });
    const actor = createActor(flipper, { inspect: inspector.inspect }).start();
    for (let i = 0; i < 3_000; i++) {
      actor.send({ type: 'flip' });
      if (i % 100 === 0) inspector.flush();
    }
    await inspector.close();
    expect(existsSync(file)).toBe(true);
    expect(existsSync(`${file}.1`)).toBe(true);
    expect(existsSync(`${file}.2`)).toBe(true);
    expect(existsSync(`${file}.3`)).toBe(false);
    for (const name of [file, `${file}.1`, `${file}.2`]) {
      // Cut at the first batch past the limit (a batch here is 100 steps, under 10 KB).
      expect(statSync(name).size, name).toBeLessThan(20_000 + 30_000);
      const records = parseRecording(readFileSync(name, 'utf8'));
      expect(records[0]).toMatchObject({ k: 'hello' });
      // Each file knows the actor and its machine: it replays on its own.
      expect(records.some((r) => r.k === 'actor' && r.id === actor.sessionId)).toBe(true);
      expect(records.some((r) => r.k === 'machine')).toBe(true);
    }
    expect(parseRecording(readFileSync(file, 'utf8'))[0]).toMatchObject({ part: expect.any(Number) });
  });

  it('refuses limits that are not positive integers', async () => {
    await expect(createInspector({ stepsPerActor: 0 })).rejects.toThrow(/stepsPerActor must be a positive integer/);
    await expect(createInspector({ recordMaxBytes: -1 })).rejects.toThrow(/recordMaxBytes/);
    await expect(createInspector({ keepFinished: 1.5 })).rejects.toThrow(/keepFinished/);
  });
});

describe('context values', () => {
  const secret = 'tok-3f9a-SECRET';
  const withToken = setup({ types: {} as { context: { token: string; retries: number; peers: string[] } } }).createMachine({
    id: 'vault',
    context: { token: secret, retries: 3, peers: ['a'] },
    initial: 'idle',
    states: { idle: { on: { go: { target: 'busy', actions: assign({ retries: 4 }) } } }, busy: {} },
  });

  async function everything(inspector: Inspector, page: string[]): Promise<string> {
    inspector.flush();
    const records = await (await fetch(new URL('records.jsonl', inspector.url))).text();
    const stately = await (await fetch(new URL('records.stately.jsonl', inspector.url))).text();
    return [records, stately, ...page].join('\n');
  }

  async function pageOf(inspector: Inspector): Promise<{ frames: string[]; socket: WebSocket }> {
    const socket = new WebSocket(new URL('ws', inspector.url).href.replace(/^http/, 'ws'));
    const frames: string[] = [];
    socket.on('message', (data: Buffer) => frames.push(data.toString()));
    await once(socket, 'open');
    return { frames, socket };
  }

  for (const showContext of [false, true]) {
    it(`${showContext ? 'sends context values when showContext is set' : 'sends keys and types of context, not its values, by default'}: page, records, recording, Stately export, both paths`, async () => {
      const file = join(scratch(), 'session.jsonl');
      const inspector = await open({ record: file, showContext });
      const page = await pageOf(inspector);
      // Our path: an actor inspected directly.
      const ours = createActor(withToken, { inspect: inspector.inspect }).start();
      ours.send({ type: 'go' });
      // Theirs: a program using @statelyai/inspect (its snapshots carry the context too).
      const stately = createWebSocketInspector({ url: inspector.wsUrl });
      const theirs = createActor(withToken.provide({}), { inspect: stately.inspect }).start();
      theirs.send({ type: 'go' });
      const deadline = Date.now() + 5_000;
      while (!page.frames.join('').includes('"p1:') && Date.now() < deadline) {
        inspector.flush();
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      stately.stop();
      const text = await everything(inspector, page.frames);
      await inspector.close();
      const all = `${text}\n${readFileSync(file, 'utf8')}`;
      const machines = parseRecording(readFileSync(file, 'utf8')).filter((r) => r.k === 'machine');
      expect(machines).toHaveLength(2);
      if (showContext) {
        expect(all).toContain(secret);
        for (const machine of machines) expect(machine).toMatchObject({ definition: { context: { token: secret } } });
      } else {
        expect(all).not.toContain(secret);
        for (const machine of machines) expect(machine).toMatchObject({ definition: { context: { token: '(string)', retries: '(number)', peers: '(array of 1)' } } });
      }
      page.socket.close();
      ours.stop();
      theirs.stop();
    });
  }
});

describe('/inspect token', () => {
  it('without the token a client is refused; wsUrl carries it', async () => {
    const inspector = await open({ token: true });
    const url = new URL(inspector.wsUrl);
    const token = url.searchParams.get('token');
    expect(token).toMatch(/^[\w-]{20,}$/);
    const bare = new WebSocket(`${url.origin}${url.pathname}`);
    expect(((await once(bare, 'error')) as [Error])[0].message).toMatch(/403/);
    const wrong = new WebSocket(`${url.origin}${url.pathname}?token=${token!.slice(1)}x`);
    expect(((await once(wrong, 'error')) as [Error])[0].message).toMatch(/403/);
    const right = new WebSocket(inspector.wsUrl);
    await once(right, 'open');
    right.close();
    // The page's own /ws is not affected (it is same-origin only).
    const page = new WebSocket(new URL('ws', inspector.url).href.replace(/^http/, 'ws'));
    await once(page, 'open');
    page.close();
    expect((await open({ token: 'fixed' })).wsUrl).toMatch(/\/inspect\?token=fixed$/);
    await expect(createInspector({ token: '' })).rejects.toThrow(/token/);
  });

  it('without a token, any client without an Origin and any loopback origin may feed /inspect (documented)', async () => {
    const inspector = await open();
    for (const origin of [undefined, 'http://localhost:5173', 'http://127.0.0.1:9']) {
      const ws = new WebSocket(inspector.wsUrl, origin ? { origin } : {});
      await once(ws, 'open');
      ws.close();
    }
    const foreign = new WebSocket(inspector.wsUrl, { origin: 'http://evil.example' });
    expect(((await once(foreign, 'error')) as [Error])[0].message).toMatch(/403/);
  });
});
