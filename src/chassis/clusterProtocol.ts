// What a cluster primary and its workers say to each other over node:cluster's IPC channel. Every
// message is tagged, so a program's own IPC messages pass by untouched.
import type { ListenerOperation } from '../../actors/listener.js';
import type { TcpServerStats } from '../../machines/tcpServer.js';
import type { WorkerRecord } from './clusterRecords.js';
import type { RelayedEvent } from './clusterDiagnostics.js';
import type { Listening, SignalMessage } from '../kernel/messages.js';

export const CLUSTER_TAG = 'kamaelia-xstate/cluster';
/** The worker's index (1..N), set by the primary in each worker's environment. */
export const WORKER_INDEX_ENV = 'KAMAELIA_WORKER_INDEX';
/** Set to 1 by the primary when something listens for its workers' inspector records. */
export const WORKER_INSPECT_ENV = 'KAMAELIA_WORKER_INSPECT';

export type WorkerToPrimary =
  | { readonly tag: typeof CLUSTER_TAG; readonly type: 'listening'; readonly listening: Listening }
  | { readonly tag: typeof CLUSTER_TAG; readonly type: 'stats'; readonly stats: TcpServerStats }
  /** The worker's server ended; `message` is what it sent on signal. */
  | { readonly tag: typeof CLUSTER_TAG; readonly type: 'ended'; readonly message: SignalMessage }
  | { readonly tag: typeof CLUSTER_TAG; readonly type: 'records'; readonly records: readonly WorkerRecord[] }
  /** The worker's diagnostics_channel events since its last report (clusterDiagnostics.ts). */
  | { readonly tag: typeof CLUSTER_TAG; readonly type: 'diagnostics'; readonly events: readonly RelayedEvent[] };

export type PrimaryToWorker =
  /** serverShutdown (graceful) or, with prompt, shutdownMicroprocess. */
  | { readonly tag: typeof CLUSTER_TAG; readonly type: 'shutdown'; readonly prompt: boolean }
  | { readonly tag: typeof CLUSTER_TAG; readonly type: 'operation'; readonly operation: ListenerOperation };

/** A message without its tag, as the sender writes it. */
export type Untagged<M> = M extends unknown ? Omit<M, 'tag'> : never;

export function isClusterMessage<T extends { tag: string }>(message: unknown): message is T {
  return typeof message === 'object' && message !== null && (message as { tag?: unknown }).tag === CLUSTER_TAG;
}
