// Model-based tests of the ConnectedSocketAdapter (xstate/graph createTestModel): every shortest
// and simple path of an abstract CSA model runs against a real CSA on a real loopback connection
// whose other end is driven by the test (echo, STARTTLS server, half-close, reset).
import * as tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import { createTestModel } from 'xstate/graph';
import { ConnectedSocketAdapter, producerFinished, run, shutdownMicroprocess } from 'kamaelia-xstate';
import { testPki } from './helpers/certs.js';
import { socketPair, until } from './helpers/net.js';

type ModelEvent =
  | { type: 'SEND'; bytes: number }
  | { type: 'MAKESSL' }
  | { type: 'MAKESSL_UNTRUSTED' }
  | { type: 'PEER_HALF_CLOSE' }
  | { type: 'PEER_RESET' }
  | { type: 'FINISH' }
  | { type: 'SHUTDOWN' };

const csaModel = setup({ types: {} as { events: ModelEvent } }).createMachine({
  id: 'csaModel',
  initial: 'connected',
  states: {
    connected: {
      on: { SEND: 'connected', MAKESSL: 'secure', MAKESSL_UNTRUSTED: 'failed', PEER_HALF_CLOSE: 'closed', PEER_RESET: 'failed', FINISH: 'closed', SHUTDOWN: 'closed' },
    },
    secure: {
      on: { SEND: 'secure', PEER_HALF_CLOSE: 'closed', PEER_RESET: 'failed', FINISH: 'closed', SHUTDOWN: 'closed' },
    },
    closed: { type: 'final' },
    failed: { type: 'final' },
  },
});

const FAILURE_CODES: Record<string, RegExp> = {
  MAKESSL_UNTRUSTED: /CERT|SIGNATURE|ISSUER/,
  PEER_RESET: /^(ECONNRESET|EPIPE)$/,
};

interface Fixture {
  csa: ReturnType<typeof startCsa>;
  peer: import('node:net').Socket;
  peerStream: import('node:net').Socket | tls.TLSSocket;
  received: number;
  lastFailure?: string;
  close: () => Promise<void>;
}

function startCsa(socket: import('node:net').Socket, ca: string) {
  return run(ConnectedSocketAdapter(socket, { tls: { ca, servername: 'localhost' }, closeTimeout: 2000 }));
}

let fx: Fixture | undefined;
afterEach(async () => {
  fx?.csa.stop();
  await fx?.close();
  fx = undefined;
});

const model = createTestModel(csaModel, { events: [{ type: 'SEND', bytes: 5 }, { type: 'SEND', bytes: 70_000 }] });

async function runPath(path: ReturnType<typeof model.getShortestPaths>[number]): Promise<void> {
  const pki = await testPki();
  const pair = await socketPair();
  const csa = startCsa(pair.local, pki.ca);
  const current: Fixture = { csa, peer: pair.peer, peerStream: pair.peer, received: 0, close: pair.close };
  fx = current;
  const echo = (stream: Fixture['peerStream']) => (chunk: Buffer) => void stream.write(chunk);
  pair.peer.on('data', echo(pair.peer));
  pair.peer.on('end', () => current.peerStream === pair.peer && pair.peer.end());
  void (async () => {
    for await (const chunk of csa.messages('outbox')) current.received += chunk.length;
  })();
  /** Makes the peer a TLS server in place; resolves when its side of the handshake is done. */
  const upgradePeer = (key: string, cert: string): Promise<void> => {
    pair.peer.removeAllListeners('data');
    const secure = new tls.TLSSocket(pair.peer, { isServer: true, key, cert });
    secure.on('error', () => {});
    secure.on('data', echo(secure));
    secure.on('end', () => secure.end());
    current.peerStream = secure;
    return new Promise((resolve) => secure.once('secure', () => resolve()));
  };

  await path.test({
    events: {
      SEND: async (step) => {
        const { bytes } = step.event as Extract<ModelEvent, { type: 'SEND' }>;
        const before = current.received;
        csa.send('inbox', Buffer.alloc(bytes, 0x79));
        await until(() => current.received >= before + bytes, `the echo of ${bytes} bytes`);
      },
      MAKESSL: async () => {
        const peerSecure = upgradePeer(pki.server.key, pki.server.cert);
        csa.send('makessl', 'go');
        await csa.next('sslready', { timeoutMs: 5000 });
        await peerSecure;
      },
      MAKESSL_UNTRUSTED: async () => {
        current.lastFailure = 'MAKESSL_UNTRUSTED';
        void upgradePeer(pki.untrustedServer.key, pki.untrustedServer.cert);
        csa.send('makessl', 'go');
      },
      PEER_HALF_CLOSE: async () => void current.peerStream.end(),
      PEER_RESET: async () => {
        current.lastFailure = 'PEER_RESET';
        pair.peer.resetAndDestroy();
      },
      FINISH: async () => csa.send('control', producerFinished()),
      SHUTDOWN: async () => csa.send('control', shutdownMicroprocess()),
    },
    states: {
      connected: async () => {
        const snapshot = csa.actor.getSnapshot() as { value: unknown; context: { secure: boolean } };
        expect(snapshot.value).toBe('connected');
        expect(snapshot.context.secure).toBe(false);
      },
      secure: async () => {
        const snapshot = csa.actor.getSnapshot() as { value: unknown; context: { secure: boolean } };
        expect(snapshot.value).toBe('connected');
        expect(snapshot.context.secure).toBe(true);
      },
      closed: async () => {
        const feedback = await csa.next('CreatorFeedback', { timeoutMs: 5000 });
        expect(feedback.kind).toBe('socketShutdown');
        expect(feedback.reason).toBeUndefined();
        await csa.done;
        expect(csa.actor.getSnapshot().value).toBe('closed');
      },
      failed: async () => {
        const feedback = await csa.next('CreatorFeedback', { timeoutMs: 5000 });
        expect(feedback.reason?.code).toMatch(FAILURE_CODES[current.lastFailure!]!);
        await csa.done;
      },
    },
  });
}

describe('ConnectedSocketAdapter model (shortest paths)', () => {
  for (const path of model.getShortestPaths()) it(path.description, () => runPath(path));
});

describe('ConnectedSocketAdapter model (simple paths)', () => {
  const shortest = new Set(model.getShortestPaths().map((p) => p.description));
  for (const path of model.getSimplePaths()) {
    if (!shortest.has(path.description)) it(path.description, () => runPath(path));
  }
});
