// The inspector records of a cluster's workers, as the primary receives them: each record's actor
// ids, lanes and paths are prefixed with its worker (`w2/x:14`, `worker 2/ConnectedServer/...`), so
// one inspector in the primary can show every worker's connections side by side. An inspector in
// the primary subscribes with onWorkerRecords; workers send records only while someone does.
import type { AnyActorRef } from 'xstate';

/** One inspector record (inspector/records.ts), seen here only as JSON with a kind `k`. */
export interface WorkerRecord {
  readonly k: string;
}

export type WorkerRecordsListener = (worker: number, records: readonly WorkerRecord[]) => void;

/** What a worker drains its records from: the inspector's LifecycleTracker on the worker's server. */
export interface WorkerRecordSource {
  drain(): readonly WorkerRecord[];
  stop(): void;
}

let recordSource: ((server: AnyActorRef) => WorkerRecordSource) | undefined;

/**
 * Set by the package entry (src/index.ts), which may import the inspector: the chassis sits below
 * it and only knows this shape.
 */
export function setWorkerRecordSource(source: (server: AnyActorRef) => WorkerRecordSource): void {
  recordSource = source;
}

export function workerRecordSource(server: AnyActorRef): WorkerRecordSource | undefined {
  return recordSource?.(server);
}

const listeners = new Set<WorkerRecordsListener>();

/**
 * Calls `listener` with the inspector records of every cluster worker started from now on, labelled
 * by worker. Returns a function that unsubscribes.
 */
export function onWorkerRecords(listener: WorkerRecordsListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function wantsWorkerRecords(): boolean {
  return listeners.size > 0;
}

function label(worker: number, record: WorkerRecord): WorkerRecord {
  const prefix = `w${worker}/`;
  const relabelled: Record<string, unknown> = { ...(record as object) };
  for (const key of ['id', 'parent', 'lane', 'from'] as const) {
    const value = relabelled[key];
    if (typeof value === 'string') relabelled[key] = prefix + value;
  }
  if (typeof relabelled.path === 'string') relabelled.path = `worker ${worker}/${relabelled.path}`;
  return relabelled as unknown as WorkerRecord;
}

export function deliverWorkerRecords(worker: number, records: readonly WorkerRecord[]): void {
  if (listeners.size === 0) return;
  const labelled = records.filter((record) => record.k !== 'hello').map((record) => label(worker, record));
  for (const listener of listeners) listener(worker, labelled);
}
