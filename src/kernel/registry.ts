// Which component each running actor is, where it sits in its graph, and its path: what error
// reports and the inspector name actors by.
import type { AnyActorRef } from 'xstate';
import type { AnyComponent } from './component.js';

/** What the routing layer and the inspector know about a running component. */
export interface ComponentInfo {
  readonly component: AnyComponent;
  /** The name within its graph, `<index>:<name>`; the root's is the component's name. */
  readonly name: string;
  /** The graph that spawned it; absent for a root. */
  readonly parent?: AnyActorRef;
}

const infos = new WeakMap<AnyActorRef, ComponentInfo>();

export function registerComponent(ref: AnyActorRef, info: ComponentInfo): void {
  infos.set(ref, info);
}

/**
 * What is known about a running component (its definition, name and graph), or undefined for an actor that is not one.
 * @param ref - the running actor
 */
export function componentInfo(ref: AnyActorRef): ComponentInfo | undefined {
  return infos.get(ref);
}

/** Slash-separated path from the root, e.g. `Pipeline/1:TCPClient`. */
export function componentPath(ref: AnyActorRef): string {
  const info = infos.get(ref);
  if (!info) return ref.id;
  return info.parent ? `${componentPath(info.parent)}/${info.name}` : info.name;
}
