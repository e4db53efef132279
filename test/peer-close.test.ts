// The server's close ends a client at once (node:net's default, allowHalfOpen false), and a close
// that closeTimeout cut short is never reported as a clean one. Real loopback sockets; the CLI runs
// as a real child process with its stdin left open.
import { spawn } from 'node:child_process';
import * as net from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TCPClient, isProducerFinished, producerFinished, run, type SignalMessage } from 'kamaelia-xstate';
import { cleanupsAfterEach } from './helpers/cleanups.js';
import { until } from './server-helpers.js';

const cleanups = cleanupsAfterEach();
const root = fileURLToPath(new URL('..', import.meta.url));
/** Far longer than any test here waits: a client that ends only when it runs out has lingered. */
const LONG_CLOSE_TIMEOUT = 20_000;

/** A node:net server (default options, as most servers are) run by `onConnection`; resolves its port. */
async function server(onConnection: (socket: net.Socket) => void, options: net.ServerOpts = {}): Promise<number> {
  const sockets = new Set<net.Socket>();
  const srv = net.createServer(options, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    onConnection(socket);
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => srv.close(() => resolve()));
  });
  return (srv.address() as net.AddressInfo).port;
}

/** Resolves with `promise`'s value, or rejects naming `what` after `ms`. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
    }),
  ]);
}

/** Collects every message on `box` until the handle ends. */
function collect<T>(messages: AsyncIterable<T>): T[] {
  const seen: T[] = [];
  void (async () => {
    for await (const message of messages) seen.push(message);
  })();
  return seen;
}

describe("the server's close ends the client (allowHalfOpen: false, the default)", () => {
  it('a greeting, a reply, a close: the client ends at once with exactly one producerFinished and every byte', async () => {
    const port = await server((socket) => {
      socket.write('220 hello\r\n');
      socket.once('data', () => socket.end('250 bye\r\n'));
    });
    const handle = run(TCPClient('127.0.0.1', port, { closeTimeout: LONG_CLOSE_TIMEOUT }));
    cleanups.push(() => handle.stop());
    const signals = collect<SignalMessage>(handle.messages('signal'));
    const received = collect<Buffer>(handle.messages('outbox'));
    await until(() => Buffer.concat(received).length > 0, 'the greeting');
    handle.send('inbox', 'QUIT\r\n');
    // The client's own producer never finishes: only the server's close can end it.
    const done = await within(handle.done, 3000, 'the client ending after the server closed');
    expect(done).toEqual({ status: 'done' });
    await until(() => signals.length > 0, 'the terminal signal');
    expect(Buffer.concat(received).toString()).toBe('220 hello\r\n250 bye\r\n');
    expect(signals.filter(isProducerFinished)).toEqual([{ kind: 'producerFinished', source: 'TCPClient', unsentBytes: 0 }]);
  });

  it('a read-only client (sends nothing) ends at once when the server sends and closes', async () => {
    const port = await server((socket) => socket.end('snapshot\n'));
    const handle = run(TCPClient('127.0.0.1', port, { closeTimeout: LONG_CLOSE_TIMEOUT }));
    cleanups.push(() => handle.stop());
    expect(await within(handle.done, 3000, 'the read-only client ending')).toEqual({ status: 'done' });
  });

  it('what was queued before the FIN is written before our FIN; the server reads all of it', async () => {
    let got = 0;
    let serverSawEnd = false;
    const payload = Buffer.alloc(4 * 1024 * 1024, 0x61);
    const port = await server((socket) => {
      socket.pause(); // the client's queue cannot drain until we read
      socket.once('readable', () => {
        // The server finishes its own side first; the client must still flush its 4 MiB.
        socket.end();
        socket.resume();
      });
      socket.on('data', (chunk: Buffer) => (got += chunk.length));
      socket.on('end', () => (serverSawEnd = true));
    });
    const handle = run(TCPClient('127.0.0.1', port, { closeTimeout: LONG_CLOSE_TIMEOUT }));
    cleanups.push(() => handle.stop());
    handle.send('inbox', payload);
    expect(await within(handle.done, 10_000, 'the client ending')).toEqual({ status: 'done' });
    await until(() => serverSawEnd, "the server to see the client's FIN");
    expect(got).toBe(payload.length);
  });

  it('allowHalfOpen: true keeps the write side open after the FIN: the server still gets what is sent later', async () => {
    let got = '';
    const port = await server((socket) => {
      // A half-closing server: FIN first, then it keeps reading.
      socket.end('go\n');
      socket.on('data', (chunk: Buffer) => (got += chunk.toString()));
    }, { allowHalfOpen: true });
    const handle = run(TCPClient('127.0.0.1', port, { allowHalfOpen: true, closeTimeout: LONG_CLOSE_TIMEOUT }));
    cleanups.push(() => handle.stop());
    expect(String(await handle.next('outbox', { timeoutMs: 5000 }))).toBe('go\n');
    // Still open: the client has not ended after the FIN.
    await new Promise((resolve) => setImmediate(resolve));
    expect(handle.send('inbox', 'late\n')).toBe(true);
    handle.send('control', producerFinished());
    expect(await within(handle.done, 5000, 'the client ending after its producer finished')).toEqual({ status: 'done' });
    expect(got).toBe('late\n');
  });

  it('allowHalfOpen must be a boolean', () => {
    expect(() => TCPClient('127.0.0.1', 1, { allowHalfOpen: 'yes' as unknown as boolean })).toThrow(/TCPClient: allowHalfOpen must be true or false, got .*yes/);
  });

  it('`kamaelia-xstate connect` with stdin left open exits 0 when the server closes', async () => {
    let closedAt = 0;
    const port = await server((socket) => socket.end('bye\n', () => (closedAt = Date.now())));
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'connect', '127.0.0.1', String(port)], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
    cleanups.push(() => void child.kill('SIGKILL'));
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    // stdin stays open: the server's close alone must end it.
    const code = await within(new Promise<number | null>((resolve) => child.on('exit', resolve)), 10_000, 'connect exiting');
    expect(code).toBe(0);
    expect(out).toBe('bye\n');
    // Not a speed check: before, the client waited out its 5,000 ms closeTimeout after the server's FIN.
    expect(Date.now() - closedAt).toBeLessThan(2500);
  });
});

describe('a close cut short by closeTimeout', () => {
  it('ends with reason ECLOSETIMEOUT on signal and in done, so a cut answer is told from a complete one', async () => {
    const port = await server((socket) => {
      // Answers slowly for much longer than the client's closeTimeout, and never closes first.
      socket.once('data', () => {
        let sent = 0;
        const timer = setInterval(() => {
          if (socket.destroyed || sent >= 60) return clearInterval(timer);
          socket.write(Buffer.alloc(512, 0x62));
          sent += 1;
        }, 50);
        socket.on('close', () => clearInterval(timer));
      });
    }, { allowHalfOpen: true }); // the client's FIN does not end the answer
    const handle = run(TCPClient('127.0.0.1', port, { closeTimeout: 500 }));
    cleanups.push(() => handle.stop());
    const signals = collect<SignalMessage>(handle.messages('signal'));
    handle.send('inbox', 'GET\n');
    handle.send('control', producerFinished());
    const done = await within(handle.done, 5000, 'the client ending');
    expect(done).toMatchObject({ status: 'error', reason: { code: 'ECLOSETIMEOUT' } });
    await until(() => signals.length > 0, 'the terminal signal');
    expect(signals.filter(isProducerFinished)).toEqual([expect.objectContaining({ reason: expect.objectContaining({ code: 'ECLOSETIMEOUT', message: expect.stringMatching(/close timeout \(500 ms\)/) }) })]);
  });
});
