// A ConnectedServer with `workers` in a cluster worker process: it serves as any ConnectedServer
// does (node:cluster shares the primary's listening socket), and tells the primary that it listens,
// its counters, and that it ended; it takes the primary's shutdown and accept/TLS operations.
import cluster from 'node:cluster';
import type { AnyActorRef } from 'xstate';
import { serverShutdown, shutdownMicroprocess, type Listening, type SignalMessage } from '../kernel/messages.js';
import { deliverToInbox } from '../kernel/routing.js';
import { serverStats } from '../internet/serverStats.js';
import { operateListener } from '../internet/acceptControl.js';
import { workerRecordSource } from './clusterRecords.js';
import { relayDiagnostics, WORKER_DIAGNOSTICS_ENV } from './clusterDiagnostics.js';
import { CLUSTER_TAG, WORKER_INSPECT_ENV, isClusterMessage, type PrimaryToWorker, type Untagged, type WorkerToPrimary } from './clusterProtocol.js';

/** How often a worker reports its counters (and inspector records) to the primary. */
const REPORT_INTERVAL_MS = 200;

export function isClusterWorker(): boolean {
  return cluster.isWorker;
}

type Report = Untagged<WorkerToPrimary>;

function tell(message: Report, sent: () => void = () => {}): void {
  if (process.connected && process.send) process.send({ tag: CLUSTER_TAG, ...message }, undefined, undefined, sent);
  else sent();
}

/** Wires the server `self` (a ConnectedServer in this worker) to the primary. Call once it is created. */
export function joinCluster(self: AnyActorRef): void {
  let endMessage: SignalMessage | undefined;
  const subscriptions = [
    self.on('listening', (event: { data: Listening }) => tell({ type: 'listening', listening: event.data })),
    self.on('signal', (event: { data: SignalMessage }) => (endMessage = event.data)),
  ];
  const records = process.env[WORKER_INSPECT_ENV] === '1' ? workerRecordSource(self) : undefined;
  const diagnostics = process.env[WORKER_DIAGNOSTICS_ENV] === '1' ? relayDiagnostics() : undefined;
  const report = (): void => {
    const stats = serverStats(self);
    if (stats) tell({ type: 'stats', stats });
    const drained = records?.drain();
    if (drained && drained.length > 0) tell({ type: 'records', records: drained });
    const events = diagnostics?.drain();
    if (events && events.length > 0) tell({ type: 'diagnostics', events });
  };
  const timer = setInterval(report, REPORT_INTERVAL_MS);
  timer.unref();
  const onMessage = (message: unknown): void => {
    if (!isClusterMessage<PrimaryToWorker>(message)) return;
    if (message.type === 'shutdown') deliverToInbox(self, 'control', message.prompt ? shutdownMicroprocess() : serverShutdown());
    else if (message.type === 'operation') operateListener(self, message.operation);
  };
  process.on('message', onMessage);
  const ended = (): void => {
    clearInterval(timer);
    report();
    records?.stop();
    diagnostics?.stop();
    for (const subscription of subscriptions) subscription.unsubscribe();
    process.off('message', onMessage);
    // Then nothing more to serve: let go of the IPC channel so the worker process can exit.
    tell({ type: 'ended', message: endMessage ?? { kind: 'producerFinished' } }, () => cluster.worker?.disconnect());
  };
  self.subscribe({ complete: ended, error: ended });
}
