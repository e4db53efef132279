// Model-based tests of the ConnectedSocketAdapter from the REAL connectedSocketAdapterMachine
// (kamaelia-xstate/testing): the walk stubs the socket I/O the machine is given as actions (with the
// library's model of what a socket binding can report when) and runs the timers on a walk clock; every shortest, simple and
// transition path then runs against a real CSA on a loopback connection whose other end the test
// steers, and the real actor must reach each step's state.
//
// Every path is also judged by the library's contract (test/helpers/libraryContract.ts): one
// socketShutdown on CreatorFeedback and one shutdownCSA with the right reason, the peer's FIN
// reported, a prompt shutdown, the timers.
//
// Left out over real sockets (by name, excluded from the coverage requirement below):
// - `ReadReady`, `SendReady` sent to the machine: the Selector's readiness messages, delivered to
//   the binding directly; the machine's handlers catch only a direct `handle.actor.send`.
// (`inbox` and `makessl` sent to the machine are covered: a path's inbox step is a direct
// handle.actor.send, which reaches the peer, and its socket.upgrading step sends makessl so.)
// - `socket.secure` outside upgradingTls: the binding reports secure only to finish an upgrade.
// - upgradingTls `socket.peerEnded`: a peer's FIN during the handshake fails the handshake; the
//   binding reports a close with a reason (measured here: the real CSA goes upgradingTls → closed
//   with a reason), never peerEnded. The transition only matters if the binding changes.
// - flushing `socket.secure`: a close asked for in the instant between makessl reaching the binding
//   and the machine hearing the upgrade began; a race no peer can steer.
//
// Walked twice: as node:net's default (the peer's FIN ends our side) and with allowHalfOpen; each
// walk leaves out the peer's-FIN branch that belongs to the other.
import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { ConnectedSocketAdapter, producerFinished, reason, run, serverShutdown, shutdownMicroprocess, type SignalMessage } from 'kamaelia-xstate';
import { connectedSocketAdapterMachine } from 'kamaelia-xstate/machines';
import { createTestModel, scriptedPeer, type LoopbackConnection, type ScriptedPeer, type TestPath } from 'kamaelia-xstate/testing';
import { testPki, type TestPki } from '../helpers/certs.js';
import { runningTimers } from '../../actors/connectionTimers.js';
import { csaContract } from '../helpers/libraryContract.js';
import { describeModelPaths, type Scenarios } from '../helpers/modelSuites.js';

// Different timeouts, so a timer started with the wrong one fails the contract's timing checks.
const CLOSE_MS = 250;
const HANDSHAKE_MS = 600;
/** What a socket.progress step writes (through the CSA's inbox box). */
const PROGRESS_DATA = 'ping';

const EXCLUDED = [
  // Taken for real by every socket.upgrading step (which sends makessl to the machine); the walk
  // has the upgrade as the binding's step, so it does not count it as this transition.
  'ConnectedSocketAdapter: makessl → (stays)',
  'ConnectedSocketAdapter: ReadReady → (stays)',
  'ConnectedSocketAdapter: SendReady → (stays)',
  'ConnectedSocketAdapter.flushing: socket.secure → (stays)',
];
const HALF_OPEN_ONLY = [
  'ConnectedSocketAdapter.connected: socket.peerEnded #1 → (stays)',
  'ConnectedSocketAdapter.connected: csa.halfOpenTimeout → ConnectedSocketAdapter.flushing',
];
const CLOSING_ONLY = ['ConnectedSocketAdapter.connected: socket.peerEnded #2 → ConnectedSocketAdapter.flushing'];

const modelFor = (allowHalfOpen: boolean) => createTestModel(connectedSocketAdapterMachine, {
  // A few dozen states: a machine change that makes many more fails at once (and mutation runs stay short).
  maxStates: 60,
  input: { binding: { socket: {} }, closeTimeoutMs: CLOSE_MS, handshakeTimeoutMs: HANDSHAKE_MS, id: 1, allowHalfOpen },
  omit: ['makessl', 'ReadReady', 'SendReady'],
  // The library's control samples, and a producer that finished with an error (passed on after a graceful close).
  events: [
    { type: 'control', data: producerFinished() },
    { type: 'control', data: producerFinished(reason('EUPSTREAM', 'the producer failed')) },
    { type: 'control', data: shutdownMicroprocess() },
    { type: 'control', data: serverShutdown() },
    { type: 'control', data: { kind: 'notAControlMessage' } },
  ],
  // Data is written while connected (plain or TLS); an inbox while flushing comes after our side
  // finished writing (dropped, counted as unsent).
  // A peer's RST once TLS is up is not a step a test can cause: node reports it as a clean close
  // about half the time (measured with plain node:tls, no CSA: a reset just after the server's
  // handshake is seen as ECONNRESET, one a turn later as a clean close).
  filter: (step, from) => {
    if (step.name === 'socket.progress') return from.value === 'connected';
    if (step.name === 'inbox') return from.value === 'connected' || from.value === 'flushing';
    if (step.name === 'socket.closed' && step.event.reason !== undefined) return (from.context as { secure: boolean }).secure !== true;
    return true;
  },
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
      const csa = run(ConnectedSocketAdapter(socket, { allowHalfOpen, closeTimeout: CLOSE_MS, handshakeTimeout: HANDSHAKE_MS, tls: { ca: pki.ca, servername: 'localhost' } })) as unknown as Scene['csa'];
      scene = { csa, peer, connection, feedback: [] };
      const feedback = scene.feedback;
      void (async () => {
        for await (const message of csa.messages('CreatorFeedback')) feedback.push(message);
      })();
      return csa;
    },
    events: {
      control: (step) => scene!.csa.send('control', step.event.data),
      // Straight to the machine, as a user's handle.actor.send does: its handler passes it to the socket.
      inbox: async (step, index) => {
        const before = scene!.connection.received().length;
        scene!.csa.actor.send({ type: 'inbox', data: step.event.data });
        // Once our side has finished writing, nothing more reaches the peer.
        if (path.steps[index - 1]?.state.value === 'flushing') return;
        await scene!.connection.waitForBytes(before + (step.event.data as Uint8Array).byteLength);
      },
      'socket.upgrading': (_step, index) => {
        // Straight to the machine (handle.actor.send): its makessl handler passes it to the socket.
        // (A makessl delivered to the box goes to the socket directly: client-model and csa-tls.)
        scene!.csa.actor.send({ type: 'makessl', data: 'go' });
        // The peer answers the ClientHello when the path goes on to complete the handshake (a
        // producerFinished may come between: it waits for the handshake).
        const next = names.slice(index + 1).find((name) => name !== 'control');
        if (next === 'socket.secure') void scene!.connection.startTls({ isServer: true, key: pki.server.key, cert: pki.server.cert }).catch(() => undefined);
      },
      'socket.secure': () => undefined,
      'socket.progress': async () => {
        const before = scene!.connection.received().length;
        scene!.csa.send('inbox', PROGRESS_DATA);
        await scene!.connection.waitForBytes(before + PROGRESS_DATA.length);
      },
      'socket.peerEnded': () => scene!.connection.halfClose(),
      'socket.closed': (step) => (step.event.reason ? scene!.connection.reset() : scene!.connection.halfClose()),
    },
    ...csaContract({
      id: 0,
      closeTimeoutMs: CLOSE_MS,
      handshakeTimeoutMs: HANDSHAKE_MS,
      allowHalfOpen,
      sent: (step) => (step.name === 'inbox' ? (step.event.data as Uint8Array) : step.name === 'socket.progress' ? Buffer.from(PROGRESS_DATA) : undefined),
      peer: () => scene && { received: scene.connection.received(), ended: scene.connection.ended() },
      timersRunning: () => (scene ? runningTimers(scene.csa.actor) : 0),
    }),
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

const HALF_OPEN_SCENARIOS: Scenarios = {
  "the peer's FIN, then our producer finishes: flushed and closed": ['socket sends socket.peerEnded', 'control (producerFinished)'],
  "the peer's FIN and nobody finishes: closed after closeTimeout": ['socket sends socket.peerEnded', 'after csa.halfOpenTimeout'],
  "our side still writes after the peer's FIN, in order, then our FIN": ['inbox "data"', 'socket sends socket.peerEnded', 'socket sends socket.progress', 'inbox "data"', 'control (producerFinished)'],
};

const CLOSING_SCENARIOS: Scenarios = {
  "the peer's FIN ends our side at once: flushed and closed": ['socket sends socket.peerEnded'],
};

const SCENARIOS: Scenarios = {
  'our producer finishes, the peer answers our FIN': ['control (producerFinished)', 'socket sends socket.peerEnded'],
  "our producer fails: its reason is passed on after a graceful close": ['control (producerFinished EUPSTREAM)', 'socket sends socket.peerEnded'],
  'our producer finishes, the peer never answers: closeTimeout': ['control (producerFinished)', 'after csa.closeTimeout'],
  'shutdownMicroprocess closes at once': ['control (shutdownMicroprocess)'],
  'serverShutdown counts as shutdownMicroprocess': ['control (serverShutdown)'],
  'shutdownMicroprocess while flushing closes at once': ['control (producerFinished)', 'control (shutdownMicroprocess)'],
  'bytes sent after our producer finished are dropped: EUNSENT, counted in unsentBytes': ['inbox "data"', 'control (producerFinished)', 'inbox "data"', 'socket sends socket.peerEnded'],
  'bytes dropped, then a shutdown: EUNSENT': ['control (producerFinished EUPSTREAM)', 'inbox "data"', 'control (shutdownMicroprocess)'],
  'bytes dropped, then a reset: ECONNRESET, still counted': ['control (producerFinished)', 'inbox "data"', 'socket sends socket.closed (ECONNRESET)'],
  'bytes dropped and the peer never closes: ECLOSETIMEOUT': ['control (producerFinished)', 'inbox "data"', 'after csa.closeTimeout'],
  'after a TLS upgrade, bytes sent after our producer finished are dropped': ['socket sends socket.upgrading', 'socket sends socket.secure', 'inbox "data"', 'control (producerFinished)', 'inbox "data"', 'socket sends socket.peerEnded'],
  'a reset ends it with ECONNRESET': ['socket sends socket.closed (ECONNRESET)'],
  'a TLS upgrade completes, then a clean close': ['socket sends socket.upgrading', 'socket sends socket.secure', 'control (producerFinished)', 'socket sends socket.peerEnded'],
  'a TLS handshake that never completes ends with ETIMEDOUT': ['socket sends socket.upgrading', 'after csa.handshakeTimeout'],
  'producerFinished during a TLS handshake: kept until it is done, then flushed': ['socket sends socket.upgrading', 'control (producerFinished)', 'socket sends socket.secure'],
  'a garbage control message is reported': ['control (notAControlMessage)', 'control (producerFinished)'],
  'data sent to the machine itself reaches the peer': ['inbox "data"', 'control (shutdownMicroprocess)'],
  'progress while connected': ['socket sends socket.progress', 'control (shutdownMicroprocess)'],
};

describe('connectedSocketAdapterMachine without its socket I/O', () => {
  it('fails at start, saying what to use', () => {
    const actor = createActor(connectedSocketAdapterMachine, { input: { binding: { socket: {} as never }, closeTimeoutMs: CLOSE_MS, handshakeTimeoutMs: HANDSHAKE_MS, id: 1 } });
    let failure: unknown;
    actor.subscribe({ error: (error) => (failure = error) });
    actor.start();
    expect(String(failure)).toContain('needs its socket I/O: use ConnectedSocketAdapter()');
  });
});

const pkiReady = testPki();
describeModelPaths('ConnectedSocketAdapter', modelFor(false), async (path) => runPath(path, await pkiReady, false), [...EXCLUDED, ...HALF_OPEN_ONLY], {
  ...SCENARIOS,
  ...CLOSING_SCENARIOS,
});
describeModelPaths('ConnectedSocketAdapter (allowHalfOpen)', modelFor(true), async (path) => runPath(path, await pkiReady, true), [...EXCLUDED, ...CLOSING_ONLY], {
  ...SCENARIOS,
  ...HALF_OPEN_SCENARIOS,
});
