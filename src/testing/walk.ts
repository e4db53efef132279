// Explores a machine's state space by running it: every candidate step (an event from outside, an
// event a stubbed actor sends its parent, a stub's done or error, the next `after` timer) is applied
// to a fresh actor replayed to the state, and the resulting snapshots are deduplicated by key.
// Everything here is synchronous: an actor processes a sent event at once, the clock fires timers
// only when told, and every actor that could do I/O or await is a stub.
import { createActor, type AnyActorRef, type AnyMachineSnapshot, type AnyStateMachine, type EventObject, type InspectionEvent } from 'xstate';
import { defaultStateKey } from './stateKey.js';
import { STUB_DONE, STUB_ERROR, StubRegistry, isMachine, withStubs, type StubHandle, type StubPlan, type StubReaction } from './stubActors.js';
import { WalkClock } from './walkClock.js';

/** What causes a step: the walker's instruction, replayable on a fresh actor. */
export type StepCause =
  /** An event sent to the machine from outside. */
  | { readonly kind: 'event'; readonly event: EventObject }
  /** An event a stubbed actor (`actor`: its path of ids from the root, e.g. `csa/socket`) sends its parent. */
  | { readonly kind: 'actor'; readonly actor: string; readonly src: string; readonly event: EventObject }
  /** A stubbed actor does something its parent sees only in shared state (e.g. counts a connection). */
  | { readonly kind: 'effect'; readonly actor: string; readonly src: string; readonly effect: string }
  /** A stubbed actor completes with `output`. */
  | { readonly kind: 'done'; readonly actor: string; readonly src: string; readonly output: unknown }
  /** A stubbed actor fails with `error`. */
  | { readonly kind: 'error'; readonly actor: string; readonly src: string; readonly error: unknown }
  /** Time passes until the earliest pending `after` timer fires. */
  | { readonly kind: 'after' };

/** One step as the walk found it. */
export interface WalkStep {
  readonly cause: StepCause;
  /** The event the receiving machine saw (`xstate.after.*`, `xstate.done.actor.*`, ...). */
  readonly event: EventObject;
  /** Path of ids from the root to the actor that received `event` ('' for the root). */
  readonly receiver: string;
  /** How handlers name this step: the event type (see TestModel docs). */
  readonly name: string;
  readonly description: string;
  /** What the root machine emitted on the step (its outbox sends), in order. */
  readonly emitted: readonly EventObject[];
}

/** What the walker may do; built from createTestModel's options. */
export interface WalkSettings {
  readonly input: unknown;
  /** Sample events per type; a type without samples is sent as `{ type }`. */
  readonly samples: (type: string, snapshot: AnyMachineSnapshot) => readonly EventObject[];
  /** Event types a stub with this setup name sends its parent; undefined: the default attribution. */
  readonly actorEvents: (src: string) => readonly string[] | undefined;
  readonly actorOutput: (src: string) => unknown;
  /** Whether a stub with this setup name can send `event` now (its contract); undefined: always. */
  readonly actorCan: (src: string) => ((event: EventObject, stub: StubHandle) => boolean) | undefined;
  /** What a stub with this setup name does, at once, when its parent sends it an event (its contract). */
  readonly actorReactions: (src: string) => StubReaction | undefined;
  /** Named things a stub with this setup name can do besides sending events (see TestModelOptions.actors). */
  readonly actorEffects: (src: string) => Readonly<Record<string, (stub: StubHandle) => void>>;
  /** Event types the machines raise themselves: never offered as sent from outside. */
  readonly internalEvents: ReadonlySet<string>;
  /** What stands in for the machine's actors and I/O actions. */
  readonly plan: StubPlan;
  /** A stub's part of the state key (what it has done that matters), by name; undefined: none. */
  readonly actorKey: (src: string) => ((stub: StubHandle) => string) | undefined;
  readonly accept: (step: WalkStep, from: AnyMachineSnapshot) => boolean;
  readonly stateKey: ((snapshot: AnyMachineSnapshot) => string) | undefined;
  readonly maxStates: number;
  /** Called with a fresh stub as it starts (e.g. to model what a real actor would keep in context). */
  readonly onStub: ((stub: StubHandle) => void) | undefined;
}

/** A transition that fired: `source` state node id, event type, index among that event's transitions. */
export interface TakenTransition {
  readonly key: string;
  readonly machine: string;
}

export interface WalkEdge {
  readonly from: string;
  readonly to: string;
  readonly step: WalkStep;
  readonly snapshot: AnyMachineSnapshot;
  /** Keys of the transitions taken in every machine of the system (coverage). */
  readonly transitions: readonly string[];
  /** Ids of the state nodes entered or active during the step (coverage). */
  readonly states: readonly string[];
}

export interface WalkNode {
  readonly key: string;
  readonly snapshot: AnyMachineSnapshot;
  /** Edges of the shortest way here from the initial state. */
  readonly via: readonly WalkEdge[];
}

export interface WalkGraph {
  readonly initial: WalkNode;
  readonly nodes: ReadonlyMap<string, WalkNode>;
  readonly edges: readonly WalkEdge[];
  /** The machines the system ran (root first), for coverage. */
  readonly machines: readonly AnyStateMachine[];
  /** Ids of the state nodes active in the initial state, or passed through on the way to it (`always`). */
  readonly initialStates: readonly string[];
  /** Transitions taken on the way to the initial state (`always`). */
  readonly initialTransitions: readonly string[];
  /** What the root machine emitted as it started. */
  readonly initialEmitted: readonly EventObject[];
}

/** A transition's name for coverage: `source: event type #n → targets`. */
export function transitionKey(transition: { source: { id: string; transitions: Map<string, unknown[]>; always?: unknown[] }; eventType: string; target?: readonly { id: string }[] }): string {
  const list = transition.eventType === '' ? (transition.source.always ?? []) : (transition.source.transitions.get(transition.eventType) ?? []);
  const index = list.indexOf(transition);
  const targets = transition.target?.length ? transition.target.map((node) => node.id).join(', ') : '(stays)';
  const event = transition.eventType === '' ? 'always' : transition.eventType;
  return `${transition.source.id}: ${event}${list.length > 1 ? ` #${index + 1}` : ''} → ${targets}`;
}

function describeData(event: EventObject): string {
  const parts: string[] = [];
  const data = (event as { data?: unknown }).data;
  if (typeof data === 'string' || data instanceof Uint8Array) {
    const text = (typeof data === 'string' ? data : Buffer.from(data).toString('latin1')).trim();
    return ` ${JSON.stringify(text.length > 32 ? `${text.slice(0, 31)}…` : text)}`;
  }
  const kind = typeof data === 'object' && data !== null ? (data as { kind?: unknown }).kind : undefined;
  if (typeof kind === 'string') parts.push(kind);
  const reason = (event as { reason?: { code?: unknown } }).reason ?? (typeof data === 'object' && data !== null ? (data as { reason?: { code?: unknown } }).reason : undefined);
  if (reason && typeof reason.code === 'string') parts.push(reason.code);
  return parts.length ? ` (${parts.join(' ')})` : '';
}

function delayName(type: string): string {
  const match = /^xstate\.after\.([^.]+)\./.exec(type);
  return match ? match[1]! : type;
}

function describeStep(cause: StepCause, event: EventObject): string {
  switch (cause.kind) {
    case 'event':
      return `${event.type}${describeData(event)}`;
    case 'actor':
      return `${cause.actor} sends ${event.type}${describeData(event)}`;
    case 'effect':
      return `${cause.actor}: ${cause.effect}`;
    case 'done':
      return `${cause.actor} is done`;
    case 'error':
      return `${cause.actor} fails`;
    case 'after':
      return `after ${delayName(event.type)}`;
  }
}

/** Ids of the state nodes a value makes active, root included. */
export function activeStateIds(machine: AnyStateMachine, value: unknown): string[] {
  const ids: string[] = [machine.root.id];
  const visit = (node: AnyStateMachine['root'], v: unknown): void => {
    if (typeof v === 'string') {
      const child = node.states[v];
      if (child) ids.push(child.id);
      return;
    }
    if (typeof v !== 'object' || v === null) return;
    for (const [key, sub] of Object.entries(v)) {
      const child = node.states[key];
      if (!child) continue;
      ids.push(child.id);
      visit(child, sub);
    }
  };
  visit(machine.root, value);
  return ids;
}

interface StateNodeLike {
  readonly id: string;
  readonly parent?: StateNodeLike | undefined;
}

/** `node`'s id and its ancestors' ids. */
function ancestorIds(node: StateNodeLike): string[] {
  const ids: string[] = [];
  for (let at: StateNodeLike | undefined = node; at; at = at.parent) ids.push(at.id);
  return ids;
}

/** Why a machine failed during the walk, naming the guard (XState's message does) or action that threw. */
export function describeFailure(failure: { error: unknown; action: string | undefined }): string {
  const message = failure.error instanceof Error ? failure.error.message : String(failure.error);
  if (/guard/i.test(message) || failure.action === undefined) return message;
  return `action '${failure.action}' threw: ${message}`;
}

/** One actor system under the walker's control. */
class Run {
  readonly clock = new WalkClock();
  readonly stubs: StubRegistry;
  readonly actor: AnyActorRef;
  private transitions: string[] = [];
  private states: string[] = [];
  private received: { receiver: AnyActorRef; event: EventObject }[] = [];
  /** What the root emitted during the current step (or the start). */
  emitted: EventObject[] = [];
  /** Transitions and states of the start (always transitions on the way to the initial state). */
  readonly startTransitions: string[];
  readonly startStates: string[];
  /** The last action each machine actor began, to name the one that threw. */
  private lastAction = new Map<AnyActorRef, string>();

  constructor(
    machine: AnyStateMachine,
    private readonly settings: WalkSettings,
    private readonly machines: Map<string, AnyStateMachine>,
    /** Context paths whose numbers the state key keeps exactly (what guards read). */
    private readonly exact: ReadonlySet<string>,
    reads: Set<string>,
  ) {
    this.stubs = new StubRegistry(settings.actorReactions);
    // Guards are watched only for the default state key (a given serializeState decides by itself).
    const stubbed = withStubs(machine, this.stubs, settings.plan, this.clock, 0, settings.stateKey ? undefined : reads);
    const onStub = settings.onStub;
    this.actor = createActor(stubbed, {
      input: settings.input,
      clock: this.clock as never,
      inspect: (event: InspectionEvent) => this.observe(event),
    });
    (this.actor as AnyActorRef).on('*', (emitted: EventObject) => void this.emitted.push(emitted));
    if (onStub) {
      const seen = new Set<StubHandle>();
      const notify = (): void => {
        for (const stub of this.stubs.stubs) {
          if (seen.has(stub)) continue;
          seen.add(stub);
          onStub(stub);
        }
      };
      this.afterEach = notify;
    }
    this.actor.start();
    this.afterEach?.();
    this.startTransitions = this.transitions;
    this.startStates = this.states;
  }

  private afterEach: (() => void) | undefined;

  /** The first machine actor that failed during the current step (a guard or an action threw). */
  failure: { actor: AnyActorRef; error: unknown; action: string | undefined } | undefined;

  private observe(event: InspectionEvent): void {
    if (event.type === '@xstate.actor') {
      // XState reports a machine's failure (a guard or action that threw) to its observers only;
      // without one it rethrows asynchronously. Stubs fail on purpose (an error step).
      const ref = event.actorRef as AnyActorRef;
      if (isMachine((ref as { logic?: unknown }).logic)) {
        ref.subscribe({ error: (error: unknown) => void (this.failure ??= { actor: ref, error, action: this.lastAction.get(ref) }) });
      }
    } else if (event.type === '@xstate.action') {
      this.lastAction.set(event.actorRef as AnyActorRef, event.action.type);
    } else if (event.type === '@xstate.snapshot') {
      const snapshot = event.snapshot as { status?: string; error?: unknown };
      const ref = event.actorRef as AnyActorRef;
      if (snapshot.status === 'error' && !this.stubs.find(ref) && !this.failure) this.failure = { actor: ref, error: snapshot.error, action: this.lastAction.get(ref) };
    } else if (event.type === '@xstate.microstep') {
      const logic = (event.actorRef as { logic?: unknown }).logic;
      for (const transition of event._transitions) {
        this.transitions.push(transitionKey(transition as never));
        // The source of a transition was active, even if left in the same macrostep (an `always`
        // pass-through state never shows in a snapshot).
        if (isMachine(logic)) this.states.push(...ancestorIds((transition as { source: StateNodeLike }).source));
      }
      const snapshot = event.snapshot as AnyMachineSnapshot;
      if (snapshot && typeof snapshot === 'object' && 'value' in snapshot && isMachine(logic)) {
        const machine = this.machineFor(logic);
        this.states.push(...activeStateIds(machine, snapshot.value));
      }
    } else if (event.type === '@xstate.event') {
      this.received.push({ receiver: event.actorRef as AnyActorRef, event: event.event });
    }
  }

  private machineFor(logic: AnyStateMachine): AnyStateMachine {
    const known = this.machines.get(logic.id);
    if (!known) this.machines.set(logic.id, logic);
    return known ?? logic;
  }

  /** Path of ids from the root to `ref`; undefined when it is not in the tree. */
  pathOf(ref: AnyActorRef): string | undefined {
    const search = (parent: AnyActorRef, prefix: string): string | undefined => {
      const snapshot = parent.getSnapshot() as { children?: Record<string, AnyActorRef | undefined> };
      for (const [id, child] of Object.entries(snapshot.children ?? {})) {
        if (!child) continue;
        const path = prefix ? `${prefix}/${id}` : id;
        if (child === ref) return path;
        const deeper = search(child, path);
        if (deeper) return deeper;
      }
      return undefined;
    };
    return ref === this.actor ? '' : search(this.actor, '');
  }

  snapshot(): AnyMachineSnapshot {
    return this.actor.getSnapshot() as AnyMachineSnapshot;
  }

  key(): string {
    const snapshot = this.snapshot();
    const describe = (ref: AnyActorRef): unknown => {
      const stub = this.stubs.find(ref);
      const child = ref.getSnapshot() as AnyMachineSnapshot;
      if (stub) return `${stub.src}:${child.status}`;
      if (isMachine(ref.src)) return JSON.parse(defaultStateKey(child, describe, this.exact));
      return `${String(typeof ref.src === 'string' ? ref.src : 'actor')}:${child.status}`;
    };
    const stubKeys = this.stubs
      .live()
      .map((stub) => [this.stubPath(stub), this.settings.actorKey(stub.src)?.(stub)])
      .filter(([, key]) => key);
    const base = this.settings.stateKey ? this.settings.stateKey(snapshot) : defaultStateKey(snapshot, describe, this.exact);
    return stubKeys.length ? `${base} ${JSON.stringify(stubKeys)}` : base;
  }

  /** Path of ids from the root to a stub ('csa/socket'): its own, or its machine's plus its name. */
  stubPath(stub: StubHandle): string | undefined {
    const path = this.pathOf(stub.ref);
    if (!stub.viaActions || path === undefined) return path;
    return path ? `${path}/${stub.id}` : stub.id;
  }

  /** Event types `owner` handles that no stub of it sends: sent from outside (root only). */
  private externalTypes(owner: AnyStateMachine, live: readonly StubHandle[]): string[] {
    return owner.events.filter((type) => !type.startsWith('xstate.') && !this.settings.internalEvents.has(type) && !live.some((stub) => this.sends(stub, type)));
  }

  /** Whether `stub` is the one that sends `type` to its parent. */
  private sends(stub: StubHandle, type: string): boolean {
    const declared = this.settings.actorEvents(stub.src);
    if (declared) return declared.includes(type);
    const dot = type.indexOf('.');
    if (dot <= 0 || type.startsWith('xstate.') || this.settings.internalEvents.has(type)) return false;
    const prefix = type.slice(0, dot).toLowerCase();
    return stub.src.toLowerCase().startsWith(prefix) || stub.id.toLowerCase().startsWith(prefix);
  }

  /** Every step the walker can take from here, in a fixed order. */
  candidates(root: AnyStateMachine): StepCause[] {
    const snapshot = this.snapshot();
    if (snapshot.status !== 'active') return [];
    const live = this.stubs.live();
    const out: StepCause[] = [];
    const rootStubs = live.filter((stub) => stub.owner.config === root.config);
    for (const type of this.externalTypes(root, rootStubs)) {
      for (const event of this.settings.samples(type, snapshot)) out.push({ kind: 'event', event });
    }
    for (const stub of live) {
      const actor = this.stubPath(stub);
      if (actor === undefined) continue;
      const can = this.settings.actorCan(stub.src);
      for (const type of stub.owner.events) {
        if (!this.sends(stub, type)) continue;
        for (const event of this.settings.samples(type, snapshot)) {
          if (!can || can(event, stub)) out.push({ kind: 'actor', actor, src: stub.src, event });
        }
      }
      for (const effect of Object.keys(this.settings.actorEffects(stub.src))) out.push({ kind: 'effect', actor, src: stub.src, effect });
      if (stub.viaActions) continue;
      const id = stub.id;
      if (stub.owner.events.includes(`xstate.done.actor.${id}`)) out.push({ kind: 'done', actor, src: stub.src, output: this.settings.actorOutput(stub.src) });
      if (stub.owner.events.includes(`xstate.error.actor.${id}`)) out.push({ kind: 'error', actor, src: stub.src, error: new Error(`${stub.src} failed (a test step)`) });
    }
    if (this.clock.next()) out.push({ kind: 'after' });
    return out;
  }

  /** Applies `cause`; undefined when it cannot be applied here (nothing received it). */
  apply(cause: StepCause): { step: WalkStep; transitions: string[]; states: string[] } | undefined {
    this.transitions = [];
    this.states = [];
    this.received = [];
    this.emitted = [];
    this.failure = undefined;
    let receiverRef: AnyActorRef | undefined;
    let event: EventObject | undefined;
    switch (cause.kind) {
      case 'event':
        receiverRef = this.actor;
        event = cause.event;
        this.actor.send(cause.event);
        break;
      case 'actor':
      case 'effect':
      case 'done':
      case 'error': {
        const stub = this.stubs.live().find((candidate) => this.stubPath(candidate) === cause.actor);
        if (!stub) return undefined;
        if (cause.kind === 'actor') {
          event = cause.event;
          stub.sendBack(cause.event);
        } else if (cause.kind === 'effect') {
          this.settings.actorEffects(stub.src)[cause.effect]!(stub);
          // What it caused, if anything, is the parent's first event; otherwise only state changed.
          event = this.received[0]?.event ?? { type: cause.effect };
        } else if (cause.kind === 'done') {
          event = { type: `xstate.done.actor.${stub.ref.id}`, output: cause.output } as EventObject;
          stub.ref.send({ type: STUB_DONE, output: cause.output });
        } else {
          event = { type: `xstate.error.actor.${stub.ref.id}`, error: cause.error } as EventObject;
          stub.ref.send({ type: STUB_ERROR, error: cause.error });
        }
        const parentPath = cause.actor.split('/').slice(0, -1).join('/');
        receiverRef = stub.viaActions ? stub.ref : this.received.find((r) => r.event.type === event!.type && this.pathOf(r.receiver) === parentPath)?.receiver;
        break;
      }
      case 'after': {
        if (!this.clock.fireNext()) return undefined;
        // A delayed transition (xstate.after.*) or a delayed raise, whatever it is called.
        const fired = this.received[0];
        if (!fired) return undefined;
        receiverRef = fired.receiver;
        event = fired.event;
        break;
      }
    }
    this.afterEach?.();
    const receiver = receiverRef ? (this.pathOf(receiverRef) ?? '?') : '';
    const step: WalkStep = {
      cause,
      event: event!,
      receiver,
      name: cause.kind === 'effect' ? cause.effect : event!.type,
      description: describeStep(cause, event!),
      emitted: this.emitted,
    };
    return { step, transitions: this.transitions, states: this.states };
  }

  stop(): void {
    this.actor.stop();
  }
}

/**
 * Walks `machine` breadth first from its initial state. The default state key keeps exactly the
 * numbers guards read; what they read is learnt during the walk, so a walk that learns more is
 * done again with it (a few times at most: reads only grow).
 */
export function walk(machine: AnyStateMachine, settings: WalkSettings): WalkGraph {
  let exact = new Set<string>();
  for (let attempt = 0; ; attempt++) {
    const reads = new Set<string>(exact);
    const graph = walkOnce(machine, settings, exact, reads);
    if (settings.stateKey || attempt >= 4 || [...reads].every((path) => exact.has(path))) return graph;
    exact = reads;
  }
}

function walkOnce(machine: AnyStateMachine, settings: WalkSettings, exact: ReadonlySet<string>, reads: Set<string>): WalkGraph {
  const machines = new Map<string, AnyStateMachine>([[machine.id, machine]]);
  const replay = (via: readonly WalkEdge[]): Run => {
    const run = new Run(machine, settings, machines, exact, reads);
    for (const edge of via) {
      if (!run.apply(edge.step.cause)) throw new Error(`createTestModel: replaying "${edge.step.description}" did not reproduce the walk; is the machine deterministic?`);
    }
    return run;
  };

  const first = new Run(machine, settings, machines, exact, reads);
  if (first.failure) {
    throw new Error(
      `createTestModel: ${machine.id} failed at start: ${describeFailure(first.failure)}. ` +
        'If an action or actor reaches outside the machine, give the walk a stand-in (options.actions, or options.actors with `actions` for I/O provided as actions).',
    );
  }
  const initial: WalkNode = { key: first.key(), snapshot: first.snapshot(), via: [] };
  const initialStates = [...new Set([...first.startStates, ...activeStateIds(machine, initial.snapshot.value)])];
  const initialTransitions = [...first.startTransitions];
  const initialEmitted = [...first.emitted];
  first.stop();
  const nodes = new Map<string, WalkNode>([[initial.key, initial]]);
  const edges: WalkEdge[] = [];
  const queue: WalkNode[] = [initial];
  while (queue.length > 0) {
    const node = queue.shift()!;
    const probe = replay(node.via);
    const causes = probe.candidates(machine);
    probe.stop();
    for (const cause of causes) {
      const run = replay(node.via);
      const result = run.apply(cause);
      if (!result) {
        run.stop();
        continue;
      }
      if (run.failure) {
        const failure = run.failure;
        run.stop();
        throw new Error(
          `createTestModel: ${machine.id} failed (${run.pathOf(failure.actor) || 'the root'}) at "${result.step.description}" after ${node.via.length} steps: ${describeFailure(failure)}. ` +
            'If an action or actor reaches outside the machine, give the walk a stand-in (options.actions, or options.actors with `actions` for I/O provided as actions).',
        );
      }
      const key = run.key();
      const snapshot = run.snapshot();
      run.stop();
      const moved = key !== node.key || result.transitions.length > 0;
      if (!moved || !settings.accept(result.step, node.snapshot)) continue;
      const edge: WalkEdge = { from: node.key, to: key, step: result.step, snapshot, transitions: result.transitions, states: result.states };
      edges.push(edge);
      if (!nodes.has(key)) {
        if (nodes.size >= settings.maxStates) {
          throw new Error(
            `createTestModel: more than ${settings.maxStates} distinct states (is a counter or growing value in context?); narrow the events, pass serializeState, or raise maxStates`,
          );
        }
        const next: WalkNode = { key, snapshot, via: [...node.via, edge] };
        nodes.set(key, next);
        queue.push(next);
      }
    }
  }
  return { initial, nodes, edges, machines: [...machines.values()], initialStates, initialTransitions, initialEmitted };
}
