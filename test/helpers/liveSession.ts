// A live session for inspector page tests, run in the test process: an echo server whose
// connections churn (a raw client connects, is echoed and closes every few milliseconds), three
// long-lived TCPClients that talk every 100 ms (their rows keep moving to the top of "newest
// activity first"), a TCPClient refused now and then, and a plain XState actor (not a component)
// that changes state every 200 ms.
import net from 'node:net';
import { createActor, createMachine } from 'xstate';
import { ConnectedServer, EchoProtocol, TCPClient, createInspector, producerFinished, run, serverShutdown, type Inspector, type InspectorOptions, type Listening } from 'kamaelia-xstate';

export interface LiveSession {
  readonly inspector: Inspector;
  readonly port: number;
  stop(): Promise<void>;
}

export const plainMachine = createMachine({
  id: 'metronome',
  initial: 'tick',
  states: { tick: { on: { beat: 'tock' } }, tock: { on: { beat: 'tick' } } },
});

export async function startLiveSession(options: InspectorOptions = {}): Promise<LiveSession> {
  const inspector = await createInspector({ flushIntervalMs: 50, ...options });
  const inspect = inspector.inspect;
  const server = run(ConnectedServer({ host: '127.0.0.1', port: 0, protocol: () => EchoProtocol() }), { inspect });
  const { port } = (await server.next('listening', { timeoutMs: 10_000 })) as Listening;
  const timers: NodeJS.Timeout[] = [];
  let stopped = false;

  // Churn: short connections, one every 25 ms.
  timers.push(
    setInterval(() => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.on('connect', () => socket.write('ping\n'));
      socket.on('data', () => socket.end());
      socket.on('error', () => {});
    }, 25),
  );

  // Long-lived clients that talk every 100 ms.
  const clients = Array.from({ length: 3 }, () => {
    const handle = run(TCPClient('127.0.0.1', port), { inspect });
    void (async () => {
      for await (const message of handle.messages('outbox')) void message;
    })().catch(() => {});
    return handle;
  });
  timers.push(
    setInterval(() => {
      for (const client of clients) client.send('inbox', Buffer.from('hello\n'));
    }, 100),
  );

  // Refused now and then: a port nobody listens on.
  const closed = net.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const refusedPort = (closed.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const refused = (): void => {
    if (stopped) return;
    const handle = run(TCPClient('127.0.0.1', refusedPort), { inspect });
    void handle.done.catch(() => {});
  };
  refused();
  timers.push(setInterval(refused, 2_000));

  // A plain actor, inspected directly.
  const metronome = createActor(plainMachine, { inspect }).start();
  timers.push(setInterval(() => metronome.send({ type: 'beat' }), 200));

  return {
    inspector,
    port,
    async stop() {
      stopped = true;
      for (const timer of timers) clearInterval(timer);
      metronome.stop();
      for (const client of clients) client.send('control', producerFinished());
      await Promise.race([Promise.all(clients.map((client) => client.done)), new Promise((resolve) => setTimeout(resolve, 3_000))]);
      server.send('control', serverShutdown());
      await Promise.race([server.done, new Promise((resolve) => setTimeout(resolve, 3_000))]);
      await inspector.close();
    },
  };
}
