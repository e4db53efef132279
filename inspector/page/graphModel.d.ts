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
  live: number;
  total: number;
}

export interface ElkNode {
  id: string;
  ports?: { id: string }[];
  children?: ElkNode[];
  edges?: { id: string; sources: string[]; targets: string[] }[];
  layoutOptions?: Record<string, string>;
}

export function componentGroups(store: PageStore): Map<string, ComponentGroup>;
export function structureKey(groups: Map<string, ComponentGroup>): string;
export function portId(key: string, direction: 'in' | 'out', box: string): string;
export function elkGraph(groups: Map<string, ComponentGroup>): ElkNode;
