// Runs one path: the user's handler causes each step (e.g. "the peer sends RST"), and the real
// actor must then reach the step's state. The real actor is watched from the start, so a state it
// passes through quickly is still seen; states it passes through between two steps are allowed (the
// real thing is finer-grained than one step: a peer's FIN then close is one model step).
// Besides the state, each step is judged by checks that do not come from the machine (invariants,
// expectations: the oracle), and by output conformance: what the machine emits on the step must be
// what the real component put on its boxes.
import { isDeepStrictEqual } from 'node:util';
import type { AnyActorRef, AnyEventObject, AnyMachineSnapshot, EventObject } from 'xstate';
import { byBox, outputLabel, recordOutputs, type BoxMessage } from './outputs.js';
import { nodePaths, stateValueKeys } from './stateValueKeys.js';
import type { StepCause } from './walk.js';

/** One step of a path: what happened (`event`) and the state it led to (`state`). */
export interface TestStep {
  /** The event the receiving machine saw: an outside event, an actor's event, `xstate.after.*`, `xstate.done.actor.*`. */
  readonly event: AnyEventObject;
  /** The root machine's snapshot after the step; `state.value` is the machine's state value. */
  readonly state: AnyMachineSnapshot;
  /** How to name this step in `test({ events, expect })`: the event type. */
  readonly name: string;
  /** Human-readable: `control (producerFinished)`, `csa/socket sends socket.peerEnded`, `after closeTimeout`. */
  readonly description: string;
  /** What the walker did to cause it. */
  readonly cause: StepCause;
  /** Path of ids from the root to the machine that received `event` ('' for the root). */
  readonly receiver: string;
  /** What the root machine emitted on this step (its outbox sends, `{ type: box, data }`), in order. */
  readonly emitted: readonly EventObject[];
}

/** A path through the machine, runnable against the real thing. */
export interface TestPath {
  /** The state the path ends in. */
  readonly state: AnyMachineSnapshot;
  readonly steps: readonly TestStep[];
  /** The number of steps. */
  readonly weight: number;
  /** `reaches <state>: step → step → ...` */
  readonly description: string;
  /**
   * Runs the path: for each step calls the handler that causes it, then (with `start`) waits until
   * the real actor reaches the step's state and checks it. A path that passes counts towards the
   * model's coverage.
   */
  test(params?: PathTestParams): Promise<PathTestResult>;
}

/** The real component: an actor, or anything with an `actor` (e.g. run()'s handle). */
export type RealActor = AnyActorRef | { readonly actor: AnyActorRef };

/** Causes one step in the real world. */
export type StepHandler = (step: TestStep, index: number) => unknown;

/** What an invariant or an expectation is given. */
export interface PathCheckArgs {
  readonly path: TestPath;
  /** The step just taken; undefined at the start of the path. */
  readonly step: TestStep | undefined;
  /** The step's index in `path.steps`; -1 at the start. */
  readonly index: number;
  /** The model's snapshot after the step (the initial snapshot at the start). */
  readonly snapshot: AnyMachineSnapshot;
  /** The real actor (undefined without `start`). */
  readonly real: AnyActorRef | undefined;
  /**
   * The messages the real component has put on each of its boxes up to this step, by box (empty
   * without `start`); what it sent after moving past the step's state (running ahead of the test)
   * is not included.
   */
  readonly outputs: Readonly<Record<string, readonly unknown[]>>;
  /** The real state values seen while reaching this step's state (first: the previous step's); empty at the start or without `start`. */
  readonly seen: readonly unknown[];
  /** Per step so far: when the test began causing it and when the real actor reached its state (Date.now()). */
  readonly timing: readonly { readonly caused: number; readonly reached: number }[];
}

/** A check of a path: throw (or reject) to fail it. */
export type PathCheck = (args: PathCheckArgs) => unknown;

/** How path.test() causes each step in the real world and checks the real component. */
export interface PathTestParams {
  /**
   * Starts the real component for this path (given it, so it can set the scene: a closed port for a
   * refused connect) and returns it. Without `start`, test() only calls the handlers and checks (as
   * xstate/graph does).
   */
  readonly start?: (path: TestPath) => RealActor | Promise<RealActor>;
  /**
   * How to cause each step, by step description (`csa/socket sends socket.closed (ECONNRESET)`) or,
   * failing that, by step name (the event type, e.g. `socket.closed`). An `after` step with no
   * handler just waits for the real timer. Any other step without one is an error with `start`.
   */
  readonly events?: Readonly<Record<string, StepHandler>>;
  /**
   * Extra checks per state, after every step that ends in it (and at the start). Keys: a state node
   * path (`open`, `open.connected`; a parent matches its children), a parallel value as
   * descriptions print it (`open.{auth.authed, proto.idle}`), or `*` for every state. A key that
   * names no state of the machine is an error.
   */
  readonly states?: Readonly<Record<string, (state: AnyMachineSnapshot, real: AnyActorRef | undefined) => unknown>>;
  /** Named checks run at the start of the path and after every step. A throw fails the path, naming the invariant and the step. */
  readonly invariants?: Readonly<Record<string, PathCheck>>;
  /** Checks keyed like `events` (step description, else step name), run right after that step. A throw fails the path, naming the key and the step. */
  readonly expect?: Readonly<Record<string, PathCheck>>;
  /**
   * How long the real actor may take to reach a step's state, and a check to settle. Default: 2000
   * ms, well under vitest's 5000 ms test timeout, so a stuck step fails with this module's message
   * (which state the real actor went through instead) rather than the runner's.
   */
  readonly timeoutMs?: number;
  /** Whether the real snapshot is in the model's state. Default: equal state values. */
  readonly matches?: (model: AnyMachineSnapshot, real: { value: unknown; status: string }) => boolean;
  /**
   * The boxes output conformance compares (the machine's emits on a step against what the real
   * component put there meanwhile). Default: every box the machine emits on somewhere in the walk;
   * boxes only the I/O writes to (received bytes) are not compared. `[]` turns conformance off.
   */
  readonly conformanceBoxes?: readonly string[];
}

/** What path.test() saw. */
export interface PathTestResult {
  /** Per step: the real state values seen while reaching it (first = the previous step's), and what the real component put on its boxes meanwhile. */
  readonly steps: readonly { readonly step: TestStep; readonly seen: readonly unknown[]; readonly outputs: readonly BoxMessage[] }[];
}

/** What runPath needs from the walk besides the path. */
export interface PathContext {
  readonly initial: AnyMachineSnapshot;
  /** What the root emitted as it started. */
  readonly initialEmitted: readonly EventObject[];
  /** Every box the root emits on somewhere in the walk. */
  readonly emittedBoxes: ReadonlySet<string>;
}

const DEFAULT_TIMEOUT_MS = 2000;

const defaultMatches = (model: AnyMachineSnapshot, real: { value: unknown }): boolean => isDeepStrictEqual(model.value, real.value);

function handlerFor<T>(step: TestStep, record: Readonly<Record<string, T>>): T | undefined {
  return Object.hasOwn(record, step.description) ? record[step.description] : Object.hasOwn(record, step.name) ? record[step.name] : undefined;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Runs `check`, failing if it does not settle within `ms`. */
async function settle(check: () => unknown, ms: number, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      Promise.resolve().then(check),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function checkStateKeys(states: PathTestParams['states'], initial: AnyMachineSnapshot): void {
  if (!states) return;
  const root = (initial as { machine?: { root?: { states: Record<string, unknown> } } }).machine?.root;
  if (!root) return;
  const known = new Set(nodePaths(root));
  for (const key of Object.keys(states)) {
    // Printed parallel forms are checked only as far as their first node.
    const first = key.split(/[.,{ ]/)[0]!;
    if (key !== '*' && !known.has(key) && !(/[{,]/.test(key) && known.has(first))) {
      throw new Error(`path.test: states["${key}"] names no state of the machine (its states: ${[...known].join(', ')})`);
    }
  }
}

export async function runPath(path: TestPath, context: PathContext, params: PathTestParams): Promise<PathTestResult> {
  const { initial } = context;
  const events = params.events ?? {};
  const timeoutMs = params.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const matches = params.matches ?? defaultMatches;
  checkStateKeys(params.states, initial);
  const where = (index: number): string => (index < 0 ? 'at the start' : `after step ${index + 1} "${path.steps[index]!.description}"`);
  const failure = (what: string, index: number, error: unknown): Error =>
    new Error(`${what} failed ${where(index)}: ${message(error)}\n  path: ${path.description}`, { cause: error });

  // Set once the real component has started.
  const scene: { real: AnyActorRef | undefined; recorded: BoxMessage[]; seen: readonly unknown[]; upTo: () => number } = {
    real: undefined,
    recorded: [],
    seen: [],
    upTo: () => scene.recorded.length,
  };
  const timing: { caused: number; reached: number }[] = [];
  /** Runs the state checks, the step's expectation and every invariant, naming whichever fails. */
  const checkAll = async (state: AnyMachineSnapshot, index: number): Promise<void> => {
    const step = index < 0 ? undefined : path.steps[index];
    const args: PathCheckArgs = { path, step, index, snapshot: state, real: scene.real, outputs: byBox(scene.recorded.slice(0, scene.upTo())), seen: scene.seen, timing: [...timing] };
    const run = async (what: string, check: () => unknown): Promise<void> => {
      try {
        await settle(check, timeoutMs, what);
      } catch (error) {
        throw failure(what, index, error);
      }
    };
    const keys = stateValueKeys(state.value);
    for (const [key, check] of Object.entries(params.states ?? {})) {
      if (key === '*' || keys.has(key)) await run(`states["${key}"]`, () => check(state, scene.real));
    }
    if (step && params.expect) {
      const key = Object.hasOwn(params.expect, step.description) ? step.description : step.name;
      const check = handlerFor(step, params.expect);
      if (check) await run(`expect["${key}"]`, () => check(args));
    }
    for (const [name, check] of Object.entries(params.invariants ?? {})) await run(`invariant "${name}"`, () => check(args));
  };

  if (!params.start) {
    await checkAll(initial, -1);
    for (const [index, step] of path.steps.entries()) {
      const caused = Date.now();
      await handlerFor(step, events)?.(step, index);
      timing.push({ caused, reached: Date.now() });
      await checkAll(step.state, index);
    }
    return { steps: path.steps.map((step) => ({ step, seen: [], outputs: [] })) };
  }

  const started = await params.start(path);
  const real = 'actor' in started && typeof (started as { actor?: unknown }).actor === 'object' ? (started as { actor: AnyActorRef }).actor : (started as AnyActorRef);
  const record = recordOutputs(real);
  const recorded = record.messages;
  scene.real = real;
  scene.recorded = recorded;
  const boxes = new Set(params.conformanceBoxes ?? context.emittedBoxes);
  // Every snapshot the real actor goes through, from now on.
  const history: { value: unknown; status: string }[] = [];
  // How many messages the real component had sent when each history entry was last current: what a
  // transition emits is sent before its snapshot is announced, so it counts towards that entry.
  const sentBy: number[] = [];
  const note = (snapshot: { value?: unknown; status: string }): void => {
    const last = history[history.length - 1];
    if (!last || !isDeepStrictEqual(last.value, snapshot.value) || last.status !== snapshot.status) history.push({ value: snapshot.value, status: snapshot.status });
    sentBy[history.length - 1] = recorded.length;
  };
  note(real.getSnapshot() as { value?: unknown; status: string });
  const subscription = real.subscribe({ next: note, error: () => undefined, complete: () => note(real.getSnapshot() as { status: string }) });
  let cursor = 0;
  const reach = async (state: AnyMachineSnapshot, what: string): Promise<unknown[]> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (let i = cursor; i < history.length; i++) {
        if (matches(state, history[i]!)) {
          const seen = history.slice(cursor, i + 1).map((entry) => entry.value);
          cursor = i;
          return seen;
        }
      }
      if (Date.now() > deadline) {
        const seen = history.slice(cursor).map((entry) => JSON.stringify(entry.value));
        throw new Error(`${what}: the real actor did not reach ${JSON.stringify(state.value)} within ${timeoutMs} ms; it went through ${seen.join(' → ')}\n  path: ${path.description}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };

  // Output conformance: the real messages on the compared boxes since the last step, against the
  // machine's emits on this one. Real messages may trail the state change (I/O), so wait for as
  // many as the machine emitted; more than that shows as a mismatch here or at the next step.
  let outputCursor = 0;
  const compared = (emitted: readonly EventObject[]): string[] =>
    emitted.filter((event) => boxes.has(event.type)).map((event) => outputLabel(event.type, (event as { data?: unknown }).data));
  // A step's messages end where the real actor moved past the step's state (it may run ahead of
  // the test: a refused connect fails at once), else at what was sent so far.
  const windowEnd = (): number => (cursor < history.length - 1 ? sentBy[cursor]! : recorded.length);
  // Checks see what was sent up to this step, not what the real actor sent after moving on.
  scene.upTo = windowEnd;
  const realSince = (): BoxMessage[] => recorded.slice(outputCursor, windowEnd()).filter((m) => boxes.has(m.box));
  const awaitOutputs = async (emitted: readonly EventObject[]): Promise<void> => {
    const want = compared(emitted).length;
    const deadline = Date.now() + timeoutMs;
    while (realSince().length < want && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  };
  const conform = (emitted: readonly EventObject[], index: number): BoxMessage[] => {
    const end = windowEnd();
    const window = recorded.slice(outputCursor, end);
    outputCursor = end;
    const expected = compared(emitted);
    const actual = window.filter((m) => boxes.has(m.box)).map((m) => outputLabel(m.box, m.data));
    if (!isDeepStrictEqual(expected, actual)) {
      throw failure(
        'output conformance',
        index,
        `the machine emits [${expected.join(', ') || 'nothing'}] but the real component put [${actual.join(', ') || 'nothing'}] on its boxes (${[...boxes].join(', ')})`,
      );
    }
    return window;
  };

  const results: { step: TestStep; seen: readonly unknown[]; outputs: readonly BoxMessage[] }[] = [];
  try {
    // The real component may already have moved on from its initial state (an `after` of 0 ms).
    if (path.steps.length === 0) await reach(initial, 'initial state');
    // Recorded from the start (watchActors): what it sent as it started is compared too.
    if (record.fromStart) await awaitOutputs(context.initialEmitted);
    await checkAll(initial, -1);
    if (record.fromStart) conform(context.initialEmitted, -1);
    else outputCursor = windowEnd();
    for (const [index, step] of path.steps.entries()) {
      const handler = handlerFor(step, events);
      const caused = Date.now();
      if (handler) await handler(step, index);
      else if (step.cause.kind !== 'after') {
        throw new Error(`step ${index + 1} "${step.description}": no handler says how to cause it; pass events["${step.name}"] (or events["${step.description}"])`);
      }
      const seen = await reach(step.state, `step ${index + 1} "${step.description}"`);
      timing.push({ caused, reached: Date.now() });
      scene.seen = seen;
      await awaitOutputs(step.emitted);
      await checkAll(step.state, index);
      results.push({ step, seen, outputs: conform(step.emitted, index) });
    }
  } finally {
    subscription.unsubscribe();
  }
  return { steps: results };
}
