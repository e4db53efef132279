// Types for graphModel.js (the page is plain JavaScript served as is; tests import it from Node).
import type { ActorRecord } from '../records.js';
import type { PageStore } from './store.js';

export interface ComponentGroup {
  readonly key: string;
  readonly label: string;
  readonly component: string | null;
  readonly inboxes: readonly string[];
  readonly outboxes: readonly string[];
  readonly graph: ActorRecord['graph'];
  readonly parentKey: string | undefined;
  readonly dynamic: boolean;
  /** A root actor that is not a component (a plain XState actor). */
  readonly plain: boolean;
  live: number;
  total: number;
  /** Actors of the group that ended in an error. */
  failed: number;
  /** The actor a click on the box shows. */
  newest: string;
}

export interface GroupWire {
  readonly key: string;
  readonly from: string;
  readonly outbox: string;
  readonly to: string;
  readonly inbox: string;
}

export type ComponentGroups = Map<string, ComponentGroup> & { keyOf: Map<string, string>; wires: GroupWire[] };

export interface ElkNode {
  id: string;
  ports?: { id: string }[];
  children?: ElkNode[];
  edges?: { id: string; sources: string[]; targets: string[]; wire?: boolean }[];
  layoutOptions?: Record<string, string>;
}

export function isDrawn(actor: { component: string | null; parent: string | null }): boolean;
export function componentGroups(store: PageStore): ComponentGroups;
export function structureKey(groups: ComponentGroups): string;
export function portId(key: string, direction: 'in' | 'out', box: string): string;
export function elkGraph(groups: ComponentGroups): ElkNode;
