// Ours: ConnectedServer(EchoProtocol), the library's echo server, run as a root component.
import * as library from '../../src/index.js';
import type { EchoServer } from './EchoServer.js';

// Until the chassis lands (issue 4) this adapter finds it at run time; the harness reports "ours" missing.
interface ChassisApi {
  ConnectedServer(options: { port: number; host: string; protocol: () => ReturnType<typeof library.EchoProtocol> }): library.Component<
    { control: library.SignalMessage },
    { listening: library.Listening; signal: library.SignalMessage }
  >;
}

export async function startOursEchoServer(host: string): Promise<EchoServer> {
  const { ConnectedServer } = library as unknown as Partial<ChassisApi>;
  if (typeof ConnectedServer !== 'function') throw new Error('ConnectedServer is not in this build of kamaelia-xstate');
  const handle = library.run(ConnectedServer({ port: 0, host, protocol: () => library.EchoProtocol() }));
  const listening = await handle.next('listening', { timeoutMs: 10_000 });
  return {
    port: listening.port,
    connections: () => undefined,
    close: async () => {
      handle.send('control', library.serverShutdown());
      await Promise.race([handle.done, new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
      handle.stop();
    },
  };
}
