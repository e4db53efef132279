// The walker replaces every actor a machine names in setup({ actors }) with a stub it drives: the
// stub sends its parent whatever the walk picks, completes (done) or fails (error) when told to.
// Machine actors are not stubbed: they run for real, with their own actors stubbed the same way.
import { fromCallback, type AnyActorLogic, type AnyActorRef, type AnyEventObject, type AnyStateMachine, type EventObject } from 'xstate';

/** A live stub, as the walker sees it. */
export interface StubHandle {
  readonly ref: AnyActorRef;
  /** The name the actor has in the machine's setup({ actors }). */
  readonly src: string;
  /** The machine whose setup names it (the stub's parent runs that machine). */
  readonly owner: AnyStateMachine;
  /** The input its parent gave it. */
  readonly input: unknown;
  sendBack(event: AnyEventObject): void;
  /** Events the parent sent to the stub. */
  readonly received: EventObject[];
  /** Events the walk had the stub send its parent. */
  readonly sent: EventObject[];
}

/** What a stub does at once when it received an event from its parent, or has just sent one. */
export type StubReaction = (event: EventObject, stub: StubHandle, direction: 'received' | 'sent') => void;

/** Control events only the walker sends a stub. */
export const STUB_DONE = 'kamaelia.testing.done';
export const STUB_ERROR = 'kamaelia.testing.error';

const handles = new WeakMap<AnyActorRef, StubHandle>();

/** The stub behind `ref`, when `ref` is one of a walk's stubs (for serializeState and filters). */
export function stubOf(ref: AnyActorRef): StubHandle | undefined {
  return handles.get(ref);
}

/** Every stub started in one run, in start order. */
export class StubRegistry {
  readonly stubs: StubHandle[] = [];

  /** `react(src)`: what a stub with that setup name does when its parent sends it an event. */
  constructor(readonly react: (src: string) => StubReaction | undefined = () => undefined) {}

  live(): StubHandle[] {
    return this.stubs.filter((stub) => stub.ref.getSnapshot().status === 'active');
  }

  find(ref: AnyActorRef): StubHandle | undefined {
    return this.stubs.find((stub) => stub.ref === ref);
  }
}

function stubLogic(registry: StubRegistry, src: string, owner: AnyStateMachine): AnyActorLogic {
  const base = fromCallback<EventObject, unknown>(({ sendBack, receive, self, input }) => {
    const sent: EventObject[] = [];
    const react = registry.react(src);
    const handle: StubHandle = {
      ref: self,
      src,
      owner,
      input,
      sendBack: (event) => {
        sent.push(event);
        sendBack(event);
        react?.(event, handle, 'sent');
      },
      received: [],
      sent,
    };
    registry.stubs.push(handle);
    handles.set(self, handle);
    receive((event) => {
      handle.received.push(event);
      react?.(event, handle, 'received');
    });
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

/**
 * `machine` with every actor named in its setup replaced: machines by themselves with their actors
 * replaced (recursively), everything else by a stub that registers in `registry`.
 * `keep` names actors (by setup name) to leave as they are.
 */
export function withStubbedActors(machine: AnyStateMachine, registry: StubRegistry, keep: ReadonlySet<string>, depth = 0): AnyStateMachine {
  if (depth > 8) throw new Error(`createTestModel: machines nest deeper than 8 (does ${machine.id} invoke itself?)`);
  const actors: Record<string, AnyActorLogic> = {};
  for (const [name, logic] of Object.entries(machine.implementations.actors)) {
    if (keep.has(name)) continue;
    actors[name] = isMachine(logic) ? withStubbedActors(logic, registry, keep, depth + 1) : stubLogic(registry, name, machine);
  }
  return machine.provide({ actors });
}

export { isMachine };
