// `kamaelia-xstate/machines`: the pure lifecycle machines. Importing this opens no socket.
export { graphSupervisorMachine } from './graphSupervisor.js';
export type { GraphSupervisorContext, GraphSupervisorEvent, GraphSupervisorInput } from './graphSupervisor.js';
export { connectedSocketAdapterMachine } from './connectedSocketAdapter.js';
export type { CsaBindingOptions, CsaContext, CsaEmitted, CsaEvent, CsaInput, CsaOutput, CsaSignal, SocketAbort, SocketCommand, SocketReport, SslReady } from './connectedSocketAdapter.js';
export { tcpClientMachine } from './tcpClient.js';
export type { ConnectRequest, ConnectorEvent, TcpClientContext, TcpClientEmitted, TcpClientEvent, TcpClientInput } from './tcpClient.js';
export { selectorMachine, SELECTOR_SYSTEM_ID, newReader, newWriter, removeReader, removeWriter } from './selector.js';
export type { ReadReadiness, SendReadiness, Selectable, SelectorContext, SelectorEvent, SelectorNotice, SelectorRegistration, SelectorRemoval } from './selector.js';
export { Opaque } from './opaque.js';
export { tcpServerMachine } from './tcpServer.js';
export type { AcceptControlEvent, ListenerCommand, ListenerReport, TcpServerContext, TcpServerEmitted, TcpServerEvent, TcpServerInput, TcpServerStats } from './tcpServer.js';
