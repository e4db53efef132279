// Types for store.js (the page is plain JavaScript served as is; tests import it from Node).
import type { ActorRecord, InspectorRecord, LifecycleState, LogRecord, ReasonRecord, WireRecord } from '../records.js';

export const STATES: readonly LifecycleState[];
export const LOG_KEEP: number;
export const DEFAULT_LIMITS: { readonly keepFinished: number; readonly stepsPerActor: number };

export interface PageActor extends ActorRecord {
  /** Its machine's state values over time (machine actors only). */
  readonly steps: { t: number; value: unknown; event: string }[];
  /** Steps dropped between its first ones and its latest (the per-actor cap). */
  stepsDropped: number;
  /** Index in `steps` where the dropped ones were. */
  gapAt: number | undefined;
  reason?: ReasonRecord;
  ended: boolean;
  status: 'active' | 'done' | 'error' | 'stopped';
  endedAt?: number;
}

export interface PageLane {
  readonly id: string;
  readonly side: 'client' | 'server';
  readonly path: string;
  peer: string | undefined;
  local: string | undefined;
  tls: string | undefined;
  /** The actors whose lifecycles make this connection (its own first). */
  readonly feeders: string[];
  readonly segments: { state: LifecycleState; t: number }[];
  bytesIn: number;
  bytesOut: number;
  reason: ReasonRecord | undefined;
  readonly openedAt: number;
  closedAt: number | undefined;
  activeAt: number;
}

export interface PageStore {
  startedAt: number | undefined;
  now: number;
  showPayloadBytes: number;
  showContext: boolean;
  limits: { keepFinished: number; stepsPerActor: number };
  droppedLanes: number;
  droppedActors: number;
  lanesSeen: number;
  /** The part number of a rotated recording, when replaying one. */
  part?: number;
  /** Machines whose definition arrived cut short, with the paths where. */
  truncated?: Map<string, readonly string[]>;
  readonly actors: Map<string, PageActor>;
  readonly lanes: Map<string, PageLane>;
  laneOrder: string[];
  openLanes: number;
  readonly stateCounts: Record<LifecycleState, number>;
  log: LogRecord[];
  logDropped: number;
  structureVersion: number;
  readonly machines: Map<string, unknown>;
  readonly wires: WireRecord[];
  ended: boolean;
  version: number;
}

export interface Counters {
  open: number;
  total: number;
  bytesInPerSecond: number;
  bytesOutPerSecond: number;
  eventsPerSecond: number;
}

export function createStore(): PageStore;
export function applyRecords(store: PageStore, records: readonly InspectorRecord[]): void;
export function applyRecord(store: PageStore, record: InspectorRecord): void;
export function counters(store: PageStore, at?: number): Counters;
export function storeAt(records: readonly InspectorRecord[], at: number): PageStore;
export function parseRecording(text: string): InspectorRecord[];
export function laneSpans(lane: PageLane, at: number): { state: LifecycleState; t: number; until: number }[];
export function isTerminal(state: string): boolean;
