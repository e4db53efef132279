// The walker replaces what a machine uses to reach the world with stubs it drives:
// - every actor named in setup({ actors }) (machines excepted: they run for real, with their own
//   actors and I/O stubbed the same way): the stub sends its parent whatever the walk picks, and
//   completes (done) or fails (error) when told to;
// - I/O provided as actions (a socket binding the machine drives through `openSocket`,
//   `flushSocket`...): the actions named for such an I/O stub record their calls as events the stub
//   received, and the stub sends the machine that ran them whatever the walk picks.
import { fromCallback, type AnyActorLogic, type AnyActorRef, type AnyEventObject, type AnyStateMachine, type EventObject } from 'xstate';

/** A live stub, as the walker sees it. */
export interface StubHandle {
  /** The stub actor; for I/O provided as actions, the machine actor it serves. */
  readonly ref: AnyActorRef;
  /** Its id: the actor's id, or the I/O stub's name. */
  readonly id: string;
  /** True for I/O provided as actions (no actor of its own). */
  readonly viaActions: boolean;
  /** The name in the machine's setup({ actors }), or the I/O stub's name. */
  readonly src: string;
  /** The machine that uses it. */
  readonly owner: AnyStateMachine;
  /** The input its parent gave it (actors only). */
  readonly input: unknown;
  /** Sends `event` to its machine (recorded in `sent`; the stub's reaction runs after). */
  sendBack(event: AnyEventObject): void;
  /** Events the machine sent it; for actions, `{ type: actionName, params }` per call. */
  readonly received: EventObject[];
  /** Events the walk had it send the machine. */
  readonly sent: EventObject[];
}

/** What a stub does at once when it received an event from its machine, or has just sent one. */
export type StubReaction = (event: EventObject, stub: StubHandle, direction: 'received' | 'sent') => void;

/** Control events only the walker sends a stub. */
export const STUB_DONE = 'kamaelia.testing.done';
export const STUB_ERROR = 'kamaelia.testing.error';

/** What stands in for what, in one walk. */
export interface StubPlan {
  /** Setup names of actors to leave as they are. */
  readonly keep: ReadonlySet<string>;
  /** I/O provided as actions: stub name → the action names that make it up. */
  readonly io: Readonly<Record<string, readonly string[]>>;
  /** Plain replacements for actions (by name), e.g. routing a walk does not need. */
  readonly actions: Readonly<Record<string, WalkAction>>;
}

/** The walk's clock, for actions that stand in for timers: nothing fires until the walk says so. */
export interface WalkTimers {
  /** Runs `fn` when the walk lets `ms` pass (an `after` step); returns an id for clearTimeout. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Forgets a timer set with setTimeout. */
  clearTimeout(id: unknown): void;
}

/** An action's stand-in during a walk; `clock` is the walk's clock (timer actions schedule on it). */
export type WalkAction = (args: { self: AnyActorRef; context: unknown; event: EventObject; clock: WalkTimers }, params: unknown) => void;

/** Every stub started in one run, in start order. */
export class StubRegistry {
  readonly stubs: StubHandle[] = [];

  /** `react(src)`: what a stub with that name does when its machine sends it an event. */
  constructor(readonly react: (src: string) => StubReaction | undefined = () => undefined) {}

  live(): StubHandle[] {
    return this.stubs.filter((stub) => stub.ref.getSnapshot().status === 'active');
  }

  find(ref: AnyActorRef): StubHandle | undefined {
    return this.stubs.find((stub) => stub.ref === ref && !stub.viaActions);
  }

  add(fields: Omit<StubHandle, 'sendBack' | 'received' | 'sent'>, send: (event: AnyEventObject) => void): StubHandle {
    const react = this.react(fields.src);
    const sent: EventObject[] = [];
    const handle: StubHandle = {
      ...fields,
      received: [],
      sent,
      sendBack: (event) => {
        sent.push(event);
        send(event);
        react?.(event, handle, 'sent');
      },
    };
    this.stubs.push(handle);
    return handle;
  }

  receive(handle: StubHandle, event: EventObject): void {
    handle.received.push(event);
    this.react(handle.src)?.(event, handle, 'received');
  }

  /** The I/O stub `name` serving `machineActor`, made on its first action call. */
  ioStub(machineActor: AnyActorRef, name: string, owner: AnyStateMachine): StubHandle {
    const existing = this.stubs.find((stub) => stub.viaActions && stub.ref === machineActor && stub.id === name);
    return existing ?? this.add({ ref: machineActor, id: name, viaActions: true, src: name, owner, input: undefined }, (event) => machineActor.send(event));
  }
}

function stubLogic(registry: StubRegistry, src: string, owner: AnyStateMachine): AnyActorLogic {
  const base = fromCallback<EventObject, unknown>(({ sendBack, receive, self, input }) => {
    const handle = registry.add({ ref: self, id: self.id, viaActions: false, src, owner, input }, sendBack);
    receive((event) => registry.receive(handle, event));
  });
  return {
    ...base,
    // A callback actor cannot finish by itself; the walker's done/error steps finish it here.
    transition: (snapshot, event, scope) => {
      if (event.type === STUB_DONE) return { ...snapshot, status: 'done', output: (event as { output?: unknown }).output };
      if (event.type === STUB_ERROR) return { ...snapshot, status: 'error', error: (event as { error?: unknown }).error };
      return base.transition(snapshot, event, scope);
    },
  } as AnyActorLogic;
}

function isMachine(logic: unknown): logic is AnyStateMachine {
  return typeof logic === 'object' && logic !== null && 'root' in logic && typeof (logic as { provide?: unknown }).provide === 'function';
}

/** Plain objects and arrays are watched through; class instances (sockets, queues, maps) are not. */
function isPlain(value: unknown): value is object {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null || Array.isArray(value);
}

/** `context` as a guard sees it, recording the dotted path of every property it reads into `reads`. */
function watched(value: object, path: string, reads: Set<string>): object {
  return new Proxy(value, {
    get(target, key, receiver) {
      const got = Reflect.get(target, key, receiver) as unknown;
      if (typeof key !== 'string') return got;
      const at = path ? `${path}.${key}` : key;
      reads.add(at);
      return isPlain(got) ? watched(got, at, reads) : got;
    },
  });
}

type GuardFn = ((args: { context: unknown }, params: unknown) => boolean) & { check?: unknown };

function watchingGuard(guard: GuardFn, reads: Set<string>): GuardFn {
  return (args, params) => guard(isPlain(args.context) ? { ...args, context: watched(args.context, '', reads) } : args, params);
}

/**
 * Makes the guards of `machine` (its own private, provided copy) record what context they read:
 * the named ones and the inline functions on its transitions. (Guards inside and()/or()/not() that
 * are inline functions are not seen.)
 */
function watchGuards(machine: AnyStateMachine, reads: Set<string>): AnyStateMachine {
  const guards: Record<string, GuardFn> = {};
  for (const [name, guard] of Object.entries(machine.implementations.guards as Record<string, GuardFn>)) {
    if (typeof guard === 'function' && !('check' in guard)) guards[name] = watchingGuard(guard, reads);
  }
  const watching = machine.provide({ guards: guards as never });
  const visit = (node: AnyStateMachine['root']): void => {
    const lists = [...node.transitions.values(), node.always ?? []];
    for (const list of lists) {
      for (const transition of list as { guard?: unknown }[]) {
        const guard = transition.guard as GuardFn | undefined;
        if (typeof guard === 'function' && !('check' in guard)) transition.guard = watchingGuard(guard, reads);
      }
    }
    for (const child of Object.values(node.states)) visit(child);
  };
  visit(watching.root);
  return watching;
}

/**
 * `machine` with what reaches the world replaced, following `plan`: actors by stubs (machines by
 * themselves, recursively replaced), I/O actions by their stub's recorder, other named actions by
 * their replacement. With `reads`, its guards record the context paths they read.
 */
export function withStubs(machine: AnyStateMachine, registry: StubRegistry, plan: StubPlan, clock: WalkTimers, depth = 0, reads?: Set<string>): AnyStateMachine {
  if (depth > 8) throw new Error(`createTestModel: machines nest deeper than 8 (does ${machine.id} invoke itself?)`);
  const actors: Record<string, AnyActorLogic> = {};
  for (const [name, logic] of Object.entries(machine.implementations.actors)) {
    if (plan.keep.has(name)) continue;
    actors[name] = isMachine(logic) ? withStubs(logic, registry, plan, clock, depth + 1, reads) : stubLogic(registry, name, machine);
  }
  const own = new Set(Object.keys(machine.implementations.actions));
  const actions: Record<string, (args: { self: AnyActorRef; context: unknown; event: EventObject }, params: unknown) => void> = {};
  for (const [stubName, names] of Object.entries(plan.io)) {
    for (const action of names) {
      if (!own.has(action)) continue;
      actions[action] = ({ self }, params) => registry.receive(registry.ioStub(self, stubName, machine), { type: action, params } as EventObject);
    }
  }
  for (const [name, replacement] of Object.entries(plan.actions)) {
    if (own.has(name)) actions[name] = (args, params) => replacement({ ...args, clock }, params);
  }
  const provided = machine.provide({ actors, actions: actions as never });
  return reads ? watchGuards(provided, reads) : provided;
}

export { isMachine };
