// Statecharts from XState's own machine definitions (inspector/machineDefinition.ts on the server,
// inspector/page/statechart.js on the page), run in Node with the real elkjs: our machines and a
// user's machine with nested and parallel states, delays, invocations and #id targets.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { createMachine, fromPromise, setup } from 'xstate';
import { connectedSocketAdapterMachine, tcpClientMachine } from 'kamaelia-xstate/machines';
import { machineDefinitionOf } from '../inspector/machineDefinition.js';
import { activeIds, chartOf, elkChart, stateIdOf, valueText, type Chart, type ElkChartGraph } from '../inspector/page/statechart.js';

interface LaidOut {
  id: string;
  x?: number;
  y?: number;
  width?: number;
  height?: number;
  children?: LaidOut[];
  edges?: { id: string; sections?: unknown[]; labels?: { text: string; x?: number }[] }[];
}
const ELK = createRequire(import.meta.url)('elkjs/lib/elk.bundled.js') as new () => { layout(graph: ElkChartGraph): Promise<LaidOut> };

function chartFor(machine: object): Chart {
  const chart = chartOf(machineDefinitionOf(machine));
  expect(chart).not.toBeNull();
  return chart!;
}

/** `source -> target : label` for every transition with a target, for readable expectations. */
function edges(chart: Chart): string[] {
  return [...chart.nodes.values()].flatMap((node) => node.transitions.flatMap((t) => t.targets.map((target) => `${node.id || '(root)'} -> ${target} : ${t.label}`)));
}

describe('statechart from a machine definition', () => {
  it("draws the socket adapter's machine: states, transitions by event and delays", () => {
    const chart = chartFor(connectedSocketAdapterMachine);
    expect(chart.id).toBe('ConnectedSocketAdapter');
    expect([...chart.nodes.keys()]).toEqual(['', 'connected', 'upgradingTls', 'flushing', 'closed']);
    expect(chart.nodes.get('closed')!.type).toBe('final');
    const all = edges(chart);
    expect(all).toContain('connected -> upgradingTls : socket.upgrading');
    expect(all).toContain('upgradingTls -> connected : socket.secure');
    // `.closed` on the machine itself targets its child; `control` is guarded.
    expect(all).toContain('(root) -> closed : socket.closed');
    expect(all).toContain('(root) -> flushing : control [isProducerFinished]');
    // Its timeouts are events from its I/O's timers (not XState delays): one that only runs actions.
    expect(chart.nodes.get('flushing')!.transitions.find((t) => t.label === 'csa.closeTimeout')).toMatchObject({ targets: [] });
  });

  it('marks delayed transitions, also when they only run actions', () => {
    const machine = createMachine({ id: 'pinger', initial: 'waiting', states: { waiting: { after: { 250: { actions: () => {} } } } } });
    const delayed = chartFor(machine).nodes.get('waiting')!.transitions.find((t) => t.kind === 'delayed');
    expect(delayed).toMatchObject({ label: 'after 250 ms', targets: [] });
  });

  it("resolves the client's states, marks its invocation, and the active states of a compound value", () => {
    const chart = chartFor(tcpClientMachine);
    expect(chart.nodes.get('connecting')!.invokes.map((invoke) => invoke.src)).toEqual(['connector']);
    // The client's `open` is one state: the connection's own lifecycle is its CSA's chart.
    expect(chart.nodes.get('open')!.type).toBe('atomic');
    expect(edges(chart)).toContain('delaying -> connecting : after connectDelay');
    const nested = createMachine({ id: 'nested', initial: 'open', states: { open: { initial: 'connected', states: { connected: {}, upgradingTls: {} } } } });
    const nestedChart = chartFor(nested);
    expect(nestedChart.nodes.get('open')!.type).toBe('compound');
    expect(nestedChart.nodes.get('open')!.initial).toBe('connected');
    expect([...activeIds(nestedChart, { open: 'upgradingTls' })]).toEqual(['', 'open', 'open.upgradingTls']);
    expect(valueText({ open: 'upgradingTls' })).toBe('open.upgradingTls');
  });

  it("handles a user's machine: parallel regions, #id targets, eventless, done and error transitions", () => {
    const machine = setup({ actors: { motor: fromPromise(async () => undefined) }, guards: { ready: () => true } }).createMachine({
      id: 'door',
      type: 'parallel',
      states: {
        lock: { initial: 'locked', states: { locked: { on: { unlock: 'unlocked' } }, unlocked: { after: { 1500: 'locked' }, on: { reset: '#door.position.shut' } } } },
        position: {
          initial: 'shut',
          states: {
            shut: { on: { open: { target: 'opening', guard: 'ready' } } },
            opening: { invoke: { src: 'motor', id: 'm', onDone: 'open', onError: '#jam' } },
            open: { always: { target: 'shut', guard: 'ready' } },
            jammed: { id: 'jam', type: 'final' },
          },
          onDone: { target: '.shut' },
        },
      },
    });
    const chart = chartFor(machine);
    expect(chart.root.type).toBe('parallel');
    const all = edges(chart);
    expect(all).toEqual(
      expect.arrayContaining([
        'lock.unlocked -> lock.locked : after 1500 ms',
        'lock.unlocked -> position.shut : reset',
        'position.shut -> position.opening : open [ready]',
        'position.opening -> position.open : done: m',
        'position.opening -> position.jammed : error: m',
        'position.open -> position.shut : always [ready]',
        'position -> position.shut : done',
      ]),
    );
    expect(chart.nodes.get('position.opening')!.invokes).toEqual([{ src: 'motor', id: 'm' }]);
    // Both regions are active at once.
    expect([...activeIds(chart, { lock: 'unlocked', position: 'opening' })].sort()).toEqual(['', 'lock', 'lock.unlocked', 'position', 'position.opening']);
  });

  it('is laid out by elkjs: every state gets a box, every transition a routed, labelled edge', async () => {
    for (const machine of [connectedSocketAdapterMachine, tcpClientMachine]) {
      const chart = chartFor(machine);
      const laidOut = await new ELK().layout(elkChart(chart));
      const boxes = new Map<string, LaidOut>();
      const walk = (node: LaidOut): void => {
        const id = stateIdOf(node.id);
        if (id !== null) boxes.set(id, node);
        for (const child of node.children ?? []) walk(child);
      };
      for (const node of laidOut.children ?? []) walk(node);
      expect([...boxes.keys()].sort()).toEqual([...chart.nodes.keys()].sort());
      for (const box of boxes.values()) expect(box.width).toBeGreaterThan(0);
      const transitions = (laidOut.edges ?? []).filter((edge) => edge.id.startsWith('t:'));
      expect(transitions.length).toBe(edges(chart).length);
      for (const edge of transitions) {
        expect(edge.sections?.length, edge.id).toBeGreaterThan(0);
        expect(edge.labels?.[0]?.x, edge.id).toBeTypeOf('number');
      }
    }
  });

  it('gives no chart for logic that is not a state machine, and survives odd configs', () => {
    expect(machineDefinitionOf(fromPromise(async () => 1))).toBeUndefined();
    expect(chartOf({ id: 'x' })).not.toBeNull(); // a machine with no states is one atomic state
    expect(chartOf(null)).toBeNull();
    const odd = chartOf({ id: 'odd', initial: 'a', states: { a: { on: { go: ['nowhere', { target: 42 }], stay: {} } } } });
    expect(odd!.nodes.get('a')!.transitions.map((t) => t.targets)).toEqual([[], [], []]);
    // A cycle or a function in a config does not break the definition.
    const cyclic: Record<string, unknown> = { id: 'c', initial: 'a', states: { a: {} } };
    (cyclic.states as Record<string, unknown>).self = cyclic;
    expect(machineDefinitionOf({ config: cyclic, root: {} })).toMatchObject({ states: { self: '…' } });
    const definition = machineDefinitionOf(createMachine({ id: 'c', context: () => ({ n: 1 }), initial: 'a', states: { a: { entry: () => undefined } } })) as { context: unknown };
    expect(definition.context).toEqual({ type: 'context' });
  });
});

describe('a definition cut short by @statelyai/inspect (serializationDepthLimit)', () => {
  it('is detected, and its cut transitions are drawn without a target, not as self-loops', async () => {
    const { truncatedPaths } = await import('../inspector/page/stately.js');
    const cut = {
      id: 'amp',
      initial: 'on',
      states: { on: { initial: 'loud', states: { loud: { on: { quieter: '[Object]' } }, normal: {} } } },
    };
    expect(truncatedPaths(cut)).toEqual(['states.on.states.loud.on.quieter']);
    expect(truncatedPaths({ id: 'whole', states: { a: { on: { go: { target: 'b' } } }, b: {} } })).toEqual([]);
    const chart = chartOf(cut)!;
    const transition = chart.nodes.get('on.loud')!.transitions[0]!;
    expect(transition.label).toBe('quieter → ? (cut short)');
    expect(transition.targets).toEqual([]);
  });
});
