// The XState internals we lean on, all in this file, each only where no public API can do the job,
// and each checked when this module loads (checkInternals below): an XState upgrade that changes
// one fails at import with the version named, instead of silently reordering or losing messages.
//
// - `_actorScope.emit` (emitFrom): routing re-emits a message out of a graph's, a CSA's or a
//   server's outbox at delivery time, outside any transition of that actor. XState lets only an
//   actor's own logic emit, inside a transition; making the machine emit instead costs a macrostep
//   per message (~2 µs) and queues behind its mailbox, out of order with direct deliveries.
// - `_stop()` (stopActor): ActorRef.stop() throws for a child, and our children are made with
//   createActor({ parent }) outside the parent's snapshot.children (childActors.ts), so no stopChild
//   action reaches them; XState also leaves a failed machine's children running (statelyai/xstate#5153).
// - `system._sendInspectionEvent` (inspectEvent, inspectSnapshot, inspectActor): inspectors still
//   see the messages that skip the mailbox and the bodies hosted inside a connection's actor
//   (hostedBody.ts). XState reports inspection events only for what passes through its own Actor.
import { createRequire } from 'node:module';
import { createActor, fromTransition, type AnyActorRef, type EventObject, type InspectionEvent } from 'xstate';
import type { ComponentRef } from './componentRef.js';

interface ActorInternals {
  _actorScope: { emit(event: EventObject): void };
  _stop(): void;
  /** 1 = running (XState's ProcessingStatus.Running): only read by the load-time check. */
  _processingStatus: number;
  system: { _sendInspectionEvent(event: object): void };
}

const RUNNING = 1;

function internals(ref: AnyActorRef | ComponentRef): ActorInternals {
  return ref as unknown as ActorInternals;
}

/** Emits `event` on `ref` as if its logic had emitted it: every `ref.on(type)` listener runs. */
export function emitFrom(ref: AnyActorRef, event: EventObject & { data?: unknown }): void {
  internals(ref)._actorScope.emit(event);
}

/** Stops `ref` even if it has a parent (XState's public stop() is for root actors only). */
export function stopActor(ref: ComponentRef): void {
  internals(ref)._stop();
}

/** Tells the system's inspectors about `event` reaching `ref`, as XState's relay does. */
export function inspectEvent(ref: ComponentRef, event: EventObject): void {
  internals(ref).system._sendInspectionEvent({ type: '@xstate.event', sourceRef: undefined, actorRef: ref, event });
}

/** Tells `system`'s inspectors that actor `ref` exists, as XState's Actor constructor does. */
export function inspectActor(system: unknown, ref: unknown): void {
  (system as ActorInternals['system'])._sendInspectionEvent({ type: '@xstate.actor', actorRef: ref });
}

/** Tells the system's inspectors `ref` took `event` and is at `snapshot`, as XState's update does. */
export function inspectSnapshot(ref: ComponentRef, event: EventObject, snapshot: unknown): void {
  internals(ref).system._sendInspectionEvent({ type: '@xstate.snapshot', actorRef: ref, event, snapshot });
}

/**
 * Runs each internal above on a throwaway actor and checks that it still does what we rely on.
 * Throws naming the installed XState version and the internal that changed. Runs when this module
 * loads; exported for tests.
 */
export function checkInternals(): void {
  const version = (createRequire(import.meta.url)('xstate/package.json') as { version: string }).version;
  const check = (ok: boolean, what: string): void => {
    if (!ok) {
      throw new Error(
        `kamaelia-xstate: the installed XState ${version} changed ${what}, an internal this library relies on ` +
          '(built against xstate 5.33.x; see src/kernel/xstateInternals.ts). Install xstate@~5.33.3 or update kamaelia-xstate.',
      );
    }
  };
  const inspected: InspectionEvent[] = [];
  const counter = createActor(fromTransition((count: number) => count + 1, 0), { inspect: (event) => inspected.push(event) });
  const actor = internals(counter);
  check(typeof actor._actorScope?.emit === 'function', 'Actor._actorScope.emit');
  check(typeof actor._stop === 'function', 'Actor._stop()');
  check(typeof actor.system?._sendInspectionEvent === 'function', 'ActorSystem._sendInspectionEvent()');
  counter.start();
  check(actor._processingStatus === RUNNING, 'Actor._processingStatus (1 = running)');

  let emitted: unknown;
  counter.on('probe', (event) => {
    emitted = (event as { data?: unknown }).data;
  });
  emitFrom(counter, { type: 'probe', data: 1 });
  check(emitted === 1, 'Actor._actorScope.emit (listeners from actor.on)');

  const seen = inspected.length;
  inspectEvent(counter, { type: 'probe' });
  check(inspected.length === seen + 1 && inspected[seen]!.type === '@xstate.event', 'ActorSystem._sendInspectionEvent (inspectors must receive it)');

  let stopped = false;
  counter.subscribe({ complete: () => (stopped = true) });
  stopActor(counter);
  check(stopped && actor._processingStatus !== RUNNING, 'Actor._stop() (the actor must stop)');
}

checkInternals();
