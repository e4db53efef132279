// Actor logic for components written as a plain body instead of a machine: like XState's
// fromCallback (about 50 ns an event), but it can finish (so a graph sees it end, as Kamaelia's
// generator returning) and a throw in a handler ends only this component, with its cleanup run.
import type { ActorLogic, AnyActorRef, EventObject, Snapshot } from 'xstate';
import { findRecord, recordOf, type Receiver } from './actorRecord.js';
import type { ComponentRef } from './componentRef.js';
import type { AnyActorSystem, InboxEvent, OutboxEvent } from './events.js';
import { Mailbox, type MailboxOwner } from './mailbox.js';
import { canSend, setInboxOpen, whenCanSend } from './routing.js';
import { inspectEvent, inspectSnapshot } from './xstateInternals.js';

declare module './actorRecord.js' {
  interface ActorRecord {
    /** A body component's running instance and its mailbox (componentLogic.ts). */
    body?: BodyReceiver;
  }
}

/** What a component body is given: register inbox handlers, send, finish, and take part in flow control. */
export interface ComponentScope<In, Out> {
  /** Handles messages arriving on `box`. One handler a box; a later call replaces it. */
  on<K extends keyof In & string>(box: K, handler: (message: In[K]) => void): void;
  /** Sends `message` out of `box`. */
  send<K extends keyof Out & string>(box: K, message: Out[K]): void;
  /**
   * Calls `handler` when a child actor created under this component (createChildActor) ends:
   * `failure` is set if it failed. Costs nothing per child, unlike subscribing to each one.
   */
  onChildEnded(handler: (id: string, failure?: { readonly error: unknown }) => void): void;
  /** Ends this component; its cleanup runs and its graph counts it as terminated. */
  finish(): void;
  /** Ends this component with an error, as if a handler had thrown it. */
  fail(error: unknown): void;
  /** Flow control, consumer side: stop (false) or resume (true) taking from `box`. */
  setInboxOpen(box: keyof In & string, open: boolean): void;
  /** Flow control, producer side: may more be sent on `box` now? */
  canSend(box: keyof Out & string): boolean;
  /** Calls `wake` once everything fed by `box` can take more. Returns a canceller. */
  whenCanSend(box: keyof Out & string, wake: () => void): () => void;
  /** This component's ref: the same members whether it runs as its own actor or hosted inside a connection's. */
  readonly self: ComponentRef;
  /**
   * The XState actor running this body, for what only an actor can be (the parent of child actors);
   * undefined when the body is hosted inside a connection's actor (a server's body handler).
   */
  readonly actor: AnyActorRef | undefined;
  readonly system: AnyActorSystem;
  /** True once finish() or fail() was called or the actor was stopped. */
  readonly finished: boolean;
}

/**
 * The actor a server-like body runs as (`scope.actor`), or a clear error when it was hosted inside a
 * connection instead: such a body is the parent of child actors, which a hosted body cannot be.
 */
export function ownActor(actor: AnyActorRef | undefined, name: string): AnyActorRef {
  if (!actor) throw new Error(`${name} must run as an actor of its own; it cannot be a server's connection handler`);
  return actor;
}

/** A component written as a plain function: it registers handlers on its scope and may return a cleanup, run when it ends. */
export type ComponentBody<In, Out, Input> = (scope: ComponentScope<In, Out>, input: Input) => void | (() => void);

export type ComponentSnapshot = Snapshot<undefined> & { input: unknown };

const FINISH = 'kamaelia.finish';
const CHILD_DONE = 'xstate.done.actor.';
const CHILD_ERROR = 'xstate.error.actor.';
const FAIL = 'kamaelia.fail';
const STOP = 'xstate.stop';

export interface Instance {
  childEnded: ((id: string, failure?: { readonly error: unknown }) => void) | undefined;
  /** Inbox handlers by box name: a few entries, so a plain object (a Map is ~0.2 KB per instance). */
  handlers: Record<string, ((message: unknown) => void) | undefined>;
  dispose: (() => void) | undefined;
  ended: boolean;
  /** Set when finish()/fail() is called inside a handler: applied when the handler returns. */
  pending: { status: 'done' } | { status: 'error'; error: unknown } | undefined;
  inTransition: boolean;
}


/** For XState's report that a child ended, a handler that tells onChildEnded's callback. */
function childEndHandler(childEnded: NonNullable<Instance['childEnded']>, event: EventObject): ((data: unknown) => void) | undefined {
  const { type } = event;
  if (type.startsWith(CHILD_DONE)) return () => childEnded(type.slice(CHILD_DONE.length));
  if (type.startsWith(CHILD_ERROR)) return () => childEnded(type.slice(CHILD_ERROR.length), { error: (event as { error?: unknown }).error });
  return undefined;
}

/** Own properties only: an event named like an Object.prototype member (`constructor`) has no handler. */
export function handlerFor(instance: Instance, box: string): ((message: unknown) => void) | undefined {
  return Object.hasOwn(instance.handlers, box) ? instance.handlers[box] : undefined;
}

/** finish()/fail() outside a transition: deliver it as an event so the snapshot changes in order. */
function sendSelf(self: ComponentRef, outcome: NonNullable<Instance['pending']>): void {
  self.send(outcome.status === 'done' ? { type: FINISH } : ({ type: FAIL, error: outcome.error } as EventObject));
}

function stopped(snapshot: ComponentSnapshot): ComponentSnapshot {
  return { status: 'stopped', output: undefined, error: undefined, input: snapshot.input };
}

function completed(snapshot: ComponentSnapshot): ComponentSnapshot {
  return { status: 'done', output: undefined, error: undefined, input: snapshot.input };
}

function failed(snapshot: ComponentSnapshot, error: unknown): ComponentSnapshot {
  return { status: 'error', output: undefined, error, input: snapshot.input };
}

/**
 * Runs an inbox handler. A throw, or finish()/fail() called inside it, ends the instance here (its
 * cleanup runs); the outcome to record in the snapshot is returned, or undefined if it goes on.
 */
export function runHandler(instance: Instance, handler: (message: unknown) => void, data: unknown): NonNullable<Instance['pending']> | undefined {
  instance.inTransition = true;
  try {
    handler(data);
  } catch (error) {
    instance.pending = { status: 'error', error };
  } finally {
    instance.inTransition = false;
  }
  const pending = instance.pending as Instance['pending'];
  if (!pending) return undefined;
  instance.pending = undefined;
  try {
    end(instance);
  } catch (cleanupError) {
    if (pending.status === 'done') return { status: 'error', error: cleanupError };
  }
  return pending;
}

export function end(instance: Instance): void {
  if (instance.ended) return;
  instance.ended = true;
  instance.handlers = {};
  const dispose = instance.dispose;
  instance.dispose = undefined;
  dispose?.();
}

export function newInstance(): Instance {
  return { childEnded: undefined, handlers: {}, dispose: undefined, ended: false, pending: undefined, inTransition: true };
}

/** What runs a body: where its scope sends, and how an end outside a handler is recorded. */
export interface ScopeHost {
  /** Sends `message` out of `box`. */
  emit(box: string, message: unknown): void;
  /** Delivers finish()/fail() called outside a handler, so the outcome is recorded in order. */
  endLater(outcome: NonNullable<Instance['pending']>): void;
}

/** The scope a body gets; `host` carries out its sends and ends (an object, not two closures per instance). */
export function createScope<In, Out>(instance: Instance, self: ComponentRef, actor: AnyActorRef | undefined, system: AnyActorSystem, host: ScopeHost): ComponentScope<In, Out> {
  return new Scope<In, Out>(instance, self, actor, system, host);
}

/**
 * Bodies destructure their scope (`({ on, send }) => ...`), so each member is a function that works
 * without `this`: bound on first use and kept, so a connection's handler holds only the ones it
 * takes (~50 bytes each, where a scope of closures cost ~0.7 KB whatever was used).
 */
const DONE = Object.freeze({ status: 'done' as const });

class Scope<In, Out> implements ComponentScope<In, Out> {
  #on: ComponentScope<In, Out>['on'] | undefined;
  #send: ComponentScope<In, Out>['send'] | undefined;
  #onChildEnded: ComponentScope<In, Out>['onChildEnded'] | undefined;
  #finish: (() => void) | undefined;
  #fail: ((error: unknown) => void) | undefined;
  #setInboxOpen: ComponentScope<In, Out>['setInboxOpen'] | undefined;
  #canSend: ComponentScope<In, Out>['canSend'] | undefined;
  #whenCanSend: ComponentScope<In, Out>['whenCanSend'] | undefined;

  constructor(
    private readonly instance: Instance,
    readonly self: ComponentRef,
    readonly actor: AnyActorRef | undefined,
    readonly system: AnyActorSystem,
    private readonly host: ScopeHost,
  ) {}

  get on(): ComponentScope<In, Out>['on'] {
    return (this.#on ??= this.register.bind(this));
  }
  get send(): ComponentScope<In, Out>['send'] {
    return (this.#send ??= this.sendOut.bind(this));
  }
  get onChildEnded(): ComponentScope<In, Out>['onChildEnded'] {
    return (this.#onChildEnded ??= this.setChildEnded.bind(this));
  }
  get finish(): () => void {
    return (this.#finish ??= this.finishNow.bind(this));
  }
  get fail(): (error: unknown) => void {
    return (this.#fail ??= this.failWith.bind(this));
  }
  get setInboxOpen(): ComponentScope<In, Out>['setInboxOpen'] {
    return (this.#setInboxOpen ??= this.setGate.bind(this));
  }
  get canSend(): ComponentScope<In, Out>['canSend'] {
    return (this.#canSend ??= this.mayGoOn.bind(this));
  }
  get whenCanSend(): ComponentScope<In, Out>['whenCanSend'] {
    return (this.#whenCanSend ??= this.wakeWhenCanSend.bind(this));
  }
  get finished(): boolean {
    return this.instance.ended || this.instance.pending !== undefined;
  }

  private register(box: string, handler: (message: never) => void): void {
    // defineProperty, not assignment, so even a box named __proto__ is an own property.
    Object.defineProperty(this.instance.handlers, box, { value: handler, writable: true, enumerable: true, configurable: true });
  }

  private sendOut(box: string, message: unknown): void {
    if (!this.instance.ended) this.host.emit(box, message);
  }

  private setChildEnded(handler: (id: string, failure?: { readonly error: unknown }) => void): void {
    this.instance.childEnded = handler;
  }

  // Bound without arguments: a bound function with arguments costs a further array.
  private setGate(box: keyof In & string, open: boolean): void {
    setInboxOpen(this.self, box, open);
  }

  private mayGoOn(box: keyof Out & string): boolean {
    return canSend(this.self, box);
  }

  private wakeWhenCanSend(box: keyof Out & string, wake: () => void): () => void {
    return whenCanSend(this.self, box, wake);
  }

  private finishNow(): void {
    this.settle(DONE);
  }

  private failWith(error: unknown): void {
    this.settle({ status: 'error', error });
  }

  private settle(outcome: NonNullable<Instance['pending']>): void {
    const instance = this.instance;
    if (instance.ended || instance.pending) return;
    if (instance.inTransition) instance.pending = outcome;
    else this.host.endLater(outcome);
  }
}

/** The body a logic made by componentLogic runs, so a host can run it without an actor. */
const bodies = new WeakMap<object, ComponentBody<never, never, never>>();

export function bodyOf(logic: unknown): ComponentBody<unknown, unknown, unknown> | undefined {
  return typeof logic === 'object' && logic !== null ? (bodies.get(logic) as ComponentBody<unknown, unknown, unknown> | undefined) : undefined;
}

/**
 * Turns a {@link ComponentBody} into XState actor logic (what `defineComponent({ body })` does).
 * @param body - the body; it runs when the actor starts
 */
export function componentLogic<In, Out, Input = undefined>(
  body: ComponentBody<In, Out, Input>,
): ActorLogic<ComponentSnapshot, InboxEvent<In> & EventObject, Input, AnyActorSystem, OutboxEvent<Out> & EventObject> {
  type Logic = ActorLogic<ComponentSnapshot, InboxEvent<In> & EventObject, Input, AnyActorSystem, OutboxEvent<Out> & EventObject>;
  const logic: Logic = {
    config: body,
    start: (snapshot, actorScope) => {
      const { self, system, emit } = actorScope;
      const receiver = findRecord(self)?.body ?? BodyReceiver.attach(self);
      const instance = receiver.instance;
      const scope = createScope<In, Out>(instance, self, self, system, {
        emit: (box, message) => emit({ type: box, data: message } as OutboxEvent<Out> & EventObject),
        endLater: (outcome) => sendSelf(self, outcome),
      });
      // A throw here becomes the actor's error status (XState catches it in start()).
      const dispose = body(scope, snapshot.input as Input);
      instance.dispose = typeof dispose === 'function' ? dispose : undefined;
      instance.inTransition = false;
      // finish() during start cannot change the snapshot here; deliver it as an event instead.
      const pending = instance.pending as Instance['pending'];
      if (pending) {
        instance.pending = undefined;
        sendSelf(self, pending);
      }
      // What was delivered while it was being made now runs, in order.
      receiver.mailbox.release();
    },
    transition: (snapshot, event, actorScope) => {
      const receiver = findRecord(actorScope.self)?.body;
      const instance = receiver?.instance;
      if (!receiver || !instance || instance.ended) {
        if (event.type === STOP) return stopped(snapshot);
        // A handler ended the instance at once and sent this to say so.
        if (event.type === FINISH && snapshot.status === 'active') return completed(snapshot);
        if (event.type === FAIL && snapshot.status === 'active') return failed(snapshot, (event as { error?: unknown }).error);
        return snapshot;
      }
      if (event.type === STOP) {
        receiver.mailbox.clear();
        end(instance);
        return stopped(snapshot);
      }
      if (event.type === FINISH) {
        end(instance);
        return completed(snapshot);
      }
      if (event.type === FAIL) {
        end(instance);
        return failed(snapshot, (event as { error?: unknown }).error);
      }
      // An event sent to the actor itself (ref.send, a child's end): the same mailbox as every
      // other delivery. XState reports this event and snapshot to inspectors itself.
      receiver.fromXState(event);
      return snapshot;
    },
    getInitialSnapshot: (actorScope, input) => {
      // The receiver exists from creation, held until start: whatever is delivered before the body
      // has run waits in its mailbox and runs, in order, once it has.
      BodyReceiver.attach(actorScope.self);
      return { status: 'active', output: undefined, error: undefined, input };
    },
    getPersistedSnapshot: (snapshot) => snapshot,
  };
  bodies.set(logic, body as ComponentBody<never, never, never>);
  return logic;
}

/**
 * A body component's receiver: every message to it, delivered by routing or sent through XState,
 * runs its handler through one mailbox (one at a time, in order), without an XState transition: a
 * body's snapshot does not change on a message. Inspectors see each message and snapshot as usual.
 */
class BodyReceiver implements Receiver, MailboxOwner {
  readonly instance: Instance = newInstance();
  readonly mailbox: Mailbox;
  private constructor(private readonly self: AnyActorRef) {
    this.mailbox = new Mailbox(this, true);
  }

  static attach(self: AnyActorRef): BodyReceiver {
    const record = recordOf(self);
    const receiver = new BodyReceiver(self);
    record.body = receiver;
    record.receiver = receiver;
    return receiver;
  }

  receive(box: string, data: unknown): boolean {
    // Ended: XState's mailbox drops it as a stopped actor's would.
    if (this.instance.ended) return false;
    this.mailbox.deliver(box, data);
    return true;
  }

  /** An event XState delivered (ref.send, a child's end): handled in line with the rest. */
  fromXState(event: EventObject): void {
    const { type } = event;
    if (type.startsWith(CHILD_DONE) || type.startsWith(CHILD_ERROR)) this.mailbox.deliver(CHILD_ENDED, event);
    else this.mailbox.deliver(THROUGH_XSTATE, event);
  }

  /** One message, its turn come (the mailbox calls it). */
  take(box: string, data: unknown): void {
    const instance = this.instance;
    if (instance.ended) return;
    let event: EventObject;
    let handler: ((message: unknown) => void) | undefined;
    if (box === CHILD_ENDED) {
      event = data as EventObject;
      handler = instance.childEnded && childEndHandler(instance.childEnded, event);
    } else if (box === THROUGH_XSTATE) {
      event = data as EventObject;
      handler = handlerFor(instance, event.type);
      data = (event as { data?: unknown }).data;
    } else {
      event = { type: box, data } as EventObject;
      handler = handlerFor(instance, box);
    }
    const inspected = box !== CHILD_ENDED && box !== THROUGH_XSTATE;
    if (inspected) inspectEvent(this.self, event);
    const outcome = handler && runHandler(instance, handler, data);
    // It ended now, so messages already in line find it ended; the snapshot follows when XState
    // processes the FINISH/FAIL event.
    if (outcome) sendSelf(this.self, outcome);
    if (inspected) inspectSnapshot(this.self, event, this.self.getSnapshot());
  }
}

/** Mailbox entries for events XState delivered, kept apart from inbox names. */
const CHILD_ENDED = '\u0000childEnded';
const THROUGH_XSTATE = '\u0000xstate';
