// A user's handler bug that 100% coverage cannot see, caught by path.test's oracle (issue 19): a
// memcached-like handler whose lookup-failure branch replies `VALUE one` and hangs up instead of
// `END`. Both the correct and the buggy handler are walked by createTestModel and every path runs
// over loopback against a real ConnectedServer; expectations written from the protocol (not from
// the machine) pass every path of the correct handler and fail the buggy one, naming the step and
// the broken expectation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emit, enqueueActions, fromPromise, setup } from 'xstate';
import { ConnectedServer, box, defineComponent, isShutdownRequest, producerFinished, run, socketShutdown, type InboxEvent, type OutboxEvent, type SignalMessage } from 'kamaelia-xstate';
import { createTestModel, rawClient, watchActors, type LoopbackConnection, type PathTestParams, type TestModel, type TestPath } from 'kamaelia-xstate/testing';

type In = { inbox: Uint8Array; control: SignalMessage };
type Out = { outbox: string; signal: SignalMessage };
type Line = { type: 'line'; text: string };

const STORE = new Map([['one', '1']]);
/** Holds lookups while a path has the connection go away during one (it must not answer first). */
let holdLookup = false;

/** `get <key>` looks the key up (async, may fail); `quit` ends. `buggy`: the miss branch is wrong. */
function memcachedMachine(buggy: boolean) {
  const miss = buggy
    ? [{ type: 'reply' as const, params: 'VALUE one 0 1\r\n1\r\nEND' }, { type: 'hangUp' as const }]
    : [{ type: 'reply' as const, params: 'END' }];
  return setup({
    types: {} as { context: { buffer: string }; events: InboxEvent<In> | Line; emitted: OutboxEvent<Out> },
    actors: {
      lookup: fromPromise<string, string>(async ({ input }) => {
        if (holdLookup) await new Promise(() => undefined);
        const value = STORE.get(input);
        if (value === undefined) throw new Error(`no key ${input}`);
        return value;
      }),
    },
    guards: { says: ({ event }, verb: string) => event.type === 'line' && event.text.startsWith(verb) },
    actions: {
      splitLines: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'inbox') return;
        const lines = (context.buffer + Buffer.from(event.data).toString('latin1')).split('\r\n');
        enqueue.assign({ buffer: lines.pop() ?? '' });
        for (const text of lines) enqueue.raise({ type: 'line', text });
      }),
      reply: emit((_, text: string) => ({ type: 'outbox' as const, data: `${text}\r\n` })),
      hangUp: emit({ type: 'signal' as const, data: producerFinished() }),
    },
  }).createMachine({
    id: buggy ? 'memcachedBuggy' : 'memcached',
    context: { buffer: '' },
    on: {
      inbox: { actions: 'splitLines' },
      control: { guard: ({ event }) => isShutdownRequest(event.data), target: '.closed' },
    },
    initial: 'ready',
    states: {
      ready: {
        on: {
          line: [
            { guard: { type: 'says', params: 'get ' }, target: 'looking' },
            { guard: { type: 'says', params: 'quit' }, target: 'closed', actions: 'hangUp' },
            { actions: { type: 'reply', params: 'ERROR' } },
          ],
        },
      },
      looking: {
        invoke: {
          src: 'lookup',
          id: 'lookup',
          input: ({ event }) => (event as Line).text.slice(4),
          onDone: { target: 'ready', actions: { type: 'reply', params: 'VALUE one 0 1\r\n1\r\nEND' } },
          onError: buggy ? { target: 'closed', actions: miss } : { target: 'ready', actions: miss },
        },
      },
      closed: { type: 'final' },
    },
  });
}

const line = (text: string) => ({ type: 'inbox', data: Buffer.from(`${text}\r\n`) });
const modelOf = (buggy: boolean): TestModel =>
  createTestModel(memcachedMachine(buggy), {
    internalEvents: ['line'],
    events: [line('get one'), line('quit'), line('stats'), { type: 'control', data: socketShutdown() }],
  });

interface Served {
  readonly port: number;
  readonly handlers: ReturnType<typeof watchActors>;
  stop(): void;
}

async function serve(buggy: boolean): Promise<Served> {
  const machine = memcachedMachine(buggy);
  const handlers = watchActors(machine);
  const Handler = () =>
    defineComponent({ name: 'Memcached', inboxes: { inbox: box<Uint8Array>(), control: box<SignalMessage>() }, outboxes: { outbox: box<string>(), signal: box<SignalMessage>() }, logic: machine });
  const server = run(ConnectedServer({ host: '127.0.0.1', port: 0, protocol: () => Handler() }), { inspect: handlers.inspect });
  const { port } = (await server.next('listening')) as { port: number };
  return { port, handlers, stop: () => server.stop() };
}

/** The protocol's expectations, from memcached's text protocol, not from either machine. */
function protocol(client: () => LoopbackConnection): Pick<PathTestParams, 'expect' | 'invariants'> {
  const replies = (outputs: Readonly<Record<string, readonly unknown[]>>): string[] => (outputs.outbox ?? []) as string[];
  return {
    expect: {
      // A miss is END alone, and the connection stays open for the next command.
      'lookup fails': ({ outputs }) => {
        expect(replies(outputs).at(-1), 'a missing key is answered END').toBe('END\r\n');
        expect(outputs.signal ?? [], 'a miss does not end the connection').toHaveLength(0);
      },
      'xstate.done.actor.lookup': ({ outputs }) => expect(replies(outputs).at(-1)).toMatch(/^VALUE one 0 1\r\n1\r\nEND\r\n$/),
    },
    invariants: {
      // Only quit or the connection going away ends a session.
      'ends only on quit or shutdown': ({ path, index, outputs }) => {
        const ended = (outputs.signal ?? []).length > 0;
        const asked = path.steps.slice(0, index + 1).some((step) => step.name === 'control' || String((step.event as { data?: unknown }).data ?? '').includes('quit'));
        if (ended) expect(asked, 'the handler hung up unasked').toBe(true);
      },
      'the wire has every reply': async ({ outputs }) => {
        const text = replies(outputs).join('');
        if (text) await client().waitForText(text, 1000);
      },
    },
  };
}

async function runPathOver(path: TestPath, served: Served): Promise<void> {
  let client: LoopbackConnection | undefined;
  try {
    await path.test({
      start: async () => {
        client = await rawClient(served.port);
        return served.handlers.next();
      },
      events: {
        inbox: (step, index) => {
          const text = Buffer.from(step.event.data as Uint8Array).toString('latin1');
          // The real store decides: ask for a key it does not have when the path says the lookup fails.
          holdLookup = path.steps[index + 1]?.name === 'control';
          client!.write(path.steps[index + 1]?.name === 'xstate.error.actor.lookup' ? text.replace('one', 'two') : text);
        },
        'xstate.done.actor.lookup': () => undefined,
        'xstate.error.actor.lookup': () => undefined,
        control: () => client!.reset(),
      },
      ...protocol(() => client!),
    });
  } finally {
    client?.reset();
  }
}

describe('a memcached-like handler', () => {
  let correct: Served;
  let buggy: Served;
  beforeAll(async () => {
    correct = await serve(false);
    buggy = await serve(true);
  });
  afterAll(() => {
    correct.stop();
    buggy.stop();
  });

  it('passes every shortest, simple and transition path when it is right', async () => {
    const model = modelOf(false);
    const paths = [...model.getShortestPaths(), ...model.getSimplePaths({ maxDepth: 4 }), ...model.getTransitionPaths()];
    for (const path of paths) await runPathOver(path, correct);
    expect(paths.length).toBeGreaterThan(5);
  });

  it("fails the path through the buggy lookup-failure branch, naming the step and the broken expectation", async () => {
    const model = modelOf(true);
    // The walk alone covers the buggy machine fully: coverage cannot see the bug.
    expect(model.getCoverage({ walked: true }).machines[0]!.transitions.uncovered).toEqual([]);
    const [path] = model.getPathsFromEvents([line('get one'), { type: 'xstate.error.actor.lookup' }]);
    expect(path!.steps.map((step) => step.description)).toEqual(['inbox "get one"', 'lookup fails']);
    await expect(runPathOver(path!, buggy)).rejects.toThrow(/expect\["lookup fails"\] failed after step 2 "lookup fails": a missing key is answered END/);
    const failures: string[] = [];
    for (const each of model.getTransitionPaths()) await runPathOver(each, buggy).catch((error: Error) => failures.push(error.message));
    expect(failures.length).toBeGreaterThan(0);
    expect(failures.every((message) => message.includes('"lookup fails"'))).toBe(true);
  });
});
