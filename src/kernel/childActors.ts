// Children of a graph, kept in our own Map instead of XState's snapshot.children. XState copies
// that object on every spawn and stop, which turns quadratic once it has seen deletes
// (statelyai/xstate#4990: the 2nd graph of 10,000 children took 12 s to stop, the 1st 0.3 s). A child
// made with createActor({ parent }) still belongs to the parent's actor system, reports
// xstate.done.actor.<id> / xstate.error.actor.<id> to it and shows in inspection; the graph stops
// such children itself when it ends or is stopped.
import { createActor, type AnyActorLogic, type AnyActorRef } from 'xstate';
import { findRecord, recordOf } from './actorRecord.js';
import type { ComponentRef } from './componentRef.js';
import type { AnyComponent } from './component.js';
import { registerComponent } from './registry.js';
import { stopActor } from './xstateInternals.js';

declare module './actorRecord.js' {
  interface ActorRecord {
    /** Children made with createChildActor under it, by id (childActors.ts). */
    children?: Map<string, AnyActorRef>;
  }
}

const NONE: ReadonlyMap<string, AnyActorRef> = new Map();

/**
 * Creates (does not start) `component` as a child actor of `parent` with id `id`; in paths and the
 * inspector it sits under `shownUnder` (default `parent`).
 */
export function createChildActor(parent: AnyActorRef, component: AnyComponent, id: string, name: string, shownUnder: ComponentRef = parent): AnyActorRef {
  const ref = createActor(component.logic as AnyActorLogic, { parent, id, input: component.input }) as AnyActorRef;
  registerComponent(ref, { component, name, parent: shownUnder });
  const record = recordOf(parent);
  (record.children ??= new Map()).set(id, ref);
  return ref;
}

/** The children created under `parent` that it has not forgotten yet. */
export function childrenOf(parent: AnyActorRef): ReadonlyMap<string, AnyActorRef> {
  return findRecord(parent)?.children ?? NONE;
}

/** Drops an ended child from `parent`'s table so it can be collected. */
export function forgetChild(parent: ComponentRef, id: string): void {
  findRecord(parent)?.children?.delete(id);
}

/** Stops `ref` after every descendant still running under it, whether XState or we track them. */
export function stopTree(ref: ComponentRef): void {
  const snapshot = ref.getSnapshot() as { children?: Record<string, AnyActorRef | undefined> };
  for (const child of Object.values(snapshot.children ?? {})) {
    if (child) stopTree(child);
  }
  stopChildren(ref);
  stopActor(ref);
}

/** Stops every child created under `parent` (with their descendants) and forgets them. */
export function stopChildren(parent: ComponentRef): void {
  const record = findRecord(parent);
  const children = record?.children;
  if (!record || !children) return;
  record.children = undefined;
  for (const child of children.values()) stopTree(child);
}

/** The actor `ref` was created under; undefined for a root. (`_parent` is on XState's public ActorRef type.) */
export function parentOf(ref: ComponentRef): AnyActorRef | undefined {
  return ref._parent;
}

/** The root of `ref`'s actor tree. */
export function rootOf(ref: AnyActorRef): AnyActorRef {
  let current = ref;
  for (let parent = parentOf(current); parent; parent = parentOf(current)) current = parent;
  return current;
}
