// The Selector's node binding: the readiness service that listens to registered sockets, and the
// lookup that finds the system's Selector or creates it on first use (Kamaelia's
// getSelectorService through the Coordinating Assistant Tracker; here the XState system registry).
import { createActor, fromCallback, type AnyActorRef } from 'xstate';
import type { AnyActorSystem } from '../src/kernel/events.js';
import { findRecord, recordOf } from '../src/kernel/actorRecord.js';
import { deliverToInbox, receiverOf } from '../src/kernel/routing.js';
import { parentOf } from '../src/kernel/childActors.js';
import {
  SELECTOR_SYSTEM_ID,
  selectorMachine,
  type ReadReadiness,
  type Selectable,
  type SelectorEvent,
  type SelectorNotice,
  type SendReadiness,
} from '../machines/selector.js';

const READABLE: ReadReadiness = Object.freeze({ readiness: 'readable' });
const END: ReadReadiness = Object.freeze({ readiness: 'end' });
const DRAIN: SendReadiness = Object.freeze({ readiness: 'drain' });

/** One registration: the box told about a socket's readiness. */
interface Watch {
  readonly target: AnyActorRef;
  readonly box: string;
  /** The target's receiver, when it takes readiness directly. */
  readonly direct: ReadinessReceiver | undefined;
}

function watchOf(target: AnyActorRef, box: string): Watch {
  const receiver = receiverOf(target);
  return { target, box, direct: takesReadiness(receiver) ? receiver : undefined };
}

/**
 * The registrations of one Selector. A connection costs a table entry and a two-field record: the
 * socket listeners are shared by every socket (Node calls them with `this` = the socket) and look
 * the registration up when they fire, so a removed registration stays quiet even inside an event
 * that was already being emitted.
 */
class Registry {
  readonly readers = new Map<Selectable, Watch>();
  readonly writers = new Map<Selectable, Watch>();
  private readonly onReadable: (this: Selectable) => void;
  private readonly onEnd: (this: Selectable) => void;
  private readonly onError: (this: Selectable, error: Error) => void;
  private readonly onClose: (this: Selectable, hadError: boolean) => void;
  private readonly onDrain: (this: Selectable) => void;

  constructor(private readonly report: (event: SelectorEvent) => void) {
    const { readers, writers } = this;
    // The library's own socket bindings are called directly; any other registrant (Kamaelia's way)
    // gets the readiness in the inbox it named.
    const tell = (watch: Watch | undefined, readiness: ReadReadiness | SendReadiness): void => {
      if (!watch) return;
      if (watch.direct) watch.direct.onReadiness(readiness);
      else deliverToInbox(watch.target, watch.box, readiness);
    };
    this.onReadable = function (this: Selectable) {
      const watch = readers.get(this);
      if (watch?.direct?.pump) watch.direct.pump();
      else tell(watch, READABLE);
    };
    this.onEnd = function (this: Selectable) {
      tell(readers.get(this), END);
    };
    this.onError = function (this: Selectable, error: Error) {
      tell(readers.get(this), { readiness: 'error', error });
    };
    this.onClose = function (this: Selectable, hadError: boolean) {
      tell(readers.get(this), { readiness: 'close', hadError });
    };
    this.onDrain = function (this: Selectable) {
      tell(writers.get(this), DRAIN);
    };
  }

  get size(): number {
    return this.readers.size + this.writers.size;
  }

  apply(notice: SelectorNotice): void {
    const before = this.size;
    const { socket } = notice;
    switch (notice.kind) {
      case 'newReader':
        // As in Kamaelia the first registrant of a socket wins; a duplicate is ignored.
        if (this.readers.has(socket)) return;
        this.readers.set(socket, watchOf(notice.target, notice.box));
        socket.on('readable', this.onReadable).on('end', this.onEnd).on('error', this.onError).on('close', this.onClose);
        break;
      case 'newWriter':
        if (this.writers.has(socket)) return;
        this.writers.set(socket, watchOf(notice.target, notice.box));
        socket.on('drain', this.onDrain);
        break;
      case 'removeReader':
        if (!this.readers.delete(socket)) return;
        socket.off('readable', this.onReadable).off('end', this.onEnd).off('error', this.onError).off('close', this.onClose);
        break;
      case 'removeWriter':
        if (!this.writers.delete(socket)) return;
        socket.off('drain', this.onDrain);
        break;
    }
    // The Selector machine hears only when the count crosses zero, not every registration.
    const after = this.size;
    if (before === 0 && after > 0) this.report({ type: 'selector.busy', registrations: after });
    else if (before > 0 && after === 0) this.report({ type: 'selector.idle' });
  }

  /** Detaches from every socket (the Selector is stopping: nobody to report to). */
  clear(): void {
    for (const socket of this.readers.keys()) socket.off('readable', this.onReadable).off('end', this.onEnd).off('error', this.onError).off('close', this.onClose);
    for (const socket of this.writers.keys()) socket.off('drain', this.onDrain);
    this.readers.clear();
    this.writers.clear();
  }
}

declare module '../src/kernel/actorRecord.js' {
  interface ActorRecord {
    /** A running Selector's registrations, so they can skip the machine (actors/selector.ts, notifySelector). */
    selectorRegistry?: Registry;
  }
}

/** A receiver the Selector calls directly with a socket's readiness, instead of delivering it to an inbox. */
export interface ReadinessReceiver {
  onReadiness(readiness: ReadReadiness | SendReadiness): void;
  /** 'readable', the hot one: called straight from the socket's event (one frame fewer on every chunk). */
  pump?(): void;
}

function takesReadiness(receiver: unknown): receiver is ReadinessReceiver {
  return typeof (receiver as Partial<ReadinessReceiver> | undefined)?.onReadiness === 'function';
}

/** Listens to each registered socket; notices sent to the Selector machine's notify inbox end up here too. */
const readiness = fromCallback<{ type: 'notify'; data: SelectorNotice }>(({ receive, sendBack, self }) => {
  const registry = new Registry(sendBack);
  const selector = parentOf(self);
  if (selector) recordOf(selector).selectorRegistry = registry;
  receive(({ data: notice }) => registry.apply(notice));
  return () => {
    const record = selector && findRecord(selector);
    if (record && record.selectorRegistry === registry) record.selectorRegistry = undefined;
    registry.clear();
  };
});

/** The Selector with its node binding. */
export const selectorLogic = selectorMachine.provide({ actors: { readiness } });

/**
 * The actor system's Selector, created on first use. Its parent is the first user (as in Kamaelia,
 * where the component that created the Selector activates it), but it is not that user's child in
 * XState's table, so it outlives it and serves every later user in the same system.
 */
export function getSelector(system: AnyActorSystem, firstUser: AnyActorRef): AnyActorRef {
  const existing = system.get(SELECTOR_SYSTEM_ID) as AnyActorRef | undefined;
  if (existing && existing.getSnapshot().status === 'active') return existing;
  const selector = createActor(selectorLogic, { parent: firstUser, systemId: SELECTOR_SYSTEM_ID, id: SELECTOR_SYSTEM_ID });
  selector.start();
  return selector;
}

/**
 * A registration or removal for the Selector: applied to its registry at once (the machine's
 * `notify` would only relay it there, a macrostep per notice, four per connection), or sent to
 * its notify inbox if its readiness service is not running.
 */
export function notifySelector(selector: AnyActorRef, notice: SelectorNotice): void {
  const registry = findRecord(selector)?.selectorRegistry;
  if (registry) registry.apply(notice);
  else selector.send({ type: 'notify', data: notice });
}
