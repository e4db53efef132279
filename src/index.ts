// kamaelia-xstate: Kamaelia's components as XState v5 actors.
import { onWorkerRecords as subscribeWorkerRecords, setWorkerRecordSource } from './chassis/clusterRecords.js';
import type { InspectorRecord } from '../inspector/records.js';
import { LifecycleTracker } from '../inspector/lifecycle.js';
export * from './kernel/messages.js';
export { box, defineComponent, checkedLogic, isComponent } from './kernel/component.js';
export type { AnyComponent, Box, BoxSpec, Component, ComponentOptions, GraphLayout, InboxesOf, Link, MessagesOf, OutboxesOf } from './kernel/component.js';
export type { InboxEvent, OutboxEvent } from './kernel/events.js';
export { componentLogic } from './kernel/componentLogic.js';
export type { ComponentBody, ComponentScope } from './kernel/componentLogic.js';
export type { ComponentRef } from './kernel/componentRef.js';
export { Pipeline } from './graph/Pipeline.js';
export type { CheckedPipeline, PipelineMismatch } from './graph/Pipeline.js';
export { Graphline } from './graph/Graphline.js';
export type { Linkages } from './graph/Graphline.js';
export { run, DEFAULT_HANDLE_HIGH_WATER_BYTES, DEFAULT_HANDLE_HIGH_WATER_MESSAGES } from './kernel/run.js';
export { childrenOf } from './kernel/childActors.js';
export type { HighWaterMark, NextOptions, RunActor, RunEvent, RunHandle, RunOptions, RunResult, RunSnapshot } from './kernel/run.js';
export { canSend, setInboxOpen, whenCanSend } from './kernel/routing.js';
export { componentInfo, componentPath } from './kernel/registry.js';
export type { ComponentInfo } from './kernel/registry.js';
export { OneShot } from './components/OneShot.js';
export { DataSource } from './components/DataSource.js';
export { ConsoleReader } from './components/ConsoleReader.js';
export type { ConsoleReaderOptions } from './components/ConsoleReader.js';
export { ConsoleEchoer } from './components/ConsoleEchoer.js';
export type { ConsoleEchoerOptions } from './components/ConsoleEchoer.js';
export { EchoProtocol } from './components/EchoProtocol.js';
export { RateControlledFileReader } from './components/RateControlledFileReader.js';
export type { RateControlledFileReaderOptions } from './components/RateControlledFileReader.js';
export { Lines, DEFAULT_MAX_LINE_LENGTH } from './components/Lines.js';
export type { LinesOptions } from './components/Lines.js';
export { fromReadable } from './components/fromReadable.js';
export { toWritable } from './components/toWritable.js';
export type { ToWritableOptions } from './components/toWritable.js';
export { ChatRoom } from './components/ChatRoom.js';
export { toDuplex } from './components/toDuplex.js';
export type { ToDuplexOptions } from './components/toDuplex.js';
export { ConnectedSocketAdapter } from './internet/ConnectedSocketAdapter.js';
export type { ConnectedSocketAdapterOptions } from './internet/ConnectedSocketAdapter.js';
export type { CsaSignal, SslReady } from '../machines/connectedSocketAdapter.js';
export type { ReadReadiness, SendReadiness } from '../machines/selector.js';
export type { ClientTlsOptions, ServerTlsOptions, TlsUpgradeOptions } from '../actors/tlsUpgrade.js';
export { TCPClient } from './internet/TCPClient.js';
export type { TCPClientOptions } from './internet/TCPClient.js';
export { TCPServer } from './internet/TCPServer.js';
export {
  checkDuration,
  DEFAULT_CLIENT_HANDSHAKE_TIMEOUT,
  DEFAULT_CLOSE_TIMEOUT,
  DEFAULT_CONNECT_TIMEOUT,
  DEFAULT_DRAIN_TIMEOUT,
  DEFAULT_SERVER_HANDSHAKE_TIMEOUT,
  MAX_DURATION_MS,
} from './internet/options.js';
export type { CSAOptions, ProtocolHandlerSignal, ServerStartTlsOptions, ServerSocketOptions, SniCertificates, TCPServerTlsOptions, TCPServerOptions } from './internet/TCPServer.js';
export { ConnectedServer, FastRestartServer, SimpleServer } from './chassis/ConnectedServer.js';
export type { ConnectedServerOptions, SimpleServerOptions } from './chassis/ConnectedServer.js';
export type { CheckedHandler, HandlerMismatch } from './chassis/connectionHandler.js';
export { SingleServer } from './chassis/SingleServer.js';
export type { SingleServerOptions } from './chassis/SingleServer.js';
export { serverStats } from './internet/serverStats.js';
export { parseProxyHeader, PROXY_V2_MAX_LENGTH } from './internet/proxyProtocol.js';
export type { ProxyParseResult } from './internet/proxyProtocol.js';
export type { ProxyProtocolOptions } from './internet/proxyGate.js';
export { replaceTlsCredentials, resumeAccepting, suspendAccepting } from './internet/acceptControl.js';
export { shutdownOn } from './chassis/shutdownOn.js';
export { agentCheck } from './chassis/agentCheck.js';
export type { AgentCheck, AgentCheckOptions, AgentCheckTarget, AgentState } from './chassis/agentCheck.js';
export { DIAGNOSTICS_CHANNELS } from './internet/diagnostics.js';
export type {
  ConnectionCloseMessage,
  ConnectionOpenMessage,
  DiagnosticsChannelName,
  DiagnosticsMessages,
  DiagnosticsServer,
  ProxyAcceptedMessage,
  ProxyRejectedMessage,
  ServerErrorMessage,
  ServerEventMessage,
  TlsHandshakeErrorMessage,
  TlsHandshakeMessage,
  TlsHandshakeStartMessage,
} from './internet/diagnostics.js';
/**
 * In a cluster's primary: calls `listener` with the inspector records of every worker started from
 * now on, their ids, lanes and paths prefixed by worker (`w2/…`, `worker 2/…`), so the primary's
 * inspector can show every worker's connections. Returns a function that unsubscribes.
 */
export const onWorkerRecords = subscribeWorkerRecords as (listener: (worker: number, records: readonly InspectorRecord[]) => void) => () => void;
export type { ClusterOptions, WorkerRestartOptions } from './chassis/clusterPrimary.js';
export type { ShutdownOnOptions, ShutdownTarget } from './chassis/shutdownOn.js';
export type { TcpServerStats as ServerStats } from '../machines/tcpServer.js';
export { createInspector, LifecycleTracker, LIFECYCLE_STATES } from '../inspector/index.js';
export type { Inspector, InspectorOptions, InspectorRecord, LifecycleState, LifecycleTrackerOptions } from '../inspector/index.js';
export type { ActorRecord, BoxRef, BytesRecord, DroppedRecord, EndRecord, HelloRecord, JoinRecord, LaneRecord, LogRecord, MachineRecord, PeerRecord, ReasonRecord, StateRecord, StepRecord, StepsDroppedRecord, TlsRecord, TrimmedRecord, WireRecord } from '../inspector/records.js';

// Cluster workers send their connections' inspector records to the primary: the chassis lies below
// the inspector, so the entry hands it the inspector's tracker.
setWorkerRecordSource((server) => {
  const tracker = new LifecycleTracker();
  tracker.noteExisting(server);
  const inspection = server.system.inspect(tracker.observe);
  return { drain: () => tracker.drain(), stop: () => inspection.unsubscribe() };
});
