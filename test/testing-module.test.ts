// kamaelia-xstate/testing's own behaviour on small user machines (issue 19): state keys for
// parallel states, numbers a guard reads, a throwing guard or action, `always` pass-through
// coverage, the default step timeout, library samples only for library machines, invariants and
// expectations naming what failed, output conformance, and xstate/graph parity.
import { describe, expect, it } from 'vitest';
import { assign, createActor, emit, setup, type AnyActorRef } from 'xstate';
import {
  adjacencyMapToArray,
  assertFullCoverage,
  createTestModel,
  defaultSerializeState,
  serializeEvent,
  toDirectedGraph,
  watchActors,
  type TestPath,
} from 'kamaelia-xstate/testing';

const parallel = setup({}).createMachine({
  id: 'session',
  initial: 'open',
  states: {
    open: {
      type: 'parallel',
      states: {
        auth: { initial: 'guest', states: { guest: { on: { login: 'authed' } }, authed: {} } },
        proto: { initial: 'idle', states: { idle: { on: { busy: 'working' } }, working: { on: { done: 'idle' } } } },
      },
      on: { quit: '#session.closed' },
    },
    closed: { type: 'final' },
  },
});

const pathTo = (paths: TestPath[], description: RegExp): TestPath => {
  const found = paths.find((path) => description.test(path.description));
  if (!found) throw new Error(`no path ${description}: ${paths.map((path) => path.description).join('\n')}`);
  return found;
};

describe('path.test({ states }) keys', () => {
  it('match a parallel value as descriptions print it, each active node path, and a parent for its children', async () => {
    const model = createTestModel(parallel);
    const path = pathTo(model.getShortestPaths({ allowDuplicatePaths: true }), /^reaches open\.\{auth\.authed, proto\.idle\}/);
    const fired: string[] = [];
    const keys = ['open.{auth.authed, proto.idle}', 'open', 'open.auth.authed', 'open.proto', 'open.proto.idle', 'open.auth.guest', '*'];
    await path.test({ states: Object.fromEntries(keys.map((key) => [key, () => void fired.push(key)])) });
    // At the start (guest) and after login (authed).
    expect(fired.filter((key) => key === 'open.{auth.authed, proto.idle}')).toHaveLength(1);
    expect(fired.filter((key) => key === 'open')).toHaveLength(2);
    expect(fired.filter((key) => key === 'open.auth.guest')).toHaveLength(1);
    expect(fired.filter((key) => key === '*')).toHaveLength(2);
  });

  it('that name no state are an error', async () => {
    const [path] = createTestModel(parallel).getShortestPaths();
    await expect(path!.test({ states: { 'open.auth.admin': () => undefined } })).rejects.toThrow(/states\["open\.auth\.admin"\] names no state/);
  });
});

describe('the default state key', () => {
  const strikes = setup({ types: {} as { context: { bad: number; bytes: number } } }).createMachine({
    id: 'strikes',
    context: { bad: 0, bytes: 0 },
    initial: 'ready',
    states: {
      ready: {
        on: {
          garbage: [{ guard: ({ context }) => context.bad >= 2, target: 'closed' }, { actions: assign({ bad: ({ context }) => context.bad + 1 }) }],
          data: { actions: assign({ bytes: ({ context }) => context.bytes + 10 }) },
        },
      },
      closed: { type: 'final' },
    },
  });

  it('keeps the numbers a guard reads exactly (a three-strikes counter reaches its end) and others by sign', () => {
    const model = createTestModel(strikes);
    expect(model.states.map((state) => state.value)).toContain('closed');
    const closed = pathTo(model.getShortestPaths(), /^reaches closed/);
    expect(closed.steps.map((step) => step.name)).toEqual(['garbage', 'garbage', 'garbage']);
    // bytes grows without bound but is read by no guard: 0 or positive, so the walk stays finite.
    expect(model.states.length).toBeLessThan(10);
  });

  it('is exported to extend: defaultSerializeState keeps the named numbers exactly', () => {
    const actor = createActor(strikes).start();
    actor.send({ type: 'data' });
    actor.send({ type: 'garbage' });
    const key = JSON.parse(defaultSerializeState(actor.getSnapshot(), { exactNumbers: ['bad'] })) as { context: { bad: unknown; bytes: unknown } };
    expect(key.context).toEqual({ bad: 1, bytes: '+' });
  });
});

describe('a machine that throws during the walk', () => {
  it('stops the walk with an error naming the guard', () => {
    const machine = setup({ guards: { isAllowed: () => { throw new Error('lookup table missing'); } } }).createMachine({
      id: 'guarded',
      initial: 'a',
      states: { a: { on: { go: { guard: 'isAllowed', target: 'b' } } }, b: {} },
    });
    expect(() => createTestModel(machine)).toThrow(/guarded failed \(the root\) at "go".*guard 'isAllowed'.*lookup table missing/s);
  });

  it('stops the walk with an error naming the action', () => {
    const machine = setup({ actions: { record: () => { throw new Error('disk full'); } } }).createMachine({
      id: 'acting',
      initial: 'a',
      states: { a: { on: { go: { target: 'b', actions: 'record' } } }, b: {} },
    });
    expect(() => createTestModel(machine)).toThrow(/acting failed \(the root\) at "go".*action 'record' threw: disk full/s);
  });
});

describe('always', () => {
  const machine = setup({}).createMachine({
    id: 'greeter',
    initial: 'greeting',
    states: {
      greeting: { always: 'ready' },
      ready: { on: { again: 'greeting', quit: 'closed' } },
      closed: { type: 'final' },
    },
  });

  it('counts a pass-through state and its transition covered, in the walk and in the paths run', async () => {
    const model = createTestModel(machine);
    assertFullCoverage(model.getCoverage({ walked: true }));
    for (const path of model.getTransitionPaths()) await path.test();
    assertFullCoverage(model.getCoverage());
  });
});

describe('path.test timing out', () => {
  it('fails a stuck step with its own message well within the runner\'s default 5000 ms', async () => {
    const machine = setup({}).createMachine({ id: 'stuck', initial: 'a', states: { a: { on: { go: 'b' } }, b: {} } });
    const [path] = createTestModel(machine).getShortestPaths({ toState: (state) => state.value === 'b' });
    const started = Date.now();
    // The real actor is given the event it ignores: it never reaches b.
    await expect(path!.test({ start: () => createActor(machine).start(), events: { go: () => undefined } })).rejects.toThrow(/did not reach "b" within 2000 ms; it went through "a"/);
    expect(Date.now() - started).toBeLessThan(4000);
  });
});

describe('sample events', () => {
  it('of the library (control messages, garbage) are not given to a user machine that handles control', () => {
    const machine = setup({}).createMachine({ id: 'user', initial: 'a', states: { a: { on: { control: 'b' } }, b: {} } });
    const steps = createTestModel(machine).getTransitionPaths().flatMap((path) => path.steps.map((step) => step.description));
    expect(steps).toEqual(['control']);
  });
});

describe('invariants, expectations and output conformance', () => {
  type Emitted = { type: 'outbox'; data: string } | { type: 'signal'; data: { kind: string } };
  const counter = setup({ types: {} as { context: { n: number }; emitted: Emitted } }).createMachine({
    id: 'counter',
    context: { n: 0 },
    initial: 'counting',
    states: {
      counting: {
        on: {
          tick: { actions: [assign({ n: ({ context }) => context.n + 1 }), emit({ type: 'outbox', data: 'tick' })] },
          stop: { target: 'stopped', actions: emit({ type: 'signal', data: { kind: 'producerFinished' } }) },
        },
      },
      stopped: { type: 'final' },
    },
  });
  const model = createTestModel(counter, { events: [{ type: 'tick' }, { type: 'stop' }] });
  const path = pathTo(model.getShortestPaths(), /^reaches stopped/);

  it('run with the path, step, snapshot, real actor and outputs so far; a failure names the check, the step and the path', async () => {
    const seen: string[] = [];
    const passing = createActor(counter).start();
    await path.test({
      start: () => passing,
      events: { stop: () => passing.send({ type: 'stop' }) },
      invariants: { logged: ({ index, step, outputs, real }) => void seen.push(`${index}:${step?.name ?? 'start'}:${(outputs.signal ?? []).length}:${real === passing}`) },
      expect: { stop: ({ real, snapshot, outputs }) => expect([(real as AnyActorRef).getSnapshot().status, snapshot.status, outputs.signal]).toEqual(['done', 'done', [{ kind: 'producerFinished' }]]) },
    });
    expect(seen).toEqual(['-1:start:0:true', '0:stop:1:true']);

    const real = createActor(counter).start();
    const run = path.test({
      start: () => real,
      events: { stop: () => real.send({ type: 'stop' }) },
      expect: { stop: ({ outputs }) => expect(outputs.signal).toEqual([{ kind: 'shutdownMicroprocess' }]) },
    });
    await expect(run).rejects.toThrow(/expect\["stop"\] failed after step 1 "stop": .*\n {2}path: reaches stopped \(done\): stop/s);
    const broken = createActor(counter).start();
    await expect(path.test({ start: () => broken, events: { stop: () => broken.send({ type: 'stop' }) }, invariants: { never: () => { throw new Error('no'); } } })).rejects.toThrow(
      /invariant "never" failed at the start: no/,
    );
  });

  it('output conformance fails a real component that departs from its machine', async () => {
    // An implementation that says something else on signal than its machine.
    const real = createActor(
      setup({ types: {} as { emitted: Emitted } }).createMachine({ id: 'impostor', initial: 'counting', states: { counting: { on: { stop: { target: 'stopped', actions: emit({ type: 'signal', data: { kind: 'shutdownMicroprocess' } }) } } }, stopped: { type: 'final' } } }),
    ).start();
    await expect(
      path.test({
        start: () => real,
        events: { stop: () => real.send({ type: 'stop' }), tick: () => undefined },
        matches: (model, realState) => model.value === realState.value,
      }),
    ).rejects.toThrow(/output conformance failed after step 1 "stop": the machine emits \[signal:producerFinished\] but the real component put \[signal:shutdownMicroprocess\]/);
  });

  it('sees what a handler found by watchActors sent as it started', async () => {
    const greeter = setup({ types: {} as { emitted: Emitted } }).createMachine({ id: 'hello', entry: emit({ type: 'outbox', data: 'hi' }), initial: 'a', states: { a: {} } });
    const watch = watchActors(greeter);
    const actor = createActor(greeter, { inspect: watch.inspect }).start();
    const [only] = createTestModel(greeter).getShortestPaths();
    const result = await only!.test({ start: () => watch.next(), invariants: { greeted: ({ outputs }) => expect(outputs.outbox).toEqual(['hi']) } });
    expect(result.steps).toEqual([]);
    actor.stop();
  });
});

describe('xstate/graph parity', () => {
  const model = createTestModel(parallel);

  it('getPathsFromEvents follows events to one path, or none when toState rejects where it ends', () => {
    const [path] = model.getPathsFromEvents([{ type: 'login' }, { type: 'busy' }]);
    expect(path!.steps.map((step) => step.name)).toEqual(['login', 'busy']);
    expect(path!.state.value).toEqual({ open: { auth: 'authed', proto: 'working' } });
    expect(model.getPathsFromEvents([{ type: 'login' }], { toState: (state) => state.status === 'done' })).toEqual([]);
    expect(() => model.getPathsFromEvents([{ type: 'quit' }, { type: 'login' }])).toThrow(/Invalid transition from closed with \{"type":"login"\}/);
  });

  it('getShortestPaths({ fromState }) starts there; test() takes the way there first; the *From methods join paths', async () => {
    const [authed] = model.getPathsFromEvents([{ type: 'login' }]);
    const from = model.getShortestPaths({ fromState: authed!.state });
    expect(from.every((path) => path.steps[0]?.name !== 'login')).toBe(true);
    const toClosed = pathTo(from, /^reaches closed \(done\) from open/);
    expect(toClosed.steps.map((step) => step.name)).toEqual(['quit']);
    const taken: string[] = [];
    await toClosed.test({ events: { login: () => void taken.push('login'), quit: () => void taken.push('quit') } });
    expect(taken).toEqual(['login', 'quit']);
    const joined = model.getShortestPathsFrom([authed!]);
    expect(joined.every((path) => path.steps[0]?.name === 'login')).toBe(true);
    expect(model.getSimplePathsFrom([authed!]).length).toBeGreaterThanOrEqual(joined.length);
  });

  it('getAdjacencyMap, adjacencyMapToArray, serializeEvent and toDirectedGraph have xstate/graph\'s shapes', () => {
    const map = model.getAdjacencyMap();
    const initial = Object.values(map)[0]!;
    expect(initial.state.value).toEqual({ open: { auth: 'guest', proto: 'idle' } });
    expect(Object.keys(initial.transitions)).toContain(serializeEvent({ type: 'login' }));
    const list = adjacencyMapToArray(map);
    expect(list.some((entry) => entry.event.type === 'quit' && entry.nextState.status === 'done')).toBe(true);
    const graph = JSON.parse(JSON.stringify(toDirectedGraph(parallel))) as { id: string; children: { id: string }[] };
    expect(graph.id).toBe('session');
    expect(graph.children.map((child) => child.id)).toEqual(['session.open', 'session.closed']);
  });
});
