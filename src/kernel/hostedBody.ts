// A body component run without an XState actor of its own, inside the actor that hosts it: a
// server runs each connection's body handler this way, so a connection is one actor (its CSA), not
// two (an actor costs ~2 KB and ~20 µs to create, start and stop; shared/notes/xstate.md).
//
// To everything else it is still a component: it has a ref that routing links and gates work on
// (messages to its boxes are taken as they are delivered, one handler at a time and in order, as a
// mailbox would), a throw or fail() ends only it, and XState inspection sees it as an actor: its
// creation, each message it takes and its end are reported to the host's system as XState reports
// an actor's. A component whose logic is a machine is not hosted: it stays its own actor.
import type { AnyActorRef, EventObject, Subscription } from 'xstate';
import { recordOf, type Receiver } from './actorRecord.js';
import type { AnyComponent } from './component.js';
import type { ComponentRef } from './componentRef.js';
import type { AnyActorSystem } from './events.js';
import { bodyOf, createScope, end, handlerFor, newInstance, runHandler, type ComponentSnapshot, type Instance } from './componentLogic.js';
import { Mailbox } from './mailbox.js';
import { registerComponent } from './registry.js';
import { deliverFromOutbox, ROUTES_ITS_OUTBOXES } from './routing.js';
import { inspectActor, inspectEvent, inspectSnapshot } from './xstateInternals.js';

type Outcome = NonNullable<Instance['pending']>;
type Listener = (event: { type: string; data: unknown }) => void;

const INIT: EventObject = Object.freeze({ type: 'xstate.init' });
const STOP: EventObject = Object.freeze({ type: 'xstate.stop' });
let nextSession = 0;

/** Whether `component` can be hosted: its logic is a plain body (defineComponent({ body })). */
export function isHostable(component: AnyComponent): boolean {
  return bodyOf(component.logic) !== undefined && component.graph === undefined;
}

/**
 * Creates (does not start) `component`, a body component, hosted under `parent`: a child of it for
 * paths and the inspector, with id `id`. `onEnd` is told when it finishes or fails (not when stopped).
 */
export function hostBody(parent: AnyActorRef, component: AnyComponent, id: string, name: string, onEnd: (failure?: { readonly error: unknown }) => void): HostedBody {
  const hosted = new HostedBody(parent, component, id, onEnd);
  registerComponent(hosted, { component, name, parent });
  inspectActor(hosted.system, hosted);
  return hosted;
}

/** The ref of a hosted body: a {@link ComponentRef}, as routing, chassis and inspector take one, and its own receiver. */
export class HostedBody implements ComponentRef, Receiver {
  readonly sessionId: string;
  readonly system: AnyActorSystem;
  private readonly instance: Instance = newInstance();
  private snapshot: ComponentSnapshot;
  /** Outbox listeners by box: one function, or an array once a box has several. */
  private listeners: Record<string, Listener | Listener[] | undefined> | undefined;
  /** Held until start: what arrives before waits its turn. */
  private readonly mailbox = new Mailbox(this, true);
  private started = false;

  constructor(
    readonly _parent: AnyActorRef,
    private readonly component: AnyComponent,
    readonly id: string,
    private readonly onEnd: (failure?: { readonly error: unknown }) => void,
  ) {
    this.sessionId = `h:${nextSession++}`;
    this.system = _parent.system as AnyActorSystem;
    this.snapshot = { status: 'active', output: undefined, error: undefined, input: component.input };
    recordOf(this).receiver = this;
  }

  getSnapshot(): ComponentSnapshot {
    return this.snapshot;
  }

  start(): this {
    if (this.started) return this;
    this.started = true;
    inspectEvent(this, INIT);
    const instance = this.instance;
    const scope = createScope(instance, this, undefined, this.system, this);
    try {
      const dispose = bodyOf(this.component.logic)!(scope, this.component.input);
      instance.dispose = typeof dispose === 'function' ? dispose : undefined;
    } catch (error) {
      instance.inTransition = false;
      this.settle({ status: 'error', error });
      return this;
    } finally {
      instance.inTransition = false;
    }
    inspectSnapshot(this, INIT, this.snapshot);
    const pending = instance.pending as Instance['pending'];
    instance.pending = undefined;
    if (pending) this.settle(pending);
    else this.mailbox.release();
    return this;
  }

  /** A message to one of its boxes: run now, or in line behind the handler running. */
  receive(box: string, data: unknown): boolean {
    if (this.snapshot.status === 'active') this.mailbox.deliver(box, data);
    return true; // once ended, dropped as a stopped actor's would be
  }

  send(event: { readonly type: string; readonly data?: unknown }): void {
    this.receive(event.type, event.data);
  }

  on(type: string, listener: Listener): Subscription {
    const listeners = (this.listeners ??= {});
    const existing = Object.hasOwn(listeners, type) ? listeners[type] : undefined;
    Object.defineProperty(listeners, type, {
      value: existing === undefined ? listener : Array.isArray(existing) ? [...existing, listener] : [existing, listener],
      writable: true,
      enumerable: true,
      configurable: true,
    });
    return {
      unsubscribe: () => {
        const current = listeners[type];
        if (current === listener) listeners[type] = undefined;
        else if (Array.isArray(current)) listeners[type] = current.filter((l) => l !== listener);
      },
    };
  }

  /** Stops it now, as XState stops an actor: its cleanup runs; no end is reported to onEnd. */
  _stop(): this {
    if (this.snapshot.status !== 'active') return this;
    this.mailbox.clear();
    end(this.instance);
    this.record({ status: 'stopped', output: undefined, error: undefined, input: this.snapshot.input }, STOP);
    return this;
  }

  /** Its links need no listener: emit() delivers along them (routing). */
  get [ROUTES_ITS_OUTBOXES](): true {
    return true;
  }

  toJSON(): { xstate$$type: number; id: string } {
    return { xstate$$type: 1, id: this.id };
  }

  /** What its body sends out of `box` (the scope calls it). */
  emit(box: string, data: unknown): void {
    deliverFromOutbox(this, box, data);
    const listeners = this.listeners && Object.hasOwn(this.listeners, box) ? this.listeners[box] : undefined;
    if (listeners === undefined) return;
    const event = { type: box, data };
    if (typeof listeners === 'function') listeners(event);
    else for (const listener of listeners) listener(event);
  }

  /** One message, its turn come (the mailbox calls it). */
  take(box: string, data: unknown): void {
    if (this.snapshot.status !== 'active') return;
    const instance = this.instance;
    const event = { type: box, data };
    inspectEvent(this, event);
    const handler = handlerFor(instance, box);
    const outcome = handler && runHandler(instance, handler, data);
    if (outcome) this.conclude(outcome, event);
    else inspectSnapshot(this, event, this.snapshot);
  }

  /** finish()/fail() called outside a handler (the scope calls it): it ends now. */
  endLater(outcome: Outcome): void {
    this.settle(outcome);
  }

  /** finish()/fail() called outside a handler (or during start): it ends now. */
  private settle(outcome: Outcome): void {
    if (this.snapshot.status !== 'active') return;
    try {
      end(this.instance);
    } catch (cleanupError) {
      if (outcome.status === 'done') outcome = { status: 'error', error: cleanupError };
    }
    this.conclude(outcome, { type: outcome.status === 'done' ? 'kamaelia.finish' : 'kamaelia.fail' });
  }

  /** Records the end (the instance has ended) and tells the host. */
  private conclude(outcome: Outcome, event: EventObject): void {
    this.mailbox.clear();
    const { input } = this.snapshot;
    if (outcome.status === 'done') {
      this.record({ status: 'done', output: undefined, error: undefined, input }, event);
      this.onEnd();
    } else {
      this.record({ status: 'error', output: undefined, error: outcome.error, input }, event);
      this.onEnd({ error: outcome.error });
    }
  }

  private record(snapshot: ComponentSnapshot, event: EventObject): void {
    this.snapshot = snapshot;
    this.listeners = undefined;
    inspectSnapshot(this, event, snapshot);
  }
}
