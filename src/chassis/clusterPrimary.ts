// A ConnectedServer with `workers: N` in the cluster's primary process: it serves nothing itself.
// It forks N workers running the same program (node:cluster), in which the same ConnectedServer
// call serves (clusterWorker.ts); it supervises them (a crashed worker is reported on `signal` and
// restarted with backoff; one that keeps crashing is given up on, said on `signal`), sends
// `listening` once all N listen, totals their serverStats, and on serverShutdown drains every
// worker within drainTimeout (plus closeTimeout) and ends once all have exited.
import cluster, { type Worker } from 'node:cluster';
import type { ListenerOperation } from '../../actors/listener.js';
import type { TcpServerStats } from '../../machines/tcpServer.js';
import { box, defineComponent } from '../kernel/component.js';
import { ownActor } from '../kernel/componentLogic.js';
import {
  componentFailed,
  isServerShutdown,
  isShutdownMicroprocess,
  producerFinished,
  reason,
  type Listening,
  type Reason,
  type SignalMessage,
} from '../kernel/messages.js';
import { checkDuration } from '../internet/options.js';
import { registerServerStats } from '../internet/serverStats.js';
import { registerOperator } from '../internet/acceptControl.js';
import { CLUSTER_TAG, WORKER_INDEX_ENV, WORKER_INSPECT_ENV, isClusterMessage, type PrimaryToWorker, type Untagged, type WorkerToPrimary } from './clusterProtocol.js';
import { deliverWorkerRecords, wantsWorkerRecords } from './clusterRecords.js';
import { republishDiagnostics, WORKER_DIAGNOSTICS_ENV } from './clusterDiagnostics.js';
import { hasDiagnosticsSubscribers } from '../internet/diagnostics.js';

/** How a cluster primary restarts crashed workers. */
export interface WorkerRestartOptions {
  /** A worker that crashes more than this many times within `window` is not restarted again. Default 5. */
  readonly limit?: number;
  /** Milliseconds over which crashes are counted. Default 60000. */
  readonly window?: number;
  /** Milliseconds before the first restart; doubled for each further crash within the window. Default 100. */
  readonly delay?: number;
  /** The longest wait before a restart, in milliseconds. Default 5000. */
  readonly maxDelay?: number;
}

/** The cluster options of ConnectedServer and SimpleServer. */
export interface ClusterOptions {
  /**
   * Run the server in this many worker processes (node:cluster), sharing its port. The primary
   * process forks them, running the same program, and supervises them; in each worker the same
   * ConnectedServer call serves.
   * @defaultValue none (serve in this process)
   */
  readonly workers?: number;
  /** How crashed workers are restarted. @defaultValue see {@link WorkerRestartOptions} */
  readonly workerRestarts?: WorkerRestartOptions;
}

/** Checks `workers` and `workerRestarts` (throws naming the bad one). */
export function checkClusterOptions(options: ClusterOptions, where: string): void {
  const { workers, workerRestarts } = options;
  if (workers !== undefined && (typeof workers !== 'number' || !Number.isInteger(workers) || workers < 1 || workers > 1024)) {
    throw new RangeError(`${where}: workers must be an integer from 1 to 1024, got ${String(workers)}`);
  }
  if (workerRestarts === undefined) return;
  if (workerRestarts === null || typeof workerRestarts !== 'object') throw new TypeError(`${where}: workerRestarts must be an object`);
  const { limit } = workerRestarts;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) throw new RangeError(`${where}: workerRestarts.limit must be a non-negative integer, got ${String(limit)}`);
  checkDuration(where, 'workerRestarts.window', workerRestarts.window);
  checkDuration(where, 'workerRestarts.delay', workerRestarts.delay);
  checkDuration(where, 'workerRestarts.maxDelay', workerRestarts.maxDelay);
}

interface Slot {
  readonly index: number;
  worker: Worker | undefined;
  /** When this slot's workers crashed, most recent last (only those within the window are kept). */
  crashes: number[];
  listening: boolean;
  /** The worker's server ended on its own or as asked: its exit is not a crash. */
  ended: boolean;
  stats: TcpServerStats | undefined;
  restartTimer: NodeJS.Timeout | undefined;
  abandoned: boolean;
}

const ZERO: TcpServerStats = { open: 0, accepted: 0, refused: 0, handshakeFailures: 0, lastHandshakeFailure: undefined, acceptErrors: 0, lastAcceptError: undefined, proxyRejected: 0 };

function add(total: TcpServerStats, stats: TcpServerStats, withOpen: boolean): TcpServerStats {
  return {
    open: total.open + (withOpen ? stats.open : 0),
    accepted: total.accepted + stats.accepted,
    refused: total.refused + stats.refused,
    handshakeFailures: total.handshakeFailures + stats.handshakeFailures,
    lastHandshakeFailure: stats.lastHandshakeFailure ?? total.lastHandshakeFailure,
    acceptErrors: total.acceptErrors + stats.acceptErrors,
    lastAcceptError: stats.lastAcceptError ?? total.lastAcceptError,
    proxyRejected: total.proxyRejected + stats.proxyRejected,
  };
}

export function clusterPrimary(name: string, options: ClusterOptions & { readonly drainTimeout: number; readonly closeTimeout: number }) {
  const count = options.workers ?? 1;
  const limit = options.workerRestarts?.limit ?? 5;
  const window = options.workerRestarts?.window ?? 60_000;
  const firstDelay = options.workerRestarts?.delay ?? 100;
  const maxDelay = options.workerRestarts?.maxDelay ?? 5000;
  // After serverShutdown: the workers' own drain and close, then a moment to exit, then SIGKILL.
  const exitDeadline = options.drainTimeout + options.closeTimeout + 2000;

  return defineComponent({
    name,
    inboxes: { control: box<SignalMessage>() },
    outboxes: { listening: box<Listening>(), signal: box<SignalMessage>() },
    body: ({ on, send, finish, actor }) => {
      const self = ownActor(actor, name);
      const slots: Slot[] = Array.from({ length: count }, (_, i) => ({
        index: i + 1,
        worker: undefined,
        crashes: [],
        listening: false,
        ended: false,
        stats: undefined,
        restartTimer: undefined,
        abandoned: false,
      }));
      /** Counters of workers that have exited, so totals do not go backwards. */
      let retired: TcpServerStats = ZERO;
      let announced = false;
      let stopping = false;
      let endMessage: SignalMessage | undefined;
      let failure: Reason | undefined;
      let killTimer: NodeJS.Timeout | undefined;
      let over = false;

      const label = (slot: Slot, worker: Worker): string => `${name} worker ${slot.index} (pid ${worker.process.pid ?? '?'})`;
      const tellWorker = (worker: Worker, message: Untagged<PrimaryToWorker>): void => {
        if (worker.isConnected()) worker.send({ tag: CLUSTER_TAG, ...message } as PrimaryToWorker, undefined, () => {});
      };
      const live = (): Slot[] => slots.filter((slot) => slot.worker !== undefined);

      const finishIfAllExited = (): void => {
        if (over || live().length > 0 || slots.some((slot) => slot.restartTimer !== undefined)) return;
        over = true;
        clearTimeout(killTimer);
        send('signal', endMessage ?? producerFinished(failure, { source: name }));
        finish();
      };

      const stop = (prompt: boolean, why?: SignalMessage): void => {
        if (!stopping) {
          stopping = true;
          endMessage = why;
          killTimer = setTimeout(() => {
            for (const slot of live()) slot.worker!.process.kill('SIGKILL');
          }, prompt ? options.closeTimeout + 2000 : exitDeadline);
        }
        for (const slot of slots) {
          clearTimeout(slot.restartTimer);
          slot.restartTimer = undefined;
        }
        for (const slot of live()) tellWorker(slot.worker!, { type: 'shutdown', prompt });
        finishIfAllExited();
      };

      const onMessage = (slot: Slot, message: unknown): void => {
        if (!isClusterMessage<WorkerToPrimary>(message)) return;
        if (message.type === 'stats') slot.stats = message.stats;
        else if (message.type === 'records') deliverWorkerRecords(slot.index, message.records);
        else if (message.type === 'diagnostics') republishDiagnostics(slot.index, message.events);
        else if (message.type === 'listening') {
          slot.listening = true;
          if (!announced && slots.every((each) => each.listening)) {
            announced = true;
            send('listening', message.listening);
          }
          if (stopping) tellWorker(slot.worker!, { type: 'shutdown', prompt: false }); // raced our shutdown
        } else if (message.type === 'ended') {
          slot.ended = true;
          if (stopping) return;
          // A worker's server that ended by itself (a handler's serversignal, a failed bind) ends the cluster.
          const why = 'reason' in message.message ? message.message.reason : undefined;
          if (why) failure = why;
          stop(false, why ? undefined : message.message);
        }
      };

      const fork = (slot: Slot): void => {
        slot.restartTimer = undefined;
        slot.listening = false;
        slot.ended = false;
        const worker = cluster.fork({ [WORKER_INDEX_ENV]: String(slot.index), [WORKER_INSPECT_ENV]: wantsWorkerRecords() ? '1' : '0', [WORKER_DIAGNOSTICS_ENV]: hasDiagnosticsSubscribers() ? '1' : '0' });
        slot.worker = worker;
        worker.on('message', (message: unknown) => onMessage(slot, message));
        worker.on('error', () => {}); // an IPC error shows as its exit
        worker.once('exit', (code, signal) => {
          slot.worker = undefined;
          if (slot.stats) retired = add(retired, slot.stats, false);
          slot.stats = undefined;
          if (stopping || over) {
            finishIfAllExited();
            return;
          }
          if (slot.ended && code === 0) return; // said it ended; the cluster is stopping on that
          const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
          const now = Date.now();
          slot.crashes = [...slot.crashes.filter((at) => now - at < window), now];
          if (slot.crashes.length > limit) {
            slot.abandoned = true;
            send('signal', componentFailed(label(slot, worker), reason('EWORKERGIVENUP', `${label(slot, worker)} ${how}; it crashed ${slot.crashes.length} times within ${window} ms, so it is not restarted`)));
            if (slots.every((each) => each.abandoned)) {
              failure = reason('ENOWORKERS', `${name}: every worker kept crashing; none is left to serve`);
              finishIfAllExited();
            }
            return;
          }
          const wait = Math.min(maxDelay, firstDelay * 2 ** (slot.crashes.length - 1));
          send('signal', componentFailed(label(slot, worker), reason('EWORKERCRASHED', `${label(slot, worker)} ${how}; restarting it in ${wait} ms`)));
          slot.restartTimer = setTimeout(() => fork(slot), wait);
        });
      };

      registerServerStats(self, () => {
        let total = retired;
        for (const slot of slots) if (slot.stats) total = add(total, slot.stats, true);
        return total;
      });
      registerOperator(self, (operation: ListenerOperation) => {
        const workers = live();
        for (const slot of workers) tellWorker(slot.worker!, { type: 'operation', operation });
        return workers.length > 0;
      });

      on('control', (message) => {
        if (isServerShutdown(message)) stop(false, message);
        else if (isShutdownMicroprocess(message)) stop(true, message);
      });
      for (const slot of slots) fork(slot);
      return () => {
        over = true;
        clearTimeout(killTimer);
        for (const slot of slots) {
          clearTimeout(slot.restartTimer);
          slot.worker?.process.kill('SIGTERM');
        }
      };
    },
  });
}
