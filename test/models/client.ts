// Model-based tests of TCPClient from the REAL tcpClientMachine (kamaelia-xstate/testing): the walk
// runs the machine and its CSA with the connector and the socket I/O stubbed and the timers on a
// walk clock; every shortest path, every simple path and every transition path then runs against a
// real TCPClient talking to a scripted loopback peer, and the real actor must reach each step's
// state. A change to the machine changes these tests.
//
// What a path's steps do to the real client: inbox, control and makessl before the connection are
// sent to it (queued; a producerFinished then means "send what you have, then close"; makessl starts
// TLS once connected); `connector fails` runs a client whose connector throws (a bug the machine
// must not hang on); `makessl` and `inbox` while open are direct handle.actor.send()s, which reach
// the machine's own handlers and, through them, the CSA.
// Left out over real sockets (by name, excluded from the coverage requirement below):
// - `xstate.error.actor.csa`: the CSA is a machine the walk runs for real, and the walk stops at a
//   machine that throws, so no path takes this transition ('TCPClient with a CSA that throws' below
//   makes the real one throw instead).
// (The CSA's own transitions are csa-model.test.ts's to cover.)
// Every path is also judged by the library's contract (test/helpers/libraryContract.ts): one
// producerFinished at the end with the right reason and unsentBytes, queued data first and in order,
// TLS started by makessl, the inbox gate, the end coming when it must, the timers.
// Besides the walk's paths: the contract's scenarios (step sequences it requires), paths over a
// Unix domain socket (`path`) and with allowHalfOpen, and (at the end) two things no path causes.
import * as net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createActor, fromCallback, type AnyActorRef, type AnyStateMachine } from 'xstate';
import { TCPClient, run, type SignalMessage } from 'kamaelia-xstate';
import { Opaque, tcpClientMachine } from 'kamaelia-xstate/machines';
import { createTestModel, scriptedPeer, type LoopbackConnection, type ScriptedPeer, type TestModel, type TestPath, type TestStep } from 'kamaelia-xstate/testing';
import { isInboxOpen, isOutboxLinked, whenInboxOpen } from '../../src/kernel/routing.js';
import { testPki, type TestPki } from '../helpers/certs.js';
import { tcpClientContract } from '../helpers/libraryContract.js';
import { describeModelPaths, type Scenarios } from '../helpers/modelSuites.js';
import { fullBacklogListener } from '../helpers/fullBacklog.js';
import { listen } from '../helpers/net.js';

// Different timeouts, so a timer started with the wrong one fails the contract's timing checks.
const CLOSE_MS = 250;
const HANDSHAKE_MS = 600;
const DELAY_MS = 30;
// Two 4-byte "data" samples queued reach it: the gate closes exactly there.
const HIGH_WATER_MARK = 8;
/** What a connector that throws (a bug) throws; its code ends the client. */
const CONNECTOR_BUG = Object.assign(new Error('the connector threw (a test)'), { code: 'ECONNECTORBUG' });

// delaying's `always` to connecting is taken only with no delay (the walk's is DELAY_MS): the test
// "with no delay connects at once" below checks it on the machine itself.
const EXCLUDED = ['TCPClient.open: xstate.error.actor.csa → TCPClient.failed', 'TCPClient.delaying: always → TCPClient.connecting'];

const value = (state: { value: unknown }): string => JSON.stringify(state.value);

type ChildSnapshot = { value?: unknown; context?: { secure?: boolean } };
/** The CSA child's snapshot in a walked client snapshot: while open, the connection's own lifecycle is its CSA's. */
const csaOf = (state: { children?: Record<string, { getSnapshot?: () => ChildSnapshot } | undefined> }): ChildSnapshot | undefined => state.children?.csa?.getSnapshot?.();

const INBOX_SAMPLES = [
  { type: 'inbox', data: Buffer.from('data') },
  // A string is sent as UTF-8: 6 bytes, not 5 characters.
  { type: 'inbox', data: 'héllo' },
  // Not bytes: reported on signal and dropped.
  { type: 'inbox', data: { kind: 'notBytes' } },
];
const isDataSample = (step: TestStep): boolean => Buffer.isBuffer(step.event.data);

/** The client's options a model walks with (the real client of its paths gets the same). */
interface ModelOptions {
  readonly allowHalfOpen?: boolean;
  /** TLS from the start (`secure: true`). */
  readonly secure?: boolean;
}

function clientModel({ allowHalfOpen = false, secure = false }: ModelOptions = {}): TestModel {
  return createTestModel(tcpClientMachine, {
    // A few dozen states: a machine change that makes many more fails at once (and mutation runs stay short).
    maxStates: 60,
    input: {
      host: '127.0.0.1',
      port: 1,
      connectTimeoutMs: 5000,
      secure,
      tls: undefined,
      delayMs: DELAY_MS,
      closeTimeoutMs: CLOSE_MS,
      handshakeTimeoutMs: HANDSHAKE_MS,
      pendingHighWaterMark: HIGH_WATER_MARK,
      ...(allowHalfOpen ? { allowHalfOpen } : {}),
    },
    events: () => INBOX_SAMPLES,
    // (What the socket binding can report when - a clean close only after our flush, secure only
    // during an upgrade - is the library's model of it, built in.) Data flows only on a plain, open
    // connection here (or one TLS from the start): the peer reads plain bytes (or decrypts them all).
    // makessl while open only on a plain connection (on a TLS one the binding refuses it, with a
    // badMessage the walk's binding does not send).
    filter: (step, from) => {
      const at = value(from);
      const csa = csaOf(from);
      const beforeConnection = at === '"delaying"' || at === '"connecting"';
      const connected = at === '"open"' && JSON.stringify(csa?.value) === '"connected"';
      const plainConnected = connected && csa?.context?.secure !== true;
      if (step.name === 'inbox') return beforeConnection || ((plainConnected || (connected && secure)) && isDataSample(step));
      if (step.name === 'makessl') return beforeConnection || plainConnected;
      if (step.name === 'socket.progress') return plainConnected;
      return true;
    },
  });
}

const model = clientModel();

interface Scene {
  client: ReturnType<typeof run<object, { outbox: Buffer; signal: SignalMessage; sslready: unknown }>> & { send(box: string, message: unknown): void };
  peer?: ScriptedPeer;
  connection?: LoopbackConnection;
  signals: SignalMessage[];
  cleanups: (() => Promise<void> | void)[];
  /** The peer's side of a handshake under way. */
  peerTls?: Promise<void>;
  /** Where the client connects (host:port or the Unix socket's path), as its context shows it. */
  endpoint: string;
  /** A producer outside the graph waits for the client's inbox gate (registered when it found it closed). */
  waitingProducer: boolean;
  /** The client's CSA, once it had one. */
  csa?: AnyActorRef;
}

/**
 * Whether a producer outside the graph (run()'s handle, toDuplex) may send to the client's inbox
 * now: its gate (through its passthroughs) is open and a producer that found it closed has been
 * woken since.
 */
function producerMaySend(current: Scene): boolean {
  if (!isInboxOpen(current.client.actor, 'inbox')) {
    if (!current.waitingProducer) {
      current.waitingProducer = true;
      whenInboxOpen(current.client.actor, 'inbox', () => (current.waitingProducer = false));
    }
    return false;
  }
  return !current.waitingProducer;
}

/** How the real client of a path is set up. */
interface SceneOptions {
  /** Connect through a Unix domain socket (TCPClient's `path`) relayed to the scripted peer. */
  readonly unix?: boolean;
  readonly allowHalfOpen?: boolean;
  /** TLS from the start (`secure: true`): the peer answers the ClientHello as it accepts. */
  readonly secure?: boolean;
}

let scene: Scene | undefined;
afterEach(async () => {
  scene?.client.stop();
  for (const cleanup of scene?.cleanups.splice(0) ?? []) await cleanup();
  scene = undefined;
});

/** A Unix domain socket whose connections are relayed to `port` on loopback (half-closes included). */
async function unixRelay(port: number): Promise<{ path: string; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'kx-client-'));
  const path = join(dir, 'peer.sock');
  const sockets: net.Socket[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (unix) => {
    const tcp = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    sockets.push(unix, tcp);
    for (const socket of [unix, tcp]) socket.on('error', () => undefined);
    unix.pipe(tcp);
    tcp.pipe(unix);
    tcp.on('close', () => unix.destroy());
    unix.on('close', () => tcp.destroy());
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return {
    path,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Bytes of the inbox steps among `steps` (strings as UTF-8; what is not bytes is dropped). */
const bytesOf = (steps: readonly TestStep[]): number =>
  steps.filter((step) => step.name === 'inbox' && (typeof step.event.data === 'string' || Buffer.isBuffer(step.event.data))).reduce((sum, step) => sum + Buffer.byteLength(step.event.data as string), 0);

async function runPath(path: TestPath, pki: TestPki, options: SceneOptions = {}): Promise<void> {
  const names = path.steps.map((step) => step.name);
  const connectedAt = names.indexOf('connect.ok');
  const connection = async (): Promise<LoopbackConnection> => (scene!.connection ??= await scene!.peer!.connection());
  const isOpen = (): boolean => scene!.client.actor.getSnapshot().value === 'open';
  await path.test({
    start: async () => {
      const cleanups: Scene['cleanups'] = [];
      let port: number;
      let peer: ScriptedPeer | undefined;
      let unixPath: string | undefined;
      if (names.includes('connect.ok')) {
        peer = await scriptedPeer();
        cleanups.push(peer.close);
        port = peer.port;
        if (options.unix) {
          const relay = await unixRelay(peer.port);
          cleanups.push(relay.close);
          unixPath = relay.path;
        }
      } else if (names.includes('connect.failed')) {
        const closed = await listen();
        await closed.close();
        port = closed.port;
      } else if (names.includes('xstate.error.actor.connector')) {
        port = 1;
      } else {
        // Never connects: the client stays in connecting for as long as the path needs.
        const backlog = await fullBacklogListener();
        cleanups.push(backlog.close);
        port = backlog.port;
      }
      // Over a Unix socket the port is only a name: 0, so a client that ignored `path` would not connect.
      let definition = TCPClient('127.0.0.1', unixPath !== undefined ? 0 : port, {
        delay: DELAY_MS,
        closeTimeout: CLOSE_MS,
        handshakeTimeout: HANDSHAKE_MS,
        pendingHighWaterMark: HIGH_WATER_MARK,
        tls: { ca: pki.ca, servername: 'localhost' },
        ...(unixPath !== undefined ? { path: unixPath } : {}),
        ...(options.allowHalfOpen ? { allowHalfOpen: true } : {}),
        ...(options.secure ? { secure: true } : {}),
      });
      if (names.includes('xstate.error.actor.connector')) {
        const broken = fromCallback(() => {
          throw CONNECTOR_BUG;
        });
        definition = { ...definition, logic: (definition.logic as unknown as AnyStateMachine).provide({ actors: { connector: broken } }) as unknown as typeof definition.logic };
      }
      const client = run(definition) as unknown as Scene['client'];
      scene = { client, peer, signals: [], cleanups, endpoint: unixPath ?? `127.0.0.1:${port}`, waitingProducer: false };
      const current = scene;
      client.actor.subscribe((snapshot) => {
        const csa = (snapshot as unknown as { children: Record<string, AnyActorRef | undefined> }).children.csa;
        if (csa) current.csa = csa;
      });
      const signals = scene.signals;
      void (async () => {
        for await (const message of client.messages('signal')) signals.push(message);
      })();
      return client;
    },
    events: {
      'connect.ok': async () => {
        const peerSide = await connection();
        // TLS from the start: the client is connected once the handshake is done. Nothing before
        // its ClientHello is plain (which may have arrived already).
        if (options.secure) await peerSide.startTls({ isServer: true, key: pki.server.key, cert: pki.server.cert }, 0);
      },
      'connect.failed': () => undefined,
      // The client's connector throws as soon as it starts.
      'xstate.error.actor.connector': () => undefined,
      inbox: async (step) => {
        if (!isOpen()) return void scene!.client.send('inbox', step.event.data);
        // Open: straight to the machine, as a user's handle.actor.send does; it reaches the peer.
        const peerSide = await connection();
        const before = peerSide.received().length;
        scene!.client.actor.send({ type: 'inbox', data: step.event.data });
        await peerSide.waitForBytes(before + (step.event.data as Uint8Array).byteLength);
      },
      // Before the connection: queued. Open: straight to the machine (the contract then looks for the ClientHello).
      makessl: (step) => {
        if (!isOpen()) scene!.client.send('makessl', step.event.data);
        else scene!.client.actor.send({ type: 'makessl', data: step.event.data });
      },
      control: (step) => scene!.client.send('control', step.event.data),
      'socket.upgrading': async (_step: TestStep, index: number) => {
        const peerSide = await connection();
        // A makessl queued before the connection has started the upgrade already, right behind
        // what was queued before it (the ClientHello may be here: it is not plain text).
        const queued = names.slice(0, connectedAt).indexOf('makessl');
        if (queued < 0) scene!.client.send('makessl', 'go');
        // The peer answers the ClientHello only when the path goes on to a completed handshake (a
        // producerFinished may come between: it waits for the handshake).
        const next = names.slice(index + 1).find((name) => name !== 'control');
        const plainBytes = queued < 0 ? undefined : bytesOf(path.steps.slice(0, queued));
        if (next === 'socket.secure') scene!.peerTls = peerSide.startTls({ isServer: true, key: pki.server.key, cert: pki.server.cert }, plainBytes).catch(() => undefined);
      },
      // The client stays `open` through a handshake (its CSA's chart has the states): wait for both
      // ends to finish it. (A reset sent before the peer has read our Finished arrives as a clean
      // end in Node too: docs/peer-reset.md.)
      'socket.secure': async () => {
        await scene!.client.next('sslready', { timeoutMs: 2000 });
        await scene!.peerTls;
      },
      'socket.progress': async () => {
        const peerSide = await connection();
        const before = peerSide.received().length;
        scene!.client.send('inbox', 'ping');
        await peerSide.waitForBytes(before + 4);
      },
      'socket.peerEnded': async () => (await connection()).halfClose(),
      'socket.closed': async (step) => {
        const peerSide = await connection();
        if (step.event.reason) peerSide.reset();
        else peerSide.halfClose();
      },
    },
    ...tcpClientContract({
      closeTimeoutMs: CLOSE_MS,
      handshakeTimeoutMs: HANDSHAKE_MS,
      pendingHighWaterMark: HIGH_WATER_MARK,
      allowHalfOpen: options.allowHalfOpen === true,
      secure: options.secure === true,
      connectorErrorCode: CONNECTOR_BUG.code,
      endpoint: () => scene?.endpoint,
      peerReceived: () => scene?.connection?.received(),
      peerSawFin: () => scene?.connection?.ended(),
      inboxOpen: () => (scene ? producerMaySend(scene) : undefined),
      connectionLinked: () => (scene?.csa ? isOutboxLinked(scene.csa, 'outbox') || isOutboxLinked(scene.csa, 'sslready') : undefined),
    }),
    states: {
      // Each terminal state sends exactly one producerFinished on signal; failed carries a reason.
      closed: () => expectOneEnd(false),
      failed: () => expectOneEnd(true),
    },
  });
}

async function expectOneEnd(withReason: boolean): Promise<void> {
  await scene!.client.done;
  const ends = scene!.signals.filter((message) => message.kind === 'producerFinished');
  expect(ends).toHaveLength(1);
  expect((ends[0] as { reason?: unknown }).reason !== undefined).toBe(withReason);
}

const SCENARIOS: Scenarios = {
  'a refused connection ends with ECONNREFUSED': ['after connectDelay', 'connector sends connect.failed (ECONNREFUSED)'],
  'refused with data queued: it counts as unsent': ['inbox "data"', 'inbox "héllo"', 'after connectDelay', 'connector sends connect.failed (ECONNREFUSED)'],
  'a connector that throws ends it with its error; what was queued counts as unsent': ['inbox "data"', 'after connectDelay', 'connector fails'],
  'shutdownMicroprocess before the connection: queued data counts as unsent': ['inbox "data"', 'inbox "héllo"', 'control (shutdownMicroprocess)'],
  'shutdownMicroprocess while connecting': ['after connectDelay', 'inbox "data"', 'control (shutdownMicroprocess)'],
  'queued data reaching pendingHighWaterMark closes the inbox gate until the connection': [
    'inbox "data"',
    'inbox "data"',
    'after connectDelay',
    'connector sends connect.ok',
    'control (shutdownMicroprocess)',
  ],
  'data and producerFinished before the connection: sent first, then closed': [
    'inbox "data"',
    'inbox (notBytes)',
    'inbox "héllo"',
    'control (producerFinished)',
    'after connectDelay',
    'connector sends connect.ok',
    'csa/socket sends socket.peerEnded',
  ],
  'makessl before the connection: what came before it goes plain, the rest over TLS, then producerFinished closes': [
    'inbox "data"',
    'makessl',
    'inbox "héllo"',
    'control (producerFinished)',
    'after connectDelay',
    'connector sends connect.ok',
    'csa/socket sends socket.upgrading',
    'csa/socket sends socket.secure',
    'csa/socket sends socket.peerEnded',
  ],
  'a garbage control message before the connection is reported': ['control (notAControlMessage)', 'after connectDelay', 'connector sends connect.ok', 'control (shutdownMicroprocess)'],
  'a reset ends it with ECONNRESET': ['after connectDelay', 'connector sends connect.ok', 'csa/socket sends socket.closed (ECONNRESET)'],
  'a TLS handshake that never completes ends with ETIMEDOUT': ['after connectDelay', 'connector sends connect.ok', 'csa/socket sends socket.upgrading', 'after csa.handshakeTimeout'],
  'TLS, then a clean close': [
    'after connectDelay',
    'connector sends connect.ok',
    'csa/socket sends socket.upgrading',
    'csa/socket sends socket.secure',
    'control (producerFinished)',
    'csa/socket sends socket.peerEnded',
  ],
  "the server's FIN ends the client at once (allowHalfOpen false)": ['after connectDelay', 'connector sends connect.ok', 'csa/socket sends socket.peerEnded'],
  'our producer finishes, the peer never answers: closeTimeout': ['after connectDelay', 'connector sends connect.ok', 'control (producerFinished)', 'after csa.closeTimeout'],
  'shutdownMicroprocess while open closes at once': ['after connectDelay', 'connector sends connect.ok', 'control (shutdownMicroprocess)'],
  'data while open reaches the peer': ['after connectDelay', 'connector sends connect.ok', 'inbox "data"', 'socket.progress', 'control (shutdownMicroprocess)'],
};

const pkiReady = testPki();
describeModelPaths('TCPClient', model, async (path) => runPath(path, await pkiReady), EXCLUDED, SCENARIOS);

// The same contract over a Unix domain socket (TCPClient's `path`): the connector must use it.
describe('TCPClient model over a Unix domain socket', () => {
  const over = (steps: readonly string[]): TestPath => model.getPathsFromEvents(steps.map((type) => ({ type })))[0]!;
  it('data and producerFinished queued, then a clean close', async () =>
    runPath(over(['inbox "data"', 'control (producerFinished)', 'after connectDelay', 'connector sends connect.ok', 'csa/socket sends socket.peerEnded']), await pkiReady, { unix: true }));
  it('data while open, then shutdownMicroprocess', async () =>
    runPath(over(['after connectDelay', 'connector sends connect.ok', 'inbox "data"', 'control (shutdownMicroprocess)']), await pkiReady, { unix: true }));
});

// allowHalfOpen: the server's FIN leaves our write side open until our producer finishes.
const halfOpen = clientModel({ allowHalfOpen: true });
describe('TCPClient model with allowHalfOpen', () => {
  const over = (steps: readonly string[]): TestPath => halfOpen.getPathsFromEvents(steps.map((type) => ({ type })))[0]!;
  it("after the server's FIN, data still reaches it until our producerFinished", async () =>
    runPath(
      over(['after connectDelay', 'connector sends connect.ok', 'csa/socket sends socket.peerEnded', 'inbox "data"', 'control (producerFinished)']),
      await pkiReady,
      { allowHalfOpen: true },
    ));
});

// Besides the walk, two things no walk step can cause. The machine alone (kamaelia-xstate/machines),
// before TCPClient provides its I/O: importing it opens nothing, and each stand-in says what
// provides it (a clear error naming the problem). And a CSA that throws (a bug; the walk stops at
// a machine that throws): the client must not hang on it.
describe('tcpClientMachine without its I/O', () => {
  const input = {
    host: '127.0.0.1',
    port: 1,
    connectTimeoutMs: 1000,
    secure: false,
    tls: undefined,
    // Messages sent right after start queue in delaying.
    delayMs: 1,
    closeTimeoutMs: CLOSE_MS,
    handshakeTimeoutMs: HANDSHAKE_MS,
    pendingHighWaterMark: 4,
  };
  it('ends with producerFinished saying its connector comes with TCPClient()', async () => {
    const actor = createActor(tcpClientMachine, { input });
    const signals: unknown[] = [];
    actor.on('signal', (event) => void signals.push(event.data));
    actor.start();
    await new Promise<void>((resolve) => actor.subscribe({ complete: resolve }));
    expect(signals).toEqual([
      expect.objectContaining({ kind: 'producerFinished', reason: { code: 'ECOMPONENT', message: 'tcpClientMachine needs its connector actor: use TCPClient()' } }),
    ]);
  });
  it('with no delay connects at once (no timer, however short); with one, waits in delaying', () => {
    const connector = fromCallback(() => undefined); // never answers: the state stays put
    const machine = (tcpClientMachine as unknown as AnyStateMachine).provide({ actors: { connector } } as never);
    const now = createActor(machine, { input: { ...input, delayMs: 0 } }).start();
    expect(now.getSnapshot().value).toBe('connecting');
    now.stop();
    const later = createActor(machine, { input: { ...input, delayMs: DELAY_MS } }).start();
    expect(later.getSnapshot().value).toBe('delaying');
    later.stop();
  });
  const connects = fromCallback(({ sendBack }) => sendBack({ type: 'connect.ok', socket: new Opaque({}, 'socket') }));
  const noop = (): void => undefined;
  const provided = { deliverToCsa: noop, wireCsa: noop, closeInboxGate: noop, reopenInboxGate: noop };
  for (const action of Object.keys(provided) as (keyof typeof provided)[]) {
    it(`stops with an error naming its ${action} action`, async () => {
      const actions: Partial<typeof provided> = { ...provided };
      delete actions[action];
      // (Stand-ins of another type than the real actors: cast, as the walk's stubs are.)
      const machine = (tcpClientMachine as unknown as AnyStateMachine).provide({ actors: { connector: connects, csa: fromCallback(noop) }, actions } as never);
      const actor = createActor(machine, { input });
      const failed = new Promise<unknown>((resolve) => actor.subscribe({ error: resolve }));
      actor.start();
      // 4 bytes reach pendingHighWaterMark (closeInboxGate); a queued makessl is delivered once connected (deliverToCsa).
      actor.send({ type: 'inbox', data: 'data' });
      actor.send({ type: 'makessl', data: 'go' });
      expect(String(await failed)).toContain(`tcpClientMachine needs its ${action} action: use TCPClient()`);
    });
  }
});

describe('TCPClient with a CSA that throws', () => {
  it('ends with producerFinished carrying its error, and lets go of the connection', async () => {
    const peer = await scriptedPeer();
    try {
      const client = run(TCPClient('127.0.0.1', peer.port, { closeTimeout: CLOSE_MS }));
      const connection = await peer.connection();
      const deadline = Date.now() + 2000;
      while (client.actor.getSnapshot().value !== 'open' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
      const csa = (client.actor.getSnapshot() as unknown as { children: Record<string, AnyActorRef | undefined> }).children.csa!;
      // An event its binding could send, whose reading throws: the CSA machine fails with that error.
      csa.send({
        type: 'socket.progress',
        bytesOut: 0,
        get bytesIn(): number {
          throw Object.assign(new Error('the CSA threw (a test)'), { code: 'ECSABUG' });
        },
      } as never);
      expect(await client.next('signal', { timeoutMs: 2000 })).toEqual(expect.objectContaining({ kind: 'producerFinished', source: 'TCPClient', reason: expect.objectContaining({ code: 'ECSABUG' }) }));
      expect(await client.done).toEqual(expect.objectContaining({ status: 'error', reason: expect.objectContaining({ code: 'ECSABUG' }) }));
      // It lets go of the connection: the peer sees it end, and nothing links the CSA to the client.
      await connection.whenEnded(2000);
      expect(isOutboxLinked(csa, 'outbox') || isOutboxLinked(csa, 'sslready')).toBe(false);
    } finally {
      await peer.close();
    }
  });
});

// TLS from the start (`secure: true`): the connection is secure from its first byte.
const secureModel = clientModel({ secure: true });
describe('TCPClient model with TLS from the start', () => {
  const over = (steps: readonly string[]): TestPath => secureModel.getPathsFromEvents(steps.map((type) => ({ type })))[0]!;
  it('data queued and sent while open reaches the peer encrypted, then producerFinished closes', async () =>
    runPath(
      over(['inbox "data"', 'after connectDelay', 'connector sends connect.ok', 'inbox "data"', 'control (producerFinished)', 'csa/socket sends socket.peerEnded']),
      await pkiReady,
      { secure: true },
    ));
});
