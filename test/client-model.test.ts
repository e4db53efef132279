// Model-based tests of TCPClient (xstate/graph createTestModel): an abstract model of what a
// client may go through; every shortest path and every simple path runs against a real TCPClient
// talking to real loopback sockets (a scripted server, a closed port, a full accept queue, TLS).
import { afterEach, describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import { createTestModel } from 'xstate/graph';
import { TCPClient, producerFinished, run, shutdownMicroprocess, type SignalMessage } from 'kamaelia-xstate';
import { testPki } from './helpers/certs.js';
import { fullBacklogListener } from './helpers/fullBacklog.js';
import { listen, until } from './helpers/net.js';
import { scriptedServer, type ScriptedServer } from './helpers/scriptedServer.js';

type ModelEvent =
  | { type: 'CONNECT_OK' }
  | { type: 'CONNECT_REFUSED' }
  | { type: 'CONNECT_TIMEOUT' }
  | { type: 'SHUTDOWN_BEFORE_CONNECT' }
  | { type: 'SEND'; bytes: number }
  | { type: 'MAKESSL' }
  | { type: 'MAKESSL_GARBAGE' }
  | { type: 'PEER_HALF_CLOSE' }
  | { type: 'PEER_RESET' }
  | { type: 'FINISH' }
  | { type: 'SHUTDOWN' };

/** What a client goes through, abstractly (no invoke/after: createTestModel rejects those). */
const clientModel = setup({ types: {} as { events: ModelEvent } }).createMachine({
  id: 'clientModel',
  initial: 'starting',
  states: {
    starting: {
      on: { CONNECT_OK: 'connected', CONNECT_REFUSED: 'failed', CONNECT_TIMEOUT: 'failed', SHUTDOWN_BEFORE_CONNECT: 'closed' },
    },
    connected: {
      on: { SEND: 'connected', MAKESSL: 'secure', MAKESSL_GARBAGE: 'failed', PEER_HALF_CLOSE: 'closed', PEER_RESET: 'failed', FINISH: 'closed', SHUTDOWN: 'closed' },
    },
    secure: {
      on: { SEND: 'secure', PEER_HALF_CLOSE: 'closed', FINISH: 'closed', SHUTDOWN: 'closed' },
    },
    closed: { type: 'final' },
    failed: { type: 'final' },
  },
});

const FAILURE_CODES: Record<string, RegExp> = {
  CONNECT_REFUSED: /^ECONNREFUSED$/,
  CONNECT_TIMEOUT: /^ETIMEDOUT$/,
  MAKESSL_GARBAGE: /^(ERR_SSL_|ECONNRESET|EPROTO)/,
  PEER_RESET: /^(ECONNRESET|EPIPE)$/,
};

interface Fixture {
  server?: ScriptedServer;
  client?: ReturnType<typeof run<object, { outbox: Buffer; signal: SignalMessage; sslready: unknown }>> & {
    send(box: string, message: unknown): void;
  };
  received: number;
  lastFailure?: string;
  cleanups: (() => Promise<void> | void)[];
}

let fx: Fixture;
afterEach(async () => {
  fx.client?.stop();
  for (const cleanup of fx.cleanups.splice(0)) await cleanup();
});

function start(host: string, port: number, options: Parameters<typeof TCPClient>[2] = {}): void {
  const client = run(TCPClient(host, port, options)) as unknown as NonNullable<Fixture['client']>;
  fx.client = client;
  void (async () => {
    for await (const chunk of client.messages('outbox')) fx.received += chunk.length;
  })();
}

function value(): string {
  return JSON.stringify(fx.client!.actor.getSnapshot().value);
}

async function terminal(): Promise<SignalMessage> {
  const all: SignalMessage[] = [];
  for await (const message of fx.client!.messages('signal')) all.push(message);
  await fx.client!.done;
  const ends = all.filter((m) => m.kind === 'producerFinished');
  expect(ends).toHaveLength(1);
  return ends[0]!;
}

const model = createTestModel(clientModel, {
  events: [{ type: 'SEND', bytes: 5 }, { type: 'SEND', bytes: 70_000 }],
});

async function runPath(path: ReturnType<typeof model.getShortestPaths>[number]): Promise<void> {
  const pki = await testPki();
  fx = { received: 0, cleanups: [] };
  await path.test({
    events: {
      CONNECT_OK: async () => {
        fx.server = await scriptedServer(pki);
        fx.cleanups.push(fx.server.close);
        start('127.0.0.1', fx.server.port, { tls: { ca: pki.ca, servername: 'localhost' }, closeTimeout: 2000 });
      },
      CONNECT_REFUSED: async () => {
        const listener = await listen();
        await listener.close();
        fx.lastFailure = 'CONNECT_REFUSED';
        start('127.0.0.1', listener.port);
      },
      CONNECT_TIMEOUT: async () => {
        const backlog = await fullBacklogListener();
        fx.cleanups.push(backlog.close);
        fx.lastFailure = 'CONNECT_TIMEOUT';
        start('127.0.0.1', backlog.port, { connectTimeout: 250 });
      },
      SHUTDOWN_BEFORE_CONNECT: async () => {
        const listener = await listen();
        fx.cleanups.push(listener.close);
        start('127.0.0.1', listener.port, { delay: 60_000 });
        fx.client!.send('inbox', 'never sent');
        fx.client!.send('control', shutdownMicroprocess());
      },
      SEND: async (step) => {
        const { bytes } = step.event as Extract<ModelEvent, { type: 'SEND' }>;
        const before = fx.received;
        fx.client!.send('inbox', Buffer.alloc(bytes, 0x78));
        await until(() => fx.received >= before + bytes, `the echo of ${bytes} bytes`);
      },
      MAKESSL: async () => {
        fx.client!.send('inbox', 'STARTTLS\n');
        fx.client!.send('makessl', 'go');
        await fx.client!.next('sslready', { timeoutMs: 5000 });
      },
      MAKESSL_GARBAGE: async () => {
        fx.lastFailure = 'MAKESSL_GARBAGE';
        fx.client!.send('inbox', 'GARBAGE\n');
        fx.client!.send('makessl', 'go');
      },
      PEER_HALF_CLOSE: async () => fx.server!.halfClose(),
      PEER_RESET: async () => {
        fx.lastFailure = 'PEER_RESET';
        fx.server!.reset();
      },
      FINISH: async () => fx.client!.send('control', producerFinished()),
      SHUTDOWN: async () => fx.client!.send('control', shutdownMicroprocess()),
    },
    states: {
      starting: async () => {
        // Checked before the first event too, when no client exists yet.
        if (fx.client) expect(['"delaying"', '"connecting"']).toContain(value());
      },
      connected: async () => {
        await until(() => value() === '{"open":"connected"}', 'the client to be connected');
        expect(fx.server!.connections()).toBe(1);
      },
      secure: async () => {
        expect(value()).toBe('{"open":"connected"}');
        const csa = (fx.client!.actor.getSnapshot() as { children: Record<string, { getSnapshot(): { context: { secure: boolean } } }> }).children.csa;
        expect(csa?.getSnapshot().context.secure).toBe(true);
      },
      closed: async () => {
        const end = await terminal();
        expect((end as { reason?: unknown }).reason).toBeUndefined();
        expect(value()).toBe('"closed"');
      },
      failed: async () => {
        const end = await terminal();
        expect((end as { reason?: { code: string } }).reason?.code).toMatch(FAILURE_CODES[fx.lastFailure!]!);
        expect(value()).toBe('"failed"');
      },
    },
  });
}

describe('TCPClient model (shortest paths)', () => {
  for (const path of model.getShortestPaths()) it(path.description, () => runPath(path));
});

describe('TCPClient model (simple paths)', () => {
  const shortest = new Set(model.getShortestPaths().map((p) => p.description));
  for (const path of model.getSimplePaths()) {
    if (!shortest.has(path.description)) it(path.description, () => runPath(path));
  }
});
