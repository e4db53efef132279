// Model-based tests of TCPClient from the REAL tcpClientMachine (kamaelia-xstate/testing): the walk
// runs the machine and its CSA with the connector and the socket I/O stubbed and the timers on a
// walk clock; every shortest path, every simple path and every transition path then runs against a
// real TCPClient talking to a scripted loopback peer, and the real actor must reach each step's
// state. A change to the machine changes these tests.
//
// Left out over real sockets (by name, excluded from the coverage requirement below):
// - `xstate.error.actor.connector`, `xstate.error.actor.csa`: the connector and the CSA are
//   written never to throw; these transitions only guard against a bug, nothing on the wire can
//   cause them.
// - `makessl` sent to the client before the connection: it is queued and starts TLS the moment the
//   connection opens, while the walk has the binding report "upgrading" as a step of its own; the
//   queued makessl is tested in client-tls.test.ts.
// - `inbox` and `makessl` while open: the inbox passthrough carries them to the CSA; the machine's
//   own handlers only catch a direct actor.send, which a component's user cannot do.
// (The CSA's own transitions are csa-model.test.ts's to cover.)
import { afterEach, expect } from 'vitest';
import { TCPClient, run, type SignalMessage } from 'kamaelia-xstate';
import { tcpClientMachine } from 'kamaelia-xstate/machines';
import { createTestModel, scriptedPeer, type LoopbackConnection, type ScriptedPeer, type TestPath, type TestStep } from 'kamaelia-xstate/testing';
import { testPki, type TestPki } from './helpers/certs.js';
import { describeModelPaths } from './helpers/modelSuites.js';
import { fullBacklogListener } from './helpers/fullBacklog.js';
import { listen } from './helpers/net.js';

const TIMEOUT_MS = 300;
const DELAY_MS = 30;

const EXCLUDED = [
  'TCPClient.connecting: xstate.error.actor.connector → TCPClient.failed',
  'TCPClient.open: xstate.error.actor.csa → TCPClient.failed',
  'TCPClient.delaying: makessl → (stays)',
  'TCPClient.connecting: makessl → (stays)',
  'TCPClient.open: inbox → (stays)',
  'TCPClient.open: makessl → (stays)',
];

const value = (state: { value: unknown }): string => JSON.stringify(state.value);
/** The CSA child's state in a walked client snapshot (the connection's own lifecycle). */
const csaValue = (state: { children?: Record<string, { getSnapshot?: () => { value?: unknown } } | undefined> }): string | undefined => {
  const csa = state.children?.csa;
  return csa?.getSnapshot ? JSON.stringify(csa.getSnapshot().value) : undefined;
};

const model = createTestModel(tcpClientMachine, {
  input: {
    host: '127.0.0.1',
    port: 1,
    connectTimeoutMs: 5000,
    secure: false,
    tls: undefined,
    delayMs: DELAY_MS,
    closeTimeoutMs: TIMEOUT_MS,
    handshakeTimeoutMs: TIMEOUT_MS,
    pendingHighWaterMark: 65536,
  },
  omit: ['xstate.error.actor.connector', 'makessl'],
  // (What the socket binding can report when - a clean close only after our flush, secure only
  // during an upgrade - is the library's model of it, built in.) Data flows only on a plain, open
  // connection here: the peer reads plain bytes.
  filter: (step, from) => {
    const at = value(from);
    if (step.name === 'inbox') return at === '"delaying"' || at === '"connecting"';
    if (step.name === 'socket.progress') return at === '"open"' && csaValue(from) === '"connected"';
    return true;
  },
});

interface Scene {
  client: ReturnType<typeof run<object, { outbox: Buffer; signal: SignalMessage; sslready: unknown }>> & { send(box: string, message: unknown): void };
  peer?: ScriptedPeer;
  connection?: LoopbackConnection;
  signals: SignalMessage[];
  cleanups: (() => Promise<void> | void)[];
  /** The peer's side of a handshake under way. */
  peerTls?: Promise<void>;
}

let scene: Scene | undefined;
afterEach(async () => {
  scene?.client.stop();
  for (const cleanup of scene?.cleanups.splice(0) ?? []) await cleanup();
  scene = undefined;
});

async function runPath(path: TestPath, pki: TestPki): Promise<void> {
  const names = path.steps.map((step) => step.name);
  const connection = async (): Promise<LoopbackConnection> => (scene!.connection ??= await scene!.peer!.connection());
  await path.test({
    start: async () => {
      const cleanups: Scene['cleanups'] = [];
      let port: number;
      let peer: ScriptedPeer | undefined;
      if (names.includes('connect.ok')) {
        peer = await scriptedPeer();
        cleanups.push(peer.close);
        port = peer.port;
      } else if (names.includes('connect.failed')) {
        const closed = await listen();
        await closed.close();
        port = closed.port;
      } else {
        // Never connects: the client stays in connecting for as long as the path needs.
        const backlog = await fullBacklogListener();
        cleanups.push(backlog.close);
        port = backlog.port;
      }
      const client = run(
        TCPClient('127.0.0.1', port, { delay: DELAY_MS, closeTimeout: TIMEOUT_MS, handshakeTimeout: TIMEOUT_MS, tls: { ca: pki.ca, servername: 'localhost' } }),
      ) as unknown as Scene['client'];
      scene = { client, peer, signals: [], cleanups };
      const signals = scene.signals;
      void (async () => {
        for await (const message of client.messages('signal')) signals.push(message);
      })();
      return client;
    },
    events: {
      'connect.ok': async () => void (await connection()),
      'connect.failed': () => undefined,
      inbox: (step) => scene!.client.send('inbox', step.event.data),
      control: (step) => scene!.client.send('control', step.event.data),
      'socket.upgrading': async (_step: TestStep, index: number) => {
        const peerSide = await connection();
        scene!.client.send('makessl', 'go');
        // The peer answers the ClientHello only when the path goes on to a completed handshake.
        if (names[index + 1] === 'socket.secure') scene!.peerTls = peerSide.startTls({ isServer: true, key: pki.server.key, cert: pki.server.cert }).catch(() => undefined);
      },
      // The client stays `open` through a handshake (its CSA's chart has the states): wait for both
      // ends to finish it. (A reset sent before the peer has read our Finished arrives as a clean
      // end in Node too: docs/peer-reset.md.)
      'socket.secure': async () => {
        await scene!.client.next('sslready', { timeoutMs: 5000 });
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

const pkiReady = testPki();
describeModelPaths('TCPClient', model, async (path) => runPath(path, await pkiReady), EXCLUDED);
