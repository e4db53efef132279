// The XState internals we lean on, kept in one place so an upgrade has one file to check.
// - emit from outside a transition: a graph re-emits a child's outbox event as its own (Axon's
//   outbox passthrough) without a machine transition per message.
// - stop a child directly: XState leaves a failed machine's children running (statelyai/xstate#5153)
//   and we keep large child sets out of its children table (see childActors.ts).
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

/** Stops `ref` even if it has a parent (XState's public stop() is for root actors only). */
export function stopActor(ref: AnyActorRef): void {
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
