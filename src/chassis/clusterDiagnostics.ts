// A cluster's diagnostics events reach its primary: where the primary has subscribers on the
// diagnostics channels when it forks (an OpenTelemetry bridge, an APM agent), each worker
// subscribes to its own channels, batches the events without their sockets, and sends them with its
// stats report; the primary publishes them again on its channels with `server.worker` set, so a
// subscriber in the primary sees every worker's connections (and metrics exported from the primary
// cover the whole cluster).
import {
  DIAGNOSTICS_CHANNELS,
  publishDiagnostics,
  type DiagnosticsChannelName,
  type DiagnosticsMessages,
  type DiagnosticsServer,
} from '../internet/diagnostics.js';
import diagnosticsChannel from 'node:diagnostics_channel';

/** One event as a worker sends it: the channel and the payload without sockets. */
export type RelayedEvent = readonly [DiagnosticsChannelName, Record<string, unknown>];

/** Set to 1 by the primary in its workers' environment when something in it subscribes. */
export const WORKER_DIAGNOSTICS_ENV = 'KAMAELIA_WORKER_DIAGNOSTICS';

/** What a worker keeps of a payload: everything but live objects (sockets) and the PROXY header's TLV bytes. */
function portable(message: Record<string, unknown>): Record<string, unknown> {
  const { socket: _socket, peer, ...rest } = message;
  if (peer === undefined) return rest;
  const { proxyHeader: _header, ...client } = peer as Record<string, unknown>;
  return { ...rest, peer: client };
}

/** In a worker: collects this process's events until drained. */
export function relayDiagnostics(): { drain(): readonly RelayedEvent[]; stop(): void } {
  let batch: RelayedEvent[] = [];
  const handlers = Object.values(DIAGNOSTICS_CHANNELS).map((name) => {
    const handler = (message: unknown): void => void batch.push([name, portable(message as Record<string, unknown>)]);
    diagnosticsChannel.subscribe(name, handler);
    return [name, handler] as const;
  });
  return {
    drain() {
      const drained = batch;
      batch = [];
      return drained;
    },
    stop() {
      for (const [name, handler] of handlers) diagnosticsChannel.unsubscribe(name, handler);
    },
  };
}

/** In the primary: the server description of each worker's server, one object per worker and server (as in the worker). */
const servers = new Map<string, DiagnosticsServer>();

/** In the primary: publishes worker `worker`'s events on this process's channels. */
export function republishDiagnostics(worker: number, events: readonly RelayedEvent[]): void {
  for (const [name, message] of events) {
    const server = message.server as DiagnosticsServer;
    const key = `${worker}|${server.name}|${server.transport}|${server.address}|${server.port}`;
    let labelled = servers.get(key);
    if (labelled === undefined) {
      labelled = { ...server, worker };
      servers.set(key, labelled);
    }
    publishDiagnostics(name, { ...message, server: labelled } as unknown as DiagnosticsMessages[typeof name]);
  }
}
