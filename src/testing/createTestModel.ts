// createTestModel: xstate/graph's TestModel interface over a walk of the REAL machine (its `after`
// timers and its actors' outcomes are steps). Paths come from the walk; path.test() runs one
// against the real component and checks its state after every step.
import type { AnyEventObject, AnyMachineSnapshot, AnyStateMachine, EventObject } from 'xstate';
import { computeCoverage, type Coverage } from './coverage.js';
import { libraryDefaults } from './libraryMachines.js';
import { runPath, type PathContext, type TestPath, type TestStep } from './runPath.js';
import type { StubHandle, StubReaction, WalkAction } from './stubActors.js';
import { valueName } from './stateValueKeys.js';
import { walk, type WalkEdge, type WalkGraph, type WalkNode } from './walk.js';

export type { StepCause } from './walk.js';
export type { TestPath, TestStep } from './runPath.js';

/** How the walk's stand-in for one actor (or one I/O provided as actions) behaves. */
export interface ActorStubOptions {
  /**
   * The event types it sends its parent. Default: the parent's events whose prefix before the first
   * dot begins the actor's name or id (`socket.closed` for `socket`).
   */
  readonly sends?: readonly string[];
  /** What it completes with (its done step's output). Default: undefined. */
  readonly output?: unknown;
  /** Named steps it can take besides sending events (each gets the stub: its input, what it received, sendBack). Default: none. */
  readonly effects?: Readonly<Record<string, (stub: StubHandle) => void>>;
  /** What it does at once when its parent sends it an event, or right after it sent one (its contract: an abort is answered by a close). Default: nothing. */
  readonly react?: StubReaction;
  /** Whether it can send `event` now, given what it sent and received so far (its contract). Default: always. */
  readonly can?: (event: EventObject, stub: StubHandle) => boolean;
  /** Its part of the state key: what it has done that matters for what it can do next. Default: nothing. */
  readonly key?: (stub: StubHandle) => string;
  /** Makes this an I/O stub for I/O provided as actions: the named actions are its commands. */
  readonly actions?: readonly string[];
  /** Runs the real actor instead of a stub. Default: false. */
  readonly real?: boolean;
}

/** Options for createTestModel; every one is optional. */
export interface TestModelOptions {
  /** The machine's input. Default: for the library's machines a typical input, otherwise undefined. */
  readonly input?: unknown;
  /**
   * Sample events with payloads. The samples of a type replace the default `{ type }` for that
   * type. Default: `{ type }` per event type; for the library's own machines (TCPClient, CSA,
   * TCPServer) their vocabulary's samples (each control message and a garbage one, a chunk of
   * bytes, ...). A function gets the current snapshot.
   */
  readonly events?: readonly AnyEventObject[] | ((state: AnyMachineSnapshot) => readonly AnyEventObject[]);
  /**
   * Per actor, by its name in setup({ actors }), or per I/O stub (a name of your choice with
   * `actions`): how the walk's stand-in for it behaves. Default: for the library's machines, their
   * I/O's contracts; otherwise stubs that may send any of their events at any time.
   */
  readonly actors?: Readonly<Record<string, ActorStubOptions>>;
  /**
   * Replacements for actions during the walk (by name, at every machine level that has the
   * action), e.g. no-ops for routing or flow control the walk does not need, or timers on the
   * walk's clock (`args.clock`: a timer that fires is an `after` step). Default: for the library's
   * machines, their routing and timers; otherwise none.
   */
  readonly actions?: Readonly<Record<string, WalkAction>>;
  /** Event types the machine raises itself (e.g. a delayed raise): never sent from outside. Default: none (for the library's machines, theirs). */
  readonly internalEvents?: readonly string[];
  /** Leaves out steps by name (event type) or description. Default: none. */
  readonly omit?: readonly string[];
  /** Keeps only the steps it returns true for (after `omit`). Default: all. */
  readonly filter?: (step: TestStep, from: AnyMachineSnapshot) => boolean;
  /**
   * When two snapshots are the same state. Default: status, state value, context with numbers by
   * sign (0, positive, negative) except those a guard of the machine reads (kept exactly: a
   * "three bad commands" guard sees 1, 2, 3), and the children's states the same way. Extend it
   * with `defaultSerializeState`.
   */
  readonly serializeState?: (state: AnyMachineSnapshot) => string;
  /** The walk stops with an error past this many distinct states. Default: 1000. */
  readonly maxStates?: number;
  /** Called with each stub as it starts (advanced: model what a real actor keeps in its parent's context). */
  readonly onStub?: (stub: StubHandle) => void;
}

/** Options for getShortestPaths / getSimplePaths / getTransitionPaths / getPathsFromEvents. */
export interface PathOptions {
  /** Only paths ending in states this accepts. Default: all. */
  readonly toState?: (state: AnyMachineSnapshot) => boolean;
  /**
   * Paths from this walked state (a `state` of a path or step, or one of `states`) instead of the
   * initial one, as xstate/graph's `fromState`. Their `steps` start there; their `test()` first takes
   * the shortest way to it (its steps caused by the same handlers). Default: the initial state.
   */
  readonly fromState?: AnyMachineSnapshot;
  /** Keep paths that are the start of a longer returned path. Default: false (as xstate/graph). */
  readonly allowDuplicatePaths?: boolean;
}

export interface SimplePathOptions extends PathOptions {
  /** Simple paths longer than this are not followed. Default: unbounded. */
  readonly maxDepth?: number;
  /** More simple paths than this is an error (bound them with maxDepth or toState). Default: 10000. */
  readonly maxPaths?: number;
}

/** xstate/graph's adjacency map shape: per serialized state, the state and its transitions by serialized event. */
export type AdjacencyMap = Record<string, { readonly state: AnyMachineSnapshot; readonly transitions: Record<string, { readonly event: EventObject; readonly state: AnyMachineSnapshot }> }>;

/** How xstate/graph names an event in an adjacency map: its JSON. */
export function serializeEvent(event: EventObject): string {
  return JSON.stringify(event);
}

/** A walked machine: its paths (xstate/graph's interface), its states, and the coverage of the paths run so far. */
export interface TestModel {
  readonly machine: AnyStateMachine;
  /** One path per reachable state: the shortest. */
  getShortestPaths(options?: PathOptions): TestPath[];
  /** Every path that visits no state twice. */
  getSimplePaths(options?: SimplePathOptions): TestPath[];
  /** One path per step the walk found (shortest way to its source, then the step): covers every transition the walk took. */
  getTransitionPaths(options?: PathOptions): TestPath[];
  /** For each of `paths`, it followed by each shortest path from where it ends (xstate/graph's getShortestPathsFrom). */
  getShortestPathsFrom(paths: readonly TestPath[], options?: PathOptions): TestPath[];
  /** For each of `paths`, it followed by each simple path from where it ends (xstate/graph's getSimplePathsFrom). */
  getSimplePathsFrom(paths: readonly TestPath[], options?: SimplePathOptions): TestPath[];
  /**
   * The one path that takes `events` in order (xstate/graph's getPathsFromEvents); `[]` when
   * `toState` rejects where it ends. An event matches a step whose event serializes the same
   * (serializeEvent), else the first step of that event type, else the first step whose description
   * or name is its type (`{ type: 'after drainTimeout' }`, `{ type: 'listener: a connection opens' }`).
   * Throws naming the state and event when no step from the state takes it.
   */
  getPathsFromEvents(events: readonly EventObject[], options?: PathOptions): TestPath[];
  /** The walk as xstate/graph's adjacency map: per serialized state, its snapshot and, per serialized event, the next snapshot. */
  getAdjacencyMap(): AdjacencyMap;
  /** Every distinct state the walk reached. */
  readonly states: readonly AnyMachineSnapshot[];
  /** Coverage of the paths whose test() passed so far (`walked: true`: of everything the walk found). */
  getCoverage(options?: { walked?: boolean }): Coverage;
}

/** Drops paths that are the start of another path in the list. */
function withoutPrefixes(paths: WalkEdge[][]): WalkEdge[][] {
  const ids = new Map<WalkEdge, number>();
  const keyOf = (edges: readonly WalkEdge[]): string =>
    edges.map((edge) => ids.get(edge) ?? (ids.set(edge, ids.size), ids.size - 1)).join(',');
  const prefixes = new Set<string>();
  for (const path of paths) for (let length = 0; length < path.length; length++) prefixes.add(keyOf(path.slice(0, length)));
  return paths.filter((path) => !prefixes.has(keyOf(path)));
}

/**
 * Walks `machine` (the real one: its `after` delays and its actors' outcomes are steps) and returns
 * a TestModel with xstate/graph's interface. Actors are stubbed (machines run with their own
 * actors stubbed); timers run on a simulated clock. Throws if the walk exceeds `maxStates`.
 */
export function createTestModel(machine: AnyStateMachine, options: TestModelOptions = {}): TestModel {
  const defaults = libraryDefaults(machine);
  const omit = new Set(options.omit ?? []);
  const actorOptions = options.actors ?? {};
  const samples = (type: string, snapshot: AnyMachineSnapshot): readonly EventObject[] => {
    const given = typeof options.events === 'function' ? options.events(snapshot) : (options.events ?? []);
    const ofType = given.filter((event) => event.type === type);
    if (ofType.length > 0) return ofType;
    return defaults.samples(type) ?? [{ type }];
  };
  const toTestStep = (edge: WalkEdge): TestStep => ({ ...edge.step, state: edge.snapshot });
  const graph: WalkGraph = walk(machine, {
    input: 'input' in options ? options.input : defaults.input,
    samples,
    actorEvents: (src) => actorOptions[src]?.sends ?? defaults.actorEvents(src),
    actorOutput: (src) => actorOptions[src]?.output,
    actorCan: (src) => actorOptions[src]?.can ?? defaults.actorCan(src),
    actorReactions: (src) => actorOptions[src]?.react ?? defaults.actorReactions(src),
    actorEffects: (src) => ({ ...defaults.actorEffects(src), ...actorOptions[src]?.effects }),
    plan: {
      keep: new Set(Object.entries(actorOptions).filter(([, settings]) => settings.real).map(([name]) => name)),
      io: {
        ...defaults.io,
        ...Object.fromEntries(Object.entries(actorOptions).flatMap(([name, settings]) => (settings.actions ? [[name, settings.actions]] : []))),
      },
      actions: { ...defaults.actions, ...options.actions },
    },
    internalEvents: new Set([...defaults.internalEvents, ...(options.internalEvents ?? [])]),
    actorKey: (src) => actorOptions[src]?.key ?? defaults.actorKey(src),
    accept: (step, from) => {
      if (omit.has(step.name) || omit.has(step.description)) return false;
      return options.filter ? options.filter({ ...step, state: from }, from) : true;
    },
    stateKey: options.serializeState ?? defaults.serializeState,
    maxStates: options.maxStates ?? 1000,
    onStub: options.onStub ?? defaults.onStub,
  });

  /** Adds the initial states and what `edges` pass through to the two sets. */
  const addCovered = (edges: readonly WalkEdge[], states: Set<string>, transitions: Set<string>): void => {
    for (const id of graph.initialStates) states.add(id);
    for (const key of graph.initialTransitions) transitions.add(key);
    for (const edge of edges) {
      for (const id of edge.states) states.add(id);
      for (const key of edge.transitions) transitions.add(key);
    }
  };
  const endOf = (edges: readonly WalkEdge[]) => (edges.length ? edges[edges.length - 1]!.snapshot : graph.initial.snapshot);

  const pathContext: PathContext = {
    initial: graph.initial.snapshot,
    initialEmitted: graph.initialEmitted,
    emittedBoxes: new Set([...graph.initialEmitted, ...graph.edges.flatMap((edge) => edge.step.emitted)].map((event) => event.type)),
  };

  const coveredStates = new Set<string>();
  const coveredTransitions = new Set<string>();
  const record = (edges: readonly WalkEdge[]): void => addCovered(edges, coveredStates, coveredTransitions);

  // The full edges (from the initial state) of every path handed out, for the *From methods.
  const fullEdges = new WeakMap<TestPath, readonly WalkEdge[]>();
  /** A path of `edges` after `prefix` (edges from the initial state to where `edges` start; not among its steps, but taken by test()). */
  const toTestPath = (edges: readonly WalkEdge[], prefix: readonly WalkEdge[] = []): TestPath => {
    const all = [...prefix, ...edges];
    const end = endOf(all);
    const steps = edges.map(toTestStep);
    const status = end.status === 'active' ? '' : ` (${end.status})`;
    const from = prefix.length ? ` from ${valueName(endOf(prefix).value)}` : '';
    const description = `reaches ${valueName(end.value)}${status}${from}${steps.length ? `: ${steps.map((s) => s.description).join(' → ')}` : ' (initial state)'}`;
    const path: TestPath = {
      state: end,
      steps,
      weight: steps.length,
      description,
      test: async (params = {}) => {
        // A path from another state runs from the initial one: the way there first.
        const target = prefix.length ? { ...path, steps: all.map(toTestStep), weight: all.length } : path;
        const result = await runPath(target, pathContext, params);
        record(all);
        return result;
      },
    };
    fullEdges.set(path, all);
    return path;
  };

  const select = (paths: WalkEdge[][], pathOptions: PathOptions, prefix: readonly WalkEdge[] = []): TestPath[] => {
    const accepted = pathOptions.toState ? paths.filter((edges) => pathOptions.toState!(endOf([...prefix, ...edges]))) : paths;
    return (pathOptions.allowDuplicatePaths ? accepted : withoutPrefixes(accepted)).map((edges) => toTestPath(edges, prefix));
  };

  const nodes = [...graph.nodes.values()];
  const outgoing = new Map<string, WalkEdge[]>();
  for (const edge of graph.edges) outgoing.set(edge.from, [...(outgoing.get(edge.from) ?? []), edge]);
  // Which walked state a snapshot handed out is (paths' and steps' states are the walk's own objects).
  const nodeOf = new Map<AnyMachineSnapshot, string>([[graph.initial.snapshot, graph.initial.key]]);
  for (const node of nodes) nodeOf.set(node.snapshot, node.key);
  for (const edge of graph.edges) nodeOf.set(edge.snapshot, edge.to);
  const startOf = (pathOptions: PathOptions): WalkNode => {
    if (!pathOptions.fromState) return graph.initial;
    const key = nodeOf.get(pathOptions.fromState);
    if (key === undefined) throw new Error('createTestModel: fromState is not a state of this model (pass a path\'s or step\'s state, or one of model.states)');
    return graph.nodes.get(key)!;
  };
  /** Shortest ways from `start` to every state reachable from it. */
  const shortestFrom = (start: WalkNode): WalkEdge[][] => {
    if (start === graph.initial) return nodes.map((node) => [...node.via]);
    const via = new Map<string, WalkEdge[]>([[start.key, []]]);
    const queue = [start.key];
    while (queue.length) {
      const key = queue.shift()!;
      for (const edge of outgoing.get(key) ?? []) {
        if (via.has(edge.to)) continue;
        via.set(edge.to, [...via.get(key)!, edge]);
        queue.push(edge.to);
      }
    }
    return [...via.values()];
  };
  const simpleFrom = (start: WalkNode, pathOptions: SimplePathOptions): WalkEdge[][] => {
    const maxPaths = pathOptions.maxPaths ?? 10_000;
    const maxDepth = pathOptions.maxDepth ?? Infinity;
    const paths: WalkEdge[][] = [[]];
    const visit = (node: WalkNode, trail: WalkEdge[], seen: Set<string>): void => {
      if (trail.length >= maxDepth) return;
      for (const edge of outgoing.get(node.key) ?? []) {
        if (edge.from === edge.to || seen.has(edge.to)) continue;
        const next = [...trail, edge];
        paths.push(next);
        if (paths.length > maxPaths) {
          throw new Error(`getSimplePaths: more than ${maxPaths} simple paths; bound them with maxDepth or toState, or raise maxPaths`);
        }
        seen.add(edge.to);
        visit(graph.nodes.get(edge.to)!, next, seen);
        seen.delete(edge.to);
      }
    };
    visit(start, [], new Set([start.key]));
    return paths;
  };
  const edgesOf = (path: TestPath): readonly WalkEdge[] => {
    const edges = fullEdges.get(path);
    if (!edges) throw new Error('createTestModel: that path is not one of this model\'s');
    return edges;
  };
  const getShortestPaths = (pathOptions: PathOptions = {}): TestPath[] => {
    const start = startOf(pathOptions);
    return select(shortestFrom(start), pathOptions, start.via);
  };
  const getSimplePaths = (pathOptions: SimplePathOptions = {}): TestPath[] => {
    const start = startOf(pathOptions);
    return select(simpleFrom(start, pathOptions), pathOptions, start.via);
  };
  const joined = (paths: readonly TestPath[], tails: (start: WalkNode) => WalkEdge[][], pathOptions: PathOptions): TestPath[] =>
    paths.flatMap((path) => {
      const head = edgesOf(path);
      const start = graph.nodes.get(head.length ? head[head.length - 1]!.to : graph.initial.key)!;
      return select(tails(start), pathOptions, head).map((tail) => toTestPath([...fullEdges.get(tail)!]));
    });

  return {
    machine,
    states: nodes.map((node) => node.snapshot),
    getShortestPaths,
    getSimplePaths,
    getTransitionPaths: (pathOptions = {}) => {
      const start = startOf(pathOptions);
      const reach = new Map(shortestFrom(start).map((edges) => [edges.length ? edges[edges.length - 1]!.to : start.key, edges]));
      const paths = graph.edges.filter((edge) => reach.has(edge.from)).map((edge) => [...reach.get(edge.from)!, edge]);
      return select(paths, pathOptions, start.via);
    },
    getShortestPathsFrom: (paths, pathOptions = {}) => joined(paths, shortestFrom, pathOptions),
    getSimplePathsFrom: (paths, pathOptions = {}) => joined(paths, (start) => simpleFrom(start, pathOptions), pathOptions),
    getPathsFromEvents: (events, pathOptions = {}) => {
      let node = startOf(pathOptions);
      const taken: WalkEdge[] = [];
      for (const event of events) {
        const serial = serializeEvent(event);
        const from = outgoing.get(node.key) ?? [];
        const edge =
          from.find((candidate) => serializeEvent(candidate.step.event) === serial) ??
          from.find((candidate) => candidate.step.event.type === event.type) ??
          // Steps named as descriptions print them: `{ type: 'after drainTimeout' }`, `{ type: 'control (serverShutdown)' }`.
          from.find((candidate) => candidate.step.description === event.type || candidate.step.name === event.type);
        if (!edge) throw new Error(`Invalid transition from ${valueName(node.snapshot.value)} with ${serial} (the steps from there: ${from.map((e) => e.step.description).join('; ') || 'none'})`);
        taken.push(edge);
        node = graph.nodes.get(edge.to)!;
      }
      if (pathOptions.toState && !pathOptions.toState(node.snapshot)) return [];
      return [toTestPath(taken, startOf(pathOptions).via)];
    },
    getAdjacencyMap: () => {
      const map: AdjacencyMap = {};
      for (const node of [graph.initial, ...nodes]) map[node.key] ??= { state: node.snapshot, transitions: {} };
      for (const edge of graph.edges) {
        const transitions = map[edge.from]!.transitions;
        const serial = serializeEvent(edge.step.event);
        // Two steps with the same event (from different actors) are told apart by description.
        transitions[serial in transitions ? `${serial} (${edge.step.description})` : serial] = { event: edge.step.event, state: edge.snapshot };
      }
      return map;
    },
  getCoverage: ({ walked = false } = {}) => {
      if (!walked) return computeCoverage(graph.machines, coveredStates, coveredTransitions);
      const states = new Set<string>();
      const transitions = new Set<string>();
      addCovered(graph.edges, states, transitions);
      return computeCoverage(graph.machines, states, transitions);
    },
  };
}
