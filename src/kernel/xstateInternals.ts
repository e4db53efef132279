// The XState internals we lean on, kept in one place so an upgrade has one file to check.
// - emit from outside a transition: a graph re-emits a child's outbox event as its own (Axon's
//   outbox passthrough) without a machine transition per message.
// - stop a child directly: XState leaves a failed machine's children running (statelyai/xstate#5153)
//   and we keep large child sets out of its children table (see childActors.ts).
// - whether an actor's mailbox is idle, and the inspection hook: a body component's data messages
//   skip the mailbox when nothing is queued (componentLogic.ts, handleNow), and inspectors still
//   see them.
import type { AnyActorRef, EventObject } from 'xstate';

interface ActorInternals {
  _actorScope: { emit(event: EventObject): void };
  _stop(): void;
  _parent?: AnyActorRef;
  /** 1 = running (XState's ProcessingStatus.Running). */
  _processingStatus: number;
  /** `_current` is the event being processed or next in line; null when nothing is. */
  mailbox: Mailbox;
  system: { _sendInspectionEvent(event: object): void };
}

interface MailboxEntry {
  value: unknown;
  next: MailboxEntry | null;
}

/** XState's Mailbox: a linked list it drains synchronously; `_current` is set while it works. */
interface Mailbox {
  _current: MailboxEntry | null;
  _last: MailboxEntry | null;
  flush(): void;
}

const RUNNING = 1;

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

/** Running, and neither processing an event nor holding one: an event sent now would run at once. */
export function isMailboxIdle(ref: AnyActorRef): boolean {
  const actor = internals(ref);
  return actor._processingStatus === RUNNING && actor.mailbox._current === null;
}

/** Tells the system's inspectors about `event` reaching `ref`, as XState's relay does. */
export function inspectEvent(ref: AnyActorRef, event: EventObject): void {
  internals(ref).system._sendInspectionEvent({ type: '@xstate.event', sourceRef: undefined, actorRef: ref, event });
}

/** Tells `system`'s inspectors that actor `ref` exists, as XState's Actor constructor does. */
export function inspectActor(system: unknown, ref: unknown): void {
  (system as ActorInternals['system'])._sendInspectionEvent({ type: '@xstate.actor', actorRef: ref });
}

/** Tells the system's inspectors `ref` took `event` and is at `snapshot`, as XState's update does. */
export function inspectSnapshot(ref: AnyActorRef, event: EventObject, snapshot: unknown): void {
  internals(ref).system._sendInspectionEvent({ type: '@xstate.snapshot', actorRef: ref, event, snapshot });
}

/**
 * Makes `ref`'s mailbox look busy while the caller handles an event in its place: whatever is sent
 * to `ref` meanwhile waits in line, exactly as if XState were processing that event. The returned
 * function hands the line back and lets XState work through it.
 */
export function holdMailbox(ref: AnyActorRef): () => void {
  const mailbox = internals(ref).mailbox;
  const held: MailboxEntry = { value: undefined, next: null };
  mailbox._current = held;
  mailbox._last = held;
  return () => {
    if (mailbox._current !== held) return; // cleared and replaced by a stop: nothing of ours left
    const waiting = held.next;
    if (waiting) {
      mailbox._current = waiting;
      mailbox.flush();
    } else {
      mailbox._current = null;
      mailbox._last = null;
    }
  };
}
