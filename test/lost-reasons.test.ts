// Errors that used to vanish on the way out: each one must reach the end signal, `done` and (for the
// CLI) the exit code, exactly as the component that failed reported it.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectedServer, ConsoleEchoer, DataSource, EchoProtocol, box, defineComponent, type SignalMessage, Graphline, OneShot, Pipeline, RateControlledFileReader, SingleServer, TCPClient, TCPServer, producerFinished, reason, run, type AnyComponent, type Listening, type RunHandle, type RunResult } from 'kamaelia-xstate';
import { PassThrough } from 'node:stream';
import { testPki, type TestPki } from './helpers/certs.js';
import { closedPort, collect, listen, until } from './helpers/net.js';
import { localTlsEchoServer } from '../examples/tcpClientSsl.js';

const root = fileURLToPath(new URL('..', import.meta.url));
let pki: TestPki;
let dir = '';

beforeAll(async () => {
  pki = await testPki();
  dir = mkdtempSync(join(tmpdir(), 'kamaelia-xstate-lost-reasons-'));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A loopback listener whose sockets answer a FIN with theirs, as most peers do. */
const politeListener = () => listen((socket) => socket.on('end', () => socket.end()));

/** Everything a run sent on `signal`, its `done`, and what became of `listening`. */
async function outcome(component: AnyComponent): Promise<{ signals: unknown[]; done: RunResult; listening: unknown }> {
  const handle = run(component) as unknown as RunHandle<object, { listening: Listening; signal: unknown }>;
  const listening = handle.next('listening', { timeoutMs: 5000 }).then(
    (message) => ({ resolved: message }),
    (error: unknown) => ({ rejected: error }),
  );
  const signals: unknown[] = [];
  for await (const message of handle.messages('signal')) signals.push(message);
  return { signals, done: await handle.done, listening: await listening };
}

describe('a server whose TLS setup fails', () => {
  // The key of one certificate with another's certificate: tls.createServer throws.
  const mismatched = () => ({ secure: true, key: pki.server.key, cert: pki.client.cert });

  it('TCPServer reports it (the reference behaviour)', async () => {
    const { done } = await outcome(TCPServer({ host: '127.0.0.1', port: 0, tls: mismatched() }));
    expect(done).toMatchObject({ status: 'error', reason: { code: 'ERR_OSSL_X509_KEY_VALUES_MISMATCH' } });
  });

  for (const [name, make] of [
    ['ConnectedServer', () => ConnectedServer({ host: '127.0.0.1', port: 0, protocol: () => EchoProtocol(), tls: mismatched() })],
    ['SingleServer', () => SingleServer({ host: '127.0.0.1', port: 0, tls: mismatched() })],
  ] as const) {
    it(`${name} ends with the inner server's reason on signal and done, and listening rejects with it`, async () => {
      const { signals, done, listening } = await outcome(make());
      expect(done).toMatchObject({ status: 'error', reason: { code: 'ERR_OSSL_X509_KEY_VALUES_MISMATCH' } });
      expect(signals.at(-1)).toMatchObject({ kind: 'producerFinished', source: name, reason: { code: 'ERR_OSSL_X509_KEY_VALUES_MISMATCH' } });
      expect(listening).toMatchObject({ rejected: { code: 'ERR_OSSL_X509_KEY_VALUES_MISMATCH' } });
      expect(String((listening as { rejected: Error }).rejected.message)).toMatch(/ERR_OSSL_X509_KEY_VALUES_MISMATCH/);
    });
  }

  it('the CLI `serve` exits 1 with the reason on stderr', async () => {
    writeFileSync(join(dir, 'key.pem'), pki.server.key);
    writeFileSync(join(dir, 'cert.pem'), pki.client.cert);
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'serve', '0', '--tls-key', join(dir, 'key.pem'), '--tls-cert', join(dir, 'cert.pem')], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
    expect({ code, stdout }).toEqual({ code: 1, stdout: '' });
    expect(stderr).toMatch(/^kamaelia-xstate serve: ERR_OSSL_X509_KEY_VALUES_MISMATCH /);
  }, 30_000);
});

/** Runs `node --import tsx <args>` from the repository root; resolves with its exit code and output. */
function runScript(args: string[], stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(stdin);
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

describe('a Graphline whose child ends with a reason', () => {
  const graph = (port: number) =>
    Graphline(
      { src: OneShot('x'), c: TCPClient('127.0.0.1', port), e: ConsoleEchoer({ stream: new PassThrough() }) },
      { 'src.outbox': 'c.inbox', 'src.signal': 'c.control', 'c.outbox': 'e.inbox', 'c.signal': 'e.control' },
    );

  it('a Pipeline of the same children ends with ECONNREFUSED (the reference behaviour)', async () => {
    const handle = run(Pipeline(OneShot('x'), TCPClient('127.0.0.1', await closedPort()), ConsoleEchoer({ stream: new PassThrough() })));
    expect(await handle.done).toMatchObject({ status: 'error', reason: { code: 'ECONNREFUSED' } });
  });

  it('its own end signal and done carry the first child reason', async () => {
    const handle = run(graph(await closedPort()));
    const signals: unknown[] = [];
    for await (const message of handle.messages('signal')) signals.push(message);
    expect(signals.at(-1)).toMatchObject({ kind: 'producerFinished', source: 'Graphline', reason: { code: 'ECONNREFUSED' } });
    expect(await handle.done).toMatchObject({ status: 'error', reason: { code: 'ECONNREFUSED' } });
  });

  it('a producer told ENOCONSUMER because its consumer ended cleanly is not a failure of the graph', async () => {
    function* endless(): Generator<string> {
      for (;;) yield 'x';
    }
    const TakesOne = () =>
      defineComponent({
        name: 'TakesOne',
        inboxes: { inbox: box<string>(), control: box<SignalMessage>() },
        outboxes: { signal: box<SignalMessage>() },
        body: ({ on, finish }) => on('inbox', () => finish()),
      });
    const handle = run(Graphline({ SOURCE: DataSource(endless()), SINK: TakesOne() }, { 'SOURCE.outbox': 'SINK.inbox' }));
    expect(await handle.done).toEqual({ status: 'done' });
  });

  it('the README SSL client example exits 1 naming a refused connection or a failed certificate check', async () => {
    const refused = await runScript(['examples/tcpClientSsl.ts', '127.0.0.1', String(await closedPort())], 'hello\n');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^tcpClientSsl: ECONNREFUSED /m);
    // A server whose certificate the client does not trust (no CA given: the system store has not signed it).
    const server = await localTlsEchoServer();
    try {
      const untrusted = await runScript(['examples/tcpClientSsl.ts', 'localhost', String(server.port)], 'hello\n');
      expect(untrusted.code).toBe(1);
      expect(untrusted.stderr).toMatch(/^tcpClientSsl: (DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE) /m);
    } finally {
      server.close();
    }
  }, 60_000);
});

describe('a TCPClient whose producer finished with a reason', () => {
  it('closes gracefully, then passes the reason on: Pipeline(RateControlledFileReader(missing file), TCPClient)', async () => {
    const server = await politeListener();
    try {
      const handle = run(Pipeline(RateControlledFileReader('/nonexistent/kamaelia-xstate-missing', { rate: 1000 }), TCPClient('127.0.0.1', server.port)));
      const signals: unknown[] = [];
      for await (const message of handle.messages('signal')) signals.push(message);
      expect(signals.at(-1)).toMatchObject({ kind: 'producerFinished', source: 'TCPClient', unsentBytes: 0, reason: { code: 'ENOENT' } });
      expect(await handle.done).toMatchObject({ status: 'error', reason: { code: 'ENOENT' } });
    } finally {
      await server.close();
    }
  });

  it('sends everything it was given before closing, then ends with the reason', async () => {
    const server = await politeListener();
    try {
      const handle = run(TCPClient('127.0.0.1', server.port));
      const socket = await server.nextConnection();
      const peer = collect(socket);
      handle.send('inbox', 'all of this arrives');
      handle.send('control', producerFinished(reason('EUPSTREAM', 'the source broke'), { source: 'test' }));
      await peer.ended; // a FIN, not a reset: the close was graceful
      expect(peer.bytes().toString()).toBe('all of this arrives');
      expect(await handle.done).toMatchObject({ status: 'error', reason: { code: 'EUPSTREAM', message: 'the source broke' } });
    } finally {
      await server.close();
    }
  });

  it("the server side's CSA does the same: SingleServer sends what it has, closes, and its signal carries the reason", async () => {
    const handle = run(SingleServer({ host: '127.0.0.1', port: 0 }));
    try {
      const { port } = await handle.next('listening', { timeoutMs: 5000 });
      const client = net.connect(port, '127.0.0.1');
      client.on('error', () => {});
      const received = collect(client);
      handle.send('inbox', 'goodbye');
      // Once the client is being served (what was queued for it has arrived), upstream breaks.
      await until(() => received.length() === 'goodbye'.length, 'the queued bytes at the client');
      handle.send('control', producerFinished(reason('EUPSTREAM', 'the source broke'), { source: 'test' }));
      await received.ended;
      expect(received.bytes().toString()).toBe('goodbye');
      client.end();
      const signal = await handle.next('signal', { timeoutMs: 5000 });
      expect(signal).toMatchObject({ kind: 'producerFinished', source: 'SingleServer', reason: { code: 'EUPSTREAM' } });
    } finally {
      handle.stop();
    }
  });
});

describe('byte counts on a connection that goes quiet', () => {
  it('become exact about 100 ms after one burst, while the connection stays open', async () => {
    const burst = 'one burst, then silence';
    const server = await listen((socket) => socket.write(burst));
    const handle = run(TCPClient('127.0.0.1', server.port));
    try {
      const received = await handle.next('outbox', { timeoutMs: 5000 });
      expect(Buffer.from(received).toString()).toBe(burst);
      // The machine's context (what the inspector shows) catches up without further traffic.
      const bytesIn = (): number => (handle.actor.getSnapshot() as { context: { bytesIn: number } }).context.bytesIn;
      await until(() => bytesIn() === burst.length, `bytesIn ${burst.length} in the machine context (it was ${bytesIn()})`, 5000);
      expect(handle.actor.getSnapshot().status).toBe('active');
    } finally {
      handle.stop();
      await server.close();
    }
  });
});
