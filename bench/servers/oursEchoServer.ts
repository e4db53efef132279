// Ours: ConnectedServer(EchoProtocol), the library's echo server, run as a root component.
import { ConnectedServer, EchoProtocol, run, serverShutdown, serverStats } from '../../src/index.js';
import type { EchoServer } from './EchoServer.js';

export async function startOursEchoServer(host: string): Promise<EchoServer> {
  const handle = run(ConnectedServer({ port: 0, host, protocol: () => EchoProtocol() }));
  const listening = await handle.next('listening', { timeoutMs: 10_000 });
  return {
    port: listening.port,
    connections: () => serverStats(handle.actor)?.open,
    close: async () => {
      handle.send('control', serverShutdown());
      await Promise.race([handle.done, new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
      handle.stop();
    },
  };
}
