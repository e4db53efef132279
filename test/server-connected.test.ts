// ConnectedServer (Kamaelia's ServerCore) over loopback: Kamaelia's wiring, isolation between
// connections, half-close, graceful and prompt shutdown, maxConnections and the idle timeout.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ConnectedServer,
  EchoProtocol,
  FastRestartServer,
  Pipeline,
  SimpleServer,
  run,
  serverShutdown,
  serverStats,
  shutdownMicroprocess,
  type PeerInfo,
  type AnyComponent,
  type Listening,
  type RunHandle,
  type SignalMessage,
} from 'kamaelia-xstate';
import { closed, connect, freePort, readAll, readBytes, until } from './server-helpers.js';
import { ControlLog, Deaf, Exploding, Goodbye, Stopper, Streamer, pattern } from './server-protocols.js';

type Server = RunHandle<{ control: SignalMessage }, { listening: Listening; signal: unknown }>;
const running: Server[] = [];
const clients: net.Socket[] = [];

async function start(component: AnyComponent): Promise<{ server: Server; port: number }> {
  const server = run(component) as unknown as Server;
  running.push(server);
  const { port } = await server.next('listening', { timeoutMs: 5000 });
  return { server, port };
}

async function client(port: number): Promise<net.Socket> {
  const socket = await connect(port);
  clients.push(socket);
  return socket;
}

async function echoes(socket: net.Socket, text: string): Promise<void> {
  socket.write(text);
  expect((await readBytes(socket, text.length)).toString()).toBe(text);
}

afterEach(() => {
  for (const socket of clients.splice(0)) socket.destroy();
  for (const server of running.splice(0)) server.stop();
});

describe('ConnectedServer', () => {
  it('echoes with EchoProtocol, one handler per connection', async () => {
    const { port } = await start(ConnectedServer({ host: '127.0.0.1', protocol: () => EchoProtocol() }));
    const [a, b] = [await client(port), await client(port)];
    await echoes(a, 'hello kamaelia\n');
    await echoes(b, 'second client\n');
    const blob = pattern(200_000);
    a.write(blob);
    expect((await readBytes(a, blob.length)).equals(blob)).toBe(true);
  });

  it('a Pipeline can be the protocol: it echoes through both stages and ends with its connection', async () => {
    const { server, port } = await start(ConnectedServer({ host: '127.0.0.1', protocol: () => Pipeline(EchoProtocol(), EchoProtocol()) }));
    const socket = await client(port);
    await echoes(socket, 'through a pipeline');
    socket.end();
    await until(() => serverStats(server.actor)?.open === 0, 'the connection to close');
  });

  it('calls protocol(info) with the peer and local addresses', async () => {
    const log = new ControlLog();
    const { port } = await start(ConnectedServer({ host: '127.0.0.1', protocol: log.protocol }));
    const socket = await client(port);
    await echoes(socket, 'x');
    expect(log.infos[0]).toEqual({ peer: '127.0.0.1', peerPort: socket.localPort, localIp: '127.0.0.1', localPort: port });
  });

  it('gives info to a factory however it is declared (rest or default parameters too), with plain fields', async () => {
    const seen: PeerInfo[] = [];
    const rest = (...args: PeerInfo[]) => {
      seen.push(args[0]);
      return EchoProtocol();
    };
    const withDefault = (info: PeerInfo = { peer: 'none', peerPort: 0, localIp: 'none', localPort: 0 }) => {
      seen.push(info);
      return EchoProtocol();
    };
    for (const protocol of [rest, withDefault]) {
      const { port } = await start(ConnectedServer({ host: '127.0.0.1', protocol }));
      const socket = await client(port);
      await echoes(socket, 'x');
      const info = seen.at(-1);
      expect(info?.peer).toBe('127.0.0.1');
      expect({ ...info }).toEqual({ peer: '127.0.0.1', peerPort: socket.localPort, localIp: '127.0.0.1', localPort: port });
      expect(JSON.parse(JSON.stringify(info))).toEqual({ peer: '127.0.0.1', peerPort: socket.localPort, localIp: '127.0.0.1', localPort: port });
    }
  });

  it('SimpleServer calls protocol() with no arguments', async () => {
    const calls: number[] = [];
    const { port } = await start(
      SimpleServer({
        host: '127.0.0.1',
        protocol: (...args: unknown[]) => {
          calls.push(args.length);
          return EchoProtocol();
        },
      }),
    );
    await echoes(await client(port), 'simple');
    expect(calls).toEqual([0]);
  });

  it('a client that sends and half-closes gets its whole echo, then EOF', async () => {
    const { port } = await start(ConnectedServer({ host: '127.0.0.1', protocol: () => EchoProtocol() }));
    const socket = await client(port);
    const blob = pattern(300_000);
    const reply = readAll(socket);
    socket.end(blob);
    const received = await reply;
    expect(received.length).toBe(blob.length);
    expect(received.equals(blob)).toBe(true);
    expect(socket.readableEnded).toBe(true);
  });

  it('tells the handler producerFinished when the client half-closes, and forgets the connection once it has ended', async () => {
    const log = new ControlLog();
    const { server, port } = await start(ConnectedServer({ host: '127.0.0.1', protocol: log.protocol }));
    const socket = await client(port);
    await echoes(socket, 'abc');
    socket.end();
    await until(() => log.received[0]?.some((m) => m.kind === 'producerFinished' && m.source === 'peer') ?? false, 'producerFinished on the handler');
    await until(() => serverStats(server.actor)?.open === 0, 'the connection to be forgotten');
  });

  it('a handler that says goodbye: the client reads every byte, then EOF', async () => {
    const { port } = await start(ConnectedServer({ host: '127.0.0.1', protocol: () => Goodbye() }));
    const socket = await client(port);
    expect((await readAll(socket)).toString()).toBe('bye\n');
    expect(socket.readableEnded).toBe(true);
  });

  it('a peer reset on one connection harms no other connection and not the server', async () => {
    const { server, port } = await start(ConnectedServer({ host: '127.0.0.1', protocol: () => EchoProtocol() }));
    const [victim, bystander] = [await client(port), await client(port)];
    await echoes(victim, 'one');
    await echoes(bystander, 'two');
    // The victim keeps the server writing (a large echo it never reads), then resets.
    victim.pause();
    victim.write(pattern(4 * 1024 * 1024));
    await new Promise((resolve) => setTimeout(resolve, 20));
    victim.resetAndDestroy();
    await until(() => serverStats(server.actor)?.open === 1, 'the reset connection to close');
    await echoes(bystander, 'still here');
    await echoes(await client(port), 'new client');
    expect(server.actor.getSnapshot().status).toBe('active');
  });

  it('a handler that throws closes its own connection only', async () => {
    const { server, port } = await start(ConnectedServer({ host: '127.0.0.1', protocol: () => Exploding() }));
    const [doomed, other] = [await client(port), await client(port)];
    await echoes(doomed, 'fine');
    const end = readAll(doomed);
    doomed.write('boom');
    await end;
    await closed(doomed);
    await echoes(other, 'unaffected');
    await echoes(await client(port), 'newcomer');
    await until(() => serverStats(server.actor)?.open === 2, 'only the exploded connection to close');
  });

  it('a protocol factory that throws closes that connection only', async () => {
    let calls = 0;
    const { port } = await start(
      ConnectedServer({
        host: '127.0.0.1',
        protocol: () => {
          if (calls++ === 0) throw new Error('no handler for you');
          return EchoProtocol();
        },
      }),
    );
    const first = await client(port);
    await readAll(first);
    await echoes(await client(port), 'second works');
  });

  it("a handler's serversignal outbox can stop the whole server", async () => {
    const { server, port } = await start(ConnectedServer({ host: '127.0.0.1', protocol: () => Stopper(), drainTimeout: 50 }));
    const [a, b] = [await client(port), await client(port)];
    await echoes(b, 'b is here');
    const bothClosed = Promise.all([closed(a), closed(b)]);
    a.write('stop');
    expect(await server.next('signal', { timeoutMs: 10_000 })).toEqual(serverShutdown());
    expect(await server.done).toEqual({ status: 'done' });
    await bothClosed;
    await expect(connect(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('a handler that ignores socketShutdown is stopped, not leaked', async () => {
    // Deaf ignores the client's half-close too: its connection closes closeTimeout after the FIN.
    const { server, port } = await start(ConnectedServer({ host: '127.0.0.1', protocol: () => Deaf(), closeTimeout: 200 }));
    const socket = await client(port);
    socket.end();
    await until(() => serverStats(server.actor)?.open === 0, 'the connection to close');
    await closed(socket);
  });

  it('serverShutdown: refuses new connections, lets open ones go on, then flushes every byte a handler produced', async () => {
    const size = 8 * 1024 * 1024;
    const { server, port } = await start(
      ConnectedServer({ host: '127.0.0.1', protocol: Streamer(size), drainTimeout: 100, closeTimeout: 10_000 }),
    );
    const socket = await client(port);
    socket.pause(); // a slow reader: most of the 8 MiB is still queued in the server
    await new Promise((resolve) => setTimeout(resolve, 20));
    server.send('control', serverShutdown());
    await expect(connect(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    const received = readAll(socket);
    socket.resume();
    const bytes = await received;
    expect(bytes.length).toBe(size);
    expect(bytes.equals(pattern(size))).toBe(true);
    expect(await server.next('signal')).toEqual(serverShutdown());
    expect(await server.done).toEqual({ status: 'done' });
  });

  it('while draining, an open connection still works until it closes by itself', async () => {
    const { server, port } = await start(ConnectedServer({ host: '127.0.0.1', protocol: () => EchoProtocol(), drainTimeout: 60_000 }));
    const socket = await client(port);
    server.send('control', serverShutdown());
    await expect(connect(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await echoes(socket, 'draining but alive');
    socket.end();
    expect(await server.done).toEqual({ status: 'done' });
  });

  it('shutdownMicroprocess closes promptly, without waiting for clients', async () => {
    const log = new ControlLog();
    const { server, port } = await start(ConnectedServer({ host: '127.0.0.1', protocol: log.protocol, drainTimeout: 60_000, closeTimeout: 60_000 }));
    const [a, b] = [await client(port), await client(port)];
    await echoes(a, 'a');
    await echoes(b, 'b');
    a.pause();
    a.write(pattern(4 * 1024 * 1024)); // echo backlog that a never reads
    server.send('control', shutdownMicroprocess());
    expect(await server.done).toEqual({ status: 'done' });
    await Promise.all([closed(a), closed(b)]);
    expect(log.received.map((messages) => messages.some((m) => m.kind === 'socketShutdown'))).toEqual([true, true]);
  });

  it('maxConnections: excess connections are refused at once and counted; a freed slot is reused', async () => {
    const { server, port } = await start(ConnectedServer({ host: '127.0.0.1', protocol: () => EchoProtocol(), maxConnections: 2 }));
    const [a, b] = [await client(port), await client(port)];
    await echoes(a, 'a');
    await echoes(b, 'b');
    const excess = await client(port);
    const got = await readAll(excess); // closed by the server without a byte
    expect(got.length).toBe(0);
    await until(() => serverStats(server.actor)?.refused === 1, 'the refusal to be counted');
    a.destroy();
    await until(() => serverStats(server.actor)?.open === 1, 'a to close');
    await echoes(await client(port), 'slot reused');
    expect(serverStats(server.actor)).toMatchObject({ refused: 1, accepted: 3 });
  });

  it('idleTimeout closes a silent connection, gracefully', async () => {
    const log = new ControlLog();
    const { server, port } = await start(ConnectedServer({ host: '127.0.0.1', protocol: log.protocol, idleTimeout: 150 }));
    const socket = await client(port);
    await echoes(socket, 'then silence');
    await readAll(socket); // the server ends the connection
    expect(socket.readableEnded).toBe(true);
    await until(() => serverStats(server.actor)?.open === 0, 'the idle connection to be forgotten');
    expect(log.received[0]?.some((m) => m.kind === 'socketShutdown')).toBe(true);
  });

  it('FastRestartServer binds the port of a server that just closed with connections', async () => {
    // A port below the ephemeral range, so nothing else can take it between the two servers.
    const first = await start(FastRestartServer({ host: '127.0.0.1', port: await freePort(), protocol: () => Goodbye() }));
    const socket = await client(first.port);
    await readAll(socket); // the server closed first: its side of the connection is in TIME_WAIT
    first.server.send('control', serverShutdown());
    await first.server.done;
    const second = await start(FastRestartServer({ host: '127.0.0.1', port: first.port, protocol: () => EchoProtocol() }));
    expect(second.port).toBe(first.port);
    await echoes(await client(second.port), 'restarted');
  });

  it('refuses a missing protocol at construction', () => {
    expect(() => ConnectedServer({ host: '127.0.0.1' } as never)).toThrow(/protocol must be a function/);
  });
});
