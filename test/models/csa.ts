// Model-based tests of the ConnectedSocketAdapter from the REAL connectedSocketAdapterMachine
// (kamaelia-xstate/testing): the walk stubs the socket I/O the machine is given as actions (with the
// library's model of what a socket binding can report when) and runs the timers on a walk clock; every shortest, simple and
// transition path then runs against a real CSA on a loopback connection whose other end the test
// steers, and the real actor must reach each step's state.
//
// Every path is also judged by the library's contract (test/helpers/libraryContract.ts): one
// socketShutdown on CreatorFeedback and one shutdownCSA with the right reason (ECONNRESET,
// ETIMEDOUT, ECLOSETIMEOUT, EUNSENT, the producer's), unsentBytes, the bytes the peer got and our
// FIN, the peer's FIN reported, a prompt shutdown, the context's flags, the timers running.
//
// Sent to the machine itself, as a user's handle.actor.send does (box deliveries go to the socket
// binding directly): `inbox` (a path's inbox step), `makessl` (its socket.upgrading step) and a
// `ReadReady` close (the Selector's report that the socket closed): each reaches the socket.
// The race of makessl with producerFinished (makessl reaches the socket, producerFinished the
// machine before it hears the upgrade began: flushing's socket.secure sends the FIN after the
// handshake) is walked too: the binding model below allows it, and the control step steers it.
// Left out over real sockets (by name, excluded from the coverage requirement below):
// - `SendReady` sent to the machine: the Selector's drain only reopens a full inbox gate, which the
//   walk's paths never fill.
// - a peer's reset once TLS is up (see the filter below).
//
// Walked twice: as node:net's default (the peer's FIN ends our side) and with allowHalfOpen; each
// walk leaves out the peer's-FIN branch that belongs to the other. A few scenarios also run on a
// socket that is TLS from the start.
import * as net from 'node:net';
import * as tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { createActor, type EventObject } from 'xstate';
import { ConnectedSocketAdapter, isProducerFinished, producerFinished, reason, run, serverShutdown, shutdownMicroprocess, type SignalMessage } from 'kamaelia-xstate';
import { connectedSocketAdapterMachine } from 'kamaelia-xstate/machines';
import { createTestModel, scriptedPeer, type LoopbackConnection, type ScriptedPeer, type StubHandle, type TestPath } from 'kamaelia-xstate/testing';
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
  'ConnectedSocketAdapter: SendReady → (stays)',
];
const HALF_OPEN_ONLY = [
  'ConnectedSocketAdapter.connected: socket.peerEnded #1 → (stays)',
  'ConnectedSocketAdapter.connected: csa.halfOpenTimeout → ConnectedSocketAdapter.flushing',
];
const CLOSING_ONLY = ['ConnectedSocketAdapter.connected: socket.peerEnded #2 → ConnectedSocketAdapter.flushing'];

/**
 * What the socket binding can report when: the library's model (src/testing/libraryMachines.ts),
 * plus the race it leaves out: an upgrade that began just as our producerFinished came (makessl
 * reached the socket first) is reported once we are flushing, and may then complete.
 */
function bindingCan(event: EventObject, stub: StubHandle): boolean {
  const sent = stub.sent.map((e) => e.type);
  if (sent.includes('socket.closed')) return false;
  const secure = sent.includes('socket.secure');
  const upgrading = sent.includes('socket.upgrading') && !secure;
  const peerEnded = sent.includes('socket.peerEnded');
  const flushed = stub.received.some((e) => e.type === 'flushSocket');
  switch (event.type) {
    case 'socket.secure':
      return upgrading;
    case 'socket.upgrading':
      // One upgrade; none after the peer's FIN (the binding refuses makessl once reading ended).
      return !upgrading && !secure && !peerEnded;
    case 'socket.peerEnded':
      // A FIN during a handshake fails it (a close with a reason) rather than being reported.
      return !upgrading && !peerEnded;
    case 'socket.closed':
      // After the peer's FIN node reads no more, so a reset then goes unseen; a clean close needs our flush.
      return (event as { reason?: unknown }).reason !== undefined ? !peerEnded : flushed && !upgrading;
    default:
      return true;
  }
}

/** The Selector's report that the socket has closed, sent to the machine itself: the binding closes, as for a real close. */
const READ_CLOSE = { type: 'ReadReady', data: { readiness: 'close' } } as const;

const modelFor = (allowHalfOpen: boolean, secure = false) => createTestModel(connectedSocketAdapterMachine, {
  // A few dozen states: a machine change that makes many more fails at once (and mutation runs stay short).
  maxStates: 60,
  input: { binding: { socket: {}, secure }, closeTimeoutMs: CLOSE_MS, handshakeTimeoutMs: HANDSHAKE_MS, id: 1, allowHalfOpen },
  // A socket that is TLS from the start takes no makessl (the binding refuses it).
  omit: ['makessl', 'SendReady', ...(secure ? ['socket.upgrading'] : [])],
  actors: { socket: { can: bindingCan } },
  // The binding's answer to a forwarded ReadReady close: the socket is closed (as its own close).
  actions: {
    forwardToSocket: ({ self, event }) => {
      if (event.type === 'ReadReady') self.send({ type: 'socket.closed', bytesIn: 0, bytesOut: 0, unsentBytes: 0 });
    },
  },
  // The library's control samples, and a producer that finished with an error (passed on after a graceful close).
  events: [
    { type: 'control', data: producerFinished() },
    { type: 'control', data: producerFinished(reason('EUPSTREAM', 'the producer failed')) },
    { type: 'control', data: shutdownMicroprocess() },
    { type: 'control', data: serverShutdown() },
    { type: 'control', data: { kind: 'notAControlMessage' } },
    READ_CLOSE,
  ],
  // Data is written while connected (plain or TLS); an inbox while flushing comes after our side
  // finished writing (dropped, counted as unsent), unless the race's handshake is under way (held,
  // then written once it completes).
  // A peer's RST once TLS is up is not a step a test can cause: node reports it as a clean close
  // depending on timing (measured with plain node:tls, no CSA: a reset in the server's 'secure'
  // handler was ECONNRESET 20 times of 20, one a turn later a clean close 20 of 20).
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
  /** The peer's side of a TLS upgrade the path completes. */
  handshake?: Promise<void>;
  /** sslready messages the CSA has sent. */
  sslready: number;
}

/** Resolves once `condition` holds; rejects after 2 s. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within 2000 ms`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

let scene: Scene | undefined;
afterEach(async () => {
  scene?.csa.stop();
  await scene?.peer.close();
  scene = undefined;
});

async function runPath(path: TestPath, pki: TestPki, allowHalfOpen: boolean, secure = false): Promise<void> {
  const names = path.steps.map((step) => step.name);
  await path.test({
    start: async () => {
      const peer = await scriptedPeer();
      const plain = net.connect({ port: peer.port, host: peer.host, allowHalfOpen: true });
      await new Promise<void>((resolve) => plain.once('connect', () => resolve()));
      const connection = await peer.connection();
      let socket: net.Socket = plain;
      if (secure) {
        // TLS from the start: the handshake is done before the CSA gets the socket.
        const peerTls = connection.startTls({ isServer: true, key: pki.server.key, cert: pki.server.cert });
        socket = tls.connect({ socket: plain, ca: pki.ca, servername: 'localhost' });
        await Promise.all([peerTls, new Promise<void>((resolve) => socket.once('secureConnect', () => resolve()))]);
      }
      const csa = run(
        ConnectedSocketAdapter(socket, { allowHalfOpen, secure, closeTimeout: CLOSE_MS, handshakeTimeout: HANDSHAKE_MS, tls: { ca: pki.ca, servername: 'localhost' } }),
      ) as unknown as Scene['csa'];
      scene = { csa, peer, connection, feedback: [], sslready: 0 };
      const current = scene;
      csa.actor.on('sslready', () => (current.sslready += 1));
      const feedback = scene.feedback;
      void (async () => {
        for await (const message of csa.messages('CreatorFeedback')) feedback.push(message);
      })();
      return csa;
    },
    events: {
      control: (step, index) => {
        const from = index > 0 ? path.steps[index - 1]!.state.value : 'connected';
        const raced = from === 'connected' && isProducerFinished(step.event.data) && names.slice(index + 1).includes('socket.upgrading');
        if (!raced) return scene!.csa.send('control', step.event.data);
        // The race (a socket.upgrading the machine hears only once it is flushing): makessl reaches
        // the socket just before producerFinished reaches the machine. Both are sent to the machine
        // while it is busy (from its own subscriber), so the socket's report that the upgrade began
        // queues behind producerFinished, as when the two arrive together.
        const actor = scene!.csa.actor;
        let armed = true;
        const subscription = actor.subscribe(() => {
          if (!armed) return;
          armed = false;
          actor.send({ type: 'makessl', data: 'go' });
          actor.send({ type: 'control', data: step.event.data as SignalMessage });
        });
        actor.send({ type: 'inbox', data: Buffer.alloc(0) });
        subscription.unsubscribe();
      },
      // Straight to the machine, as a user's handle.actor.send does: its handler passes it to the socket.
      inbox: async (step, index) => {
        const before = scene!.connection.received().length;
        scene!.csa.actor.send({ type: 'inbox', data: step.event.data });
        // While flushing nothing reaches the peer now (dropped; or held until the race's handshake completes).
        if (path.steps[index - 1]?.state.value === 'flushing') return;
        await scene!.connection.waitForBytes(before + (step.event.data as Uint8Array).byteLength);
      },
      'socket.upgrading': (_step, index) => {
        // Straight to the machine (handle.actor.send): its makessl handler passes it to the socket.
        // (A makessl delivered to the box goes to the socket directly: client-model and csa-tls.)
        // While flushing, the race's makessl went with producerFinished.
        if (path.steps[index - 1]?.state.value !== 'flushing') scene!.csa.actor.send({ type: 'makessl', data: 'go' });
        // The peer answers the ClientHello when the path goes on to complete the handshake (a
        // producerFinished or an inbox may come between: they wait for the handshake).
        const next = names.slice(index + 1).find((name) => name !== 'control' && name !== 'inbox');
        if (next === 'socket.secure') scene!.handshake = scene!.connection.startTls({ isServer: true, key: pki.server.key, cert: pki.server.cert }).catch(() => undefined);
      },
      // The handshake completes: the peer's side, and ours (the CSA says so on sslready; the peer's
      // FIN right after must not reach it mid-handshake).
      'socket.secure': async () => {
        await scene!.handshake;
        await until(() => scene!.sslready > 0, 'the CSA completing its TLS handshake');
      },
      'socket.progress': async () => {
        const before = scene!.connection.received().length;
        scene!.csa.send('inbox', PROGRESS_DATA);
        await scene!.connection.waitForBytes(before + PROGRESS_DATA.length);
      },
      'socket.peerEnded': async (_step, index) => {
        // While we flush, the peer answers our FIN. (It must not end first: a node:tls server that
        // ended in its 'secure' handler never got what the client wrote just then, 20 times of 20.)
        if (path.steps[index - 1]?.state.value === 'flushing') await scene!.connection.whenEnded(1000);
        scene!.connection.halfClose();
      },
      // Straight to the machine (handle.actor.send): its handler passes it to the socket binding.
      ReadReady: (step) => scene!.csa.actor.send(step.event as typeof READ_CLOSE),
      'socket.closed': (step) => (step.event.reason ? scene!.connection.reset() : scene!.connection.halfClose()),
    },
    ...csaContract({
      id: 0,
      closeTimeoutMs: CLOSE_MS,
      handshakeTimeoutMs: HANDSHAKE_MS,
      allowHalfOpen,
      secure,
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
  'producerFinished just as a TLS upgrade began: what was sent meanwhile and our FIN go once it is done': [
    'control (producerFinished)',
    'socket sends socket.upgrading',
    'inbox "data"',
    'socket sends socket.secure',
    'socket sends socket.peerEnded',
  ],
  'producerFinished just as a TLS upgrade began that never completes: the close timeout ends it, what was held is unsent': [
    'control (producerFinished)',
    'socket sends socket.upgrading',
    'inbox "data"',
    'after csa.closeTimeout',
  ],
  'a garbage control message is reported': ['control (notAControlMessage)', 'control (producerFinished)'],
  'a garbage control message while closing is reported too': ['control (producerFinished)', 'control (notAControlMessage)', 'socket sends socket.peerEnded'],
  "a second producerFinished while closing changes nothing: the first one's (no) reason stands": ['control (producerFinished)', 'control (producerFinished EUPSTREAM)', 'socket sends socket.peerEnded'],
  'data sent to the machine itself reaches the peer': ['inbox "data"', 'control (shutdownMicroprocess)'],
  'progress while connected': ['socket sends socket.progress', 'control (shutdownMicroprocess)'],
  "the Selector's close, sent to the machine itself, reaches the socket: it ends": ['inbox "data"', 'ReadReady'],
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

// A socket that is TLS from the start (`secure: true`, as TCPClient's secure connections and
// implicit-TLS servers give it): the contract's scenarios that apply, over TLS.
const SECURE_SCENARIOS: Scenarios = {
  'TLS from the start: our producer finishes, the peer answers our FIN': ['inbox "data"', 'control (producerFinished)', 'socket sends socket.peerEnded'],
  'TLS from the start: shutdownMicroprocess closes at once': ['socket sends socket.progress', 'control (shutdownMicroprocess)'],
};
describe('ConnectedSocketAdapter on a socket that is TLS from the start', () => {
  const model = modelFor(false, true);
  for (const [scenario, steps] of Object.entries(SECURE_SCENARIOS)) {
    it(scenario, async () => {
      const [path] = model.getPathsFromEvents(steps.map((type) => ({ type })));
      await runPath(path!, await pkiReady, false, true);
    });
  }
});
