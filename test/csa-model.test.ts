// Model-based tests of the ConnectedSocketAdapter from the REAL connectedSocketAdapterMachine
// (kamaelia-xstate/testing): the walk stubs the socket I/O the machine is given as actions (with the
// library's model of what a socket binding can report when) and runs the timers on a walk clock; every shortest, simple and
// transition path then runs against a real CSA on a loopback connection whose other end the test
// steers, and the real actor must reach each step's state.
//
// Left out over real sockets (by name, excluded from the coverage requirement below):
// - `inbox`, `makessl`, `ReadReady`, `SendReady` sent to the machine: they are delivered to the
//   binding directly; the machine's own handlers only catch a direct actor.send.
// - `socket.secure` outside upgradingTls: the binding reports secure only to finish an upgrade.
// - upgradingTls `socket.peerEnded`: a peer's FIN during the handshake fails the handshake; the
//   binding reports a close with a reason (measured here: the real CSA goes upgradingTls → closed
//   with a reason), never peerEnded. The transition only matters if the binding changes.
// - upgradingTls `socket.secure` with a close pending (producerFinished arrived during the
//   handshake): the walk's state key does not tell a pending close apart, so it never continues
//   from there; test/client-tls.test.ts "producerFinished during the handshake" drives it for real.
// - flushing `socket.secure`: a close asked for in the instant between makessl reaching the binding
//   and the machine hearing the upgrade began; a race no peer can steer.
import * as net from 'node:net';
import { afterEach, expect } from 'vitest';
import { ConnectedSocketAdapter, run, type SignalMessage } from 'kamaelia-xstate';
import { connectedSocketAdapterMachine } from 'kamaelia-xstate/machines';
import { createTestModel, scriptedPeer, type LoopbackConnection, type ScriptedPeer, type TestPath } from 'kamaelia-xstate/testing';
import { testPki, type TestPki } from './helpers/certs.js';
import { describeModelPaths } from './helpers/modelSuites.js';

const TIMEOUT_MS = 300;

const EXCLUDED = [
  'ConnectedSocketAdapter: inbox → (stays)',
  'ConnectedSocketAdapter: makessl → (stays)',
  'ConnectedSocketAdapter: ReadReady → (stays)',
  'ConnectedSocketAdapter: SendReady → (stays)',
  'ConnectedSocketAdapter: socket.secure → (stays)',
  'ConnectedSocketAdapter.upgradingTls: socket.peerEnded → (stays)',
  'ConnectedSocketAdapter.upgradingTls: socket.secure #1 → ConnectedSocketAdapter.flushing',
  'ConnectedSocketAdapter.flushing: socket.secure → (stays)',
];

// Walked twice: as node:net's default (the peer's FIN ends our side) and with allowHalfOpen. Each
// walk leaves out the peer's-FIN branch that belongs to the other.
const HALF_OPEN_ONLY = [
  'ConnectedSocketAdapter.connected: socket.peerEnded #1 → (stays)',
  'ConnectedSocketAdapter.connected: csa.halfOpenTimeout → ConnectedSocketAdapter.flushing',
];
const CLOSING_ONLY = ['ConnectedSocketAdapter.connected: socket.peerEnded #2 → ConnectedSocketAdapter.flushing'];

const modelFor = (allowHalfOpen: boolean) =>
  createTestModel(connectedSocketAdapterMachine, {
    input: { binding: { socket: {} }, closeTimeoutMs: TIMEOUT_MS, handshakeTimeoutMs: TIMEOUT_MS, id: 1, allowHalfOpen },
    omit: ['inbox', 'makessl', 'ReadReady', 'SendReady'],
    // Data flows only on a plain connection here (the peer reads plain bytes).
    filter: (step, from) => step.name !== 'socket.progress' || from.value === 'connected',
  });

interface Scene {
  csa: ReturnType<typeof run<object, { outbox: Buffer; CreatorFeedback: unknown; signal: SignalMessage; sslready: unknown }>> & { send(box: string, message: unknown): void };
  peer: ScriptedPeer;
  connection: LoopbackConnection;
  feedback: unknown[];
}

let scene: Scene | undefined;
afterEach(async () => {
  scene?.csa.stop();
  await scene?.peer.close();
  scene = undefined;
});

async function runPath(path: TestPath, pki: TestPki, allowHalfOpen: boolean): Promise<void> {
  const names = path.steps.map((step) => step.name);
  await path.test({
    start: async () => {
      const peer = await scriptedPeer();
      const socket = net.connect({ port: peer.port, host: peer.host, allowHalfOpen: true });
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      const connection = await peer.connection();
      const csa = run(ConnectedSocketAdapter(socket, { allowHalfOpen, closeTimeout: TIMEOUT_MS, handshakeTimeout: TIMEOUT_MS, tls: { ca: pki.ca, servername: 'localhost' } })) as unknown as Scene['csa'];
      scene = { csa, peer, connection, feedback: [] };
      const feedback = scene.feedback;
      void (async () => {
        for await (const message of csa.messages('CreatorFeedback')) feedback.push(message);
      })();
      return csa;
    },
    events: {
      control: (step) => scene!.csa.send('control', step.event.data),
      'socket.upgrading': (_step, index) => {
        scene!.csa.send('makessl', 'go');
        if (names[index + 1] === 'socket.secure') void scene!.connection.startTls({ isServer: true, key: pki.server.key, cert: pki.server.cert }).catch(() => undefined);
      },
      'socket.secure': () => undefined,
      'socket.progress': async () => {
        const before = scene!.connection.received().length;
        scene!.csa.send('inbox', 'ping');
        await scene!.connection.waitForBytes(before + 4);
      },
      'socket.peerEnded': () => scene!.connection.halfClose(),
      'socket.closed': (step) => (step.event.reason ? scene!.connection.reset() : scene!.connection.halfClose()),
    },
    states: {
      // The CSA ends with exactly one socketShutdown on CreatorFeedback, and closes its socket.
      closed: async () => {
        await scene!.csa.done;
        expect(scene!.feedback).toHaveLength(1);
        await scene!.connection.whenEnded();
      },
    },
  });
}

const pkiReady = testPki();
describeModelPaths('ConnectedSocketAdapter', modelFor(false), async (path) => runPath(path, await pkiReady, false), [...EXCLUDED, ...HALF_OPEN_ONLY]);
describeModelPaths('ConnectedSocketAdapter (allowHalfOpen)', modelFor(true), async (path) => runPath(path, await pkiReady, true), [...EXCLUDED, ...CLOSING_ONLY]);
