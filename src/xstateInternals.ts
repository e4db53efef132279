// The two XState internals we lean on, kept in one place so an upgrade has one file to check.
// - emit from outside a transition: a graph re-emits a child's outbox event as its own (Axon's
//   outbox passthrough) without a machine transition per message.
// - stop a child directly: XState leaves a failed machine's children running (statelyai/xstate#5153),
//   so whoever supervises it must stop them to release their sockets.
// - index the scheduler's delayed events by actor, so stopping an actor does not scan them all.
import type { AnyActorRef, EventObject } from 'xstate';

interface ActorInternals {
  _actorScope: { emit(event: EventObject): void };
  _stop(): void;
  _parent?: AnyActorRef;
}

function internals(ref: AnyActorRef): ActorInternals {
  return ref as unknown as ActorInternals;
}

/** Emits `event` on `ref` as if its logic had emitted it: every `ref.on(type)` listener runs. */
export function emitFrom(ref: AnyActorRef, event: EventObject & { data?: unknown }): void {
  internals(ref)._actorScope.emit(event);
}

/** Stops `ref` and, first, every descendant still running under it. */
export function stopTree(ref: AnyActorRef): void {
  const snapshot = ref.getSnapshot() as { children?: Record<string, AnyActorRef | undefined> };
  for (const child of Object.values(snapshot.children ?? {})) {
    if (child) stopTree(child);
  }
  internals(ref)._stop();
}

export function parentOf(ref: AnyActorRef): AnyActorRef | undefined {
  return internals(ref)._parent;
}

export function rootOf(ref: AnyActorRef): AnyActorRef {
  let current = ref;
  for (let parent = parentOf(current); parent; parent = parentOf(current)) current = parent;
  return current;
}

/** XState's actor-system scheduler (public on ActorSystem, but its type is not exported). */
interface Scheduler {
  schedule(source: AnyActorRef, target: AnyActorRef, event: EventObject, delay: number, id: string | undefined): void;
  cancel(source: AnyActorRef, id: string): void;
  cancelAll(actorRef: AnyActorRef): void;
}
const indexedSystems = new WeakSet<Scheduler>();

/**
 * Makes `scheduler.cancelAll(actor)`, which XState runs whenever an actor stops, cost that actor's
 * own delayed events instead of a scan of every delayed event in the system. With thousands of
 * connections each holding a timer (a CSA waiting for its peer's FIN) the scan makes closing them
 * all quadratic: measured, 3,000 connections closing at once spent ~5 s in cancelAll.
 */
export function indexScheduledEvents(system: { scheduler: Scheduler }): void {
  const scheduler = system.scheduler;
  if (indexedSystems.has(scheduler)) return;
  indexedSystems.add(scheduler);
  const schedule = scheduler.schedule.bind(scheduler);
  const cancel = scheduler.cancel.bind(scheduler);
  const bySource = new Map<AnyActorRef, Set<string>>();
  scheduler.schedule = (source, target, event, delay, id = Math.random().toString(36).slice(2)) => {
    let ids = bySource.get(source);
    if (!ids) bySource.set(source, (ids = new Set()));
    ids.add(id);
    schedule(source, target, event, delay, id);
  };
  scheduler.cancel = (source, id) => {
    const ids = bySource.get(source);
    if (ids?.delete(id) && ids.size === 0) bySource.delete(source);
    cancel(source, id);
  };
  scheduler.cancelAll = (actorRef) => {
    const ids = bySource.get(actorRef);
    if (!ids) return;
    bySource.delete(actorRef);
    for (const id of ids) cancel(actorRef, id);
  };
}
