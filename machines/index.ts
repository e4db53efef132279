// `kamaelia-xstate/machines`: the pure lifecycle machines. Importing this opens no socket.
export { graphSupervisorMachine } from './graphSupervisor.js';
export type { GraphSupervisorContext, GraphSupervisorEvent, GraphSupervisorInput } from './graphSupervisor.js';
export { tcpServerMachine } from './tcpServer.js';
export type { ListenerCommand, ListenerReport, TcpServerContext, TcpServerEmitted, TcpServerEvent, TcpServerInput, TcpServerStats } from './tcpServer.js';
