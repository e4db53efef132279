// Which component each running actor is, where it sits in its graph, and its path: what error
// reports and the inspector name actors by.
import type { ComponentRef } from './componentRef.js';
import { findRecord, recordOf } from './actorRecord.js';
import type { AnyComponent } from './component.js';

declare module './actorRecord.js' {
  interface ActorRecord {
    /** Its component definition, name and graph (registry.ts). */
    info?: ComponentInfo;
  }
}

/** What the routing layer and the inspector know about a running component. */
export interface ComponentInfo {
  readonly component: AnyComponent;
  /** The name within its graph, `<index>:<name>`; the root's is the component's name. */
  readonly name: string;
  /** The graph that spawned it; absent for a root. */
  readonly parent?: ComponentRef;
}

export function registerComponent(ref: ComponentRef, info: ComponentInfo): void {
  recordOf(ref).info = info;
}

/**
 * What is known about a running component (its definition, name and graph), or undefined for an actor that is not one.
 * @param ref - the running actor
 */
export function componentInfo(ref: ComponentRef): ComponentInfo | undefined {
  return findRecord(ref)?.info;
}

/** Slash-separated path from the root, e.g. `Pipeline/1:TCPClient`. */
export function componentPath(ref: ComponentRef): string {
  const info = findRecord(ref)?.info;
  if (!info) return ref.id;
  return info.parent ? `${componentPath(info.parent)}/${info.name}` : info.name;
}
