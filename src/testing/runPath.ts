// Runs one path: the user's handler causes each step (e.g. "the peer sends RST"), and the real
// actor must then reach the step's state. The real actor is watched from the start, so a state it
// passes through quickly is still seen; states it passes through between two steps are allowed (the
// real thing is finer-grained than one step: a peer's FIN then close is one model step).
import { isDeepStrictEqual } from 'node:util';
import type { AnyActorRef, AnyEventObject, AnyMachineSnapshot } from 'xstate';
import type { StepCause } from './walk.js';

/** One step of a path: what happened (`event`) and the state it led to (`state`). */
export interface TestStep {
  /** The event the receiving machine saw: an outside event, an actor's event, `xstate.after.*`, `xstate.done.actor.*`. */
  readonly event: AnyEventObject;
  /** The root machine's snapshot after the step; `state.value` is the machine's state value. */
  readonly state: AnyMachineSnapshot;
  /** How to name this step in `test({ events })`: the event type. */
  readonly name: string;
  /** Human-readable: `control (producerFinished)`, `csa/socket sends socket.peerEnded`, `after closeTimeout`. */
  readonly description: string;
  /** What the walker did to cause it. */
  readonly cause: StepCause;
  /** Path of ids from the root to the machine that received `event` ('' for the root). */
  readonly receiver: string;
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
   * the real actor reaches the step's state. A path that passes counts towards the model's coverage.
   */
  test(params?: PathTestParams): Promise<PathTestResult>;
}

/** The real component: an actor, or anything with an `actor` (e.g. run()'s handle). */
export type RealActor = AnyActorRef | { readonly actor: AnyActorRef };

/** Causes one step in the real world. */
export type StepHandler = (step: TestStep, index: number) => unknown;

/** How path.test() causes each step in the real world and checks the real component. */
export interface PathTestParams {
  /**
   * Starts the real component for this path (given it, so it can set the scene: a closed port for a
   * refused connect) and returns it. Without `start`, test() only calls the handlers (as
   * xstate/graph does).
   */
  readonly start?: (path: TestPath) => RealActor | Promise<RealActor>;
  /**
   * How to cause each step, by step description (`csa/socket sends socket.closed (ECONNRESET)`) or,
   * failing that, by step name (the event type, e.g. `socket.closed`). An `after` step with no
   * handler just waits for the real timer. Any other step without one is an error with `start`.
   */
  readonly events?: Readonly<Record<string, StepHandler>>;
  /** Extra checks per state, keyed by state value as descriptions print it (`open.connected`) or `*`. */
  readonly states?: Readonly<Record<string, (state: AnyMachineSnapshot, real: AnyActorRef | undefined) => unknown>>;
  /** How long the real actor may take to reach a step's state. Default: 5000 ms. */
  readonly timeoutMs?: number;
  /** Whether the real snapshot is in the model's state. Default: equal state values. */
  readonly matches?: (model: AnyMachineSnapshot, real: { value: unknown; status: string }) => boolean;
}

/** What path.test() saw. */
export interface PathTestResult {
  /** Per step: the real state values seen while reaching it (first = the previous step's). */
  readonly steps: readonly { readonly step: TestStep; readonly seen: readonly unknown[] }[];
}

function valueKey(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || value === null) return String(value);
  return Object.entries(value)
    .map(([key, sub]) => `${key}.${valueKey(sub)}`)
    .join(',');
}

const defaultMatches = (model: AnyMachineSnapshot, real: { value: unknown }): boolean => isDeepStrictEqual(model.value, real.value);

function handlerFor(step: TestStep, events: Readonly<Record<string, StepHandler>>): StepHandler | undefined {
  return events[step.description] ?? events[step.name];
}

export async function runPath(path: TestPath, initial: AnyMachineSnapshot, params: PathTestParams): Promise<PathTestResult> {
  const events = params.events ?? {};
  const timeoutMs = params.timeoutMs ?? 5000;
  const matches = params.matches ?? defaultMatches;
  const checkState = async (state: AnyMachineSnapshot, real: AnyActorRef | undefined): Promise<void> => {
    const check = params.states?.[valueKey(state.value)];
    if (check) await check(state, real);
    const any = params.states?.['*'];
    if (any) await any(state, real);
  };

  if (!params.start) {
    await checkState(initial, undefined);
    for (const [index, step] of path.steps.entries()) {
      await handlerFor(step, events)?.(step, index);
      await checkState(step.state, undefined);
    }
    return { steps: path.steps.map((step) => ({ step, seen: [] })) };
  }

  const started = await params.start(path);
  const real = 'actor' in started && typeof (started as { actor?: unknown }).actor === 'object' ? (started as { actor: AnyActorRef }).actor : (started as AnyActorRef);
  // Every snapshot the real actor goes through, from now on.
  const history: { value: unknown; status: string }[] = [];
  const note = (snapshot: { value?: unknown; status: string }): void => {
    const last = history[history.length - 1];
    if (!last || !isDeepStrictEqual(last.value, snapshot.value) || last.status !== snapshot.status) history.push({ value: snapshot.value, status: snapshot.status });
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

  const results: { step: TestStep; seen: readonly unknown[] }[] = [];
  try {
    // The real component may already have moved on from its initial state (an `after` of 0 ms).
    if (path.steps.length === 0) await reach(initial, 'initial state');
    await checkState(initial, real);
    for (const [index, step] of path.steps.entries()) {
      const handler = handlerFor(step, events);
      if (handler) await handler(step, index);
      else if (step.cause.kind !== 'after') {
        throw new Error(`step ${index + 1} "${step.description}": no handler says how to cause it; pass events["${step.name}"] (or events["${step.description}"])`);
      }
      const seen = await reach(step.state, `step ${index + 1} "${step.description}"`);
      results.push({ step, seen });
      await checkState(step.state, real);
    }
  } finally {
    subscription.unsubscribe();
  }
  return { steps: results };
}
