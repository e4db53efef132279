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
// - `makessl` while open: a component's makessl goes to the CSA through the inbox passthrough, and
//   a direct `handle.actor.send({ type: 'makessl' })` reaches the machine's handler, which hands it
//   to the CSA too; either way the upgrade it starts is the binding's `socket.upgrading` step here
//   (whose handler sends makessl), so the direct-send transition itself is left out.
// (`inbox` while open is covered: a path's inbox step then is a direct handle.actor.send, which
// reaches the peer. The CSA's own transitions are csa-model.test.ts's to cover.)
// Every path is also judged by the library's contract (test/helpers/libraryContract.ts): one
// producerFinished at the end with the right reason, unsentBytes, queued data first, the timers.
import { afterEach, expect } from 'vitest';
import { TCPClient, run, type SignalMessage } from 'kamaelia-xstate';
import { tcpClientMachine } from 'kamaelia-xstate/machines';
import { createTestModel, scriptedPeer, type LoopbackConnection, type ScriptedPeer, type TestPath, type TestStep } from 'kamaelia-xstate/testing';
import { testPki, type TestPki } from '../helpers/certs.js';
import { tcpClientContract } from '../helpers/libraryContract.js';
import { describeModelPaths, type Scenarios } from '../helpers/modelSuites.js';
import { fullBacklogListener } from '../helpers/fullBacklog.js';
import { listen } from '../helpers/net.js';

// Different timeouts, so a timer started with the wrong one fails the contract's timing checks.
const CLOSE_MS = 250;
const HANDSHAKE_MS = 600;
const DELAY_MS = 30;

const EXCLUDED = [
  'TCPClient.connecting: xstate.error.actor.connector → TCPClient.failed',
  'TCPClient.open: xstate.error.actor.csa → TCPClient.failed',
  'TCPClient.delaying: makessl → (stays)',
  'TCPClient.connecting: makessl → (stays)',
  'TCPClient.open: makessl → (stays)',
];

const value = (state: { value: unknown }): string => JSON.stringify(state.value);

/** The CSA child's state in a walked client snapshot: while open, the connection's own lifecycle is its CSA's. */
const csaValue = (state: { children?: Record<string, { getSnapshot?: () => { value?: unknown } } | undefined> }): string | undefined => {
  const csa = state.children?.csa;
  return csa?.getSnapshot ? JSON.stringify(csa.getSnapshot().value) : undefined;
};

const model = createTestModel(tcpClientMachine, {
  // A few dozen states: a machine change that makes many more fails at once (and mutation runs stay short).
  maxStates: 60,
  input: {
    host: '127.0.0.1',
    port: 1,
    connectTimeoutMs: 5000,
    secure: false,
    tls: undefined,
    delayMs: DELAY_MS,
    closeTimeoutMs: CLOSE_MS,
    handshakeTimeoutMs: HANDSHAKE_MS,
    pendingHighWaterMark: 65536,
  },
  omit: ['xstate.error.actor.connector', 'makessl'],
  // (What the socket binding can report when - a clean close only after our flush, secure only
  // during an upgrade - is the library's model of it, built in.) Data flows only on a plain, open
  // connection here: the peer reads plain bytes.
  filter: (step, from) => {
    const at = value(from);
    const csa = csaValue(from);
    if (step.name === 'inbox') return at === '"delaying"' || at === '"connecting"' || (at === '"open"' && csa === '"connected"');
    if (step.name === 'socket.progress') return at === '"open"' && csa === '"connected"';
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
        TCPClient('127.0.0.1', port, { delay: DELAY_MS, closeTimeout: CLOSE_MS, handshakeTimeout: HANDSHAKE_MS, tls: { ca: pki.ca, servername: 'localhost' } }),
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
      inbox: async (step) => {
        if (scene!.client.actor.getSnapshot().value !== 'open') return void scene!.client.send('inbox', step.event.data);
        // Open: straight to the machine, as a user's handle.actor.send does; it reaches the peer.
        const peerSide = await connection();
        const before = peerSide.received().length;
        scene!.client.actor.send({ type: 'inbox', data: step.event.data });
        await peerSide.waitForBytes(before + (step.event.data as Uint8Array).byteLength);
      },
      control: (step) => scene!.client.send('control', step.event.data),
      'socket.upgrading': async (_step: TestStep, index: number) => {
        const peerSide = await connection();
        scene!.client.send('makessl', 'go');
        // The peer answers the ClientHello only when the path goes on to a completed handshake (a
        // producerFinished may come between: it waits for the handshake).
        const next = names.slice(index + 1).find((name) => name !== 'control');
        if (next === 'socket.secure') scene!.peerTls = peerSide.startTls({ isServer: true, key: pki.server.key, cert: pki.server.cert }).catch(() => undefined);
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
    ...tcpClientContract({ closeTimeoutMs: CLOSE_MS, handshakeTimeoutMs: HANDSHAKE_MS, peerReceived: () => scene?.connection?.received() }),
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
  'refused with data queued: it counts as unsent': ['inbox "data"', 'after connectDelay', 'connector sends connect.failed (ECONNREFUSED)'],
  'shutdownMicroprocess before the connection: queued data counts as unsent': ['inbox "data"', 'control (shutdownMicroprocess)'],
  'shutdownMicroprocess while connecting': ['after connectDelay', 'inbox "data"', 'control (shutdownMicroprocess)'],
  'data and producerFinished before the connection: sent first, then closed': [
    'inbox "data"',
    'control (producerFinished)',
    'after connectDelay',
    'connector sends connect.ok',
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
  'data while open reaches the peer': ['after connectDelay', 'connector sends connect.ok', 'inbox "data"', 'control (shutdownMicroprocess)'],
};

const pkiReady = testPki();
describeModelPaths('TCPClient', model, async (path) => runPath(path, await pkiReady), EXCLUDED, SCENARIOS);
