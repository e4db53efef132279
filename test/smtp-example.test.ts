// docs/testing.md's example, run for real: examples/smtpServer.ts's machine is walked by
// createTestModel, and every shortest, simple and transition path runs against a real
// ConnectedServer with the SmtpHandler on loopback (STARTTLS over real TLS, the real async lookup,
// the real idle timer), with a raw client causing each step. 100% state and transition coverage.
import { afterAll, beforeAll, expect } from 'vitest';
import { ConnectedServer, run, socketShutdown } from 'kamaelia-xstate';
import { createTestModel, rawClient, watchActors, type LoopbackConnection, type TestPath } from 'kamaelia-xstate/testing';
import { SmtpHandler, smtpMachine } from '../examples/smtpServer.js';
import { testPki } from './helpers/certs.js';
import { describeModelPaths } from './helpers/modelSuites.js';

const IDLE_MS = 300;
const command = (line: string) => ({ type: 'inbox', data: Buffer.from(`${line}\r\n`) });

// --- the part docs/testing.md shows ---
const model = createTestModel(smtpMachine, {
  input: { idleTimeoutMs: IDLE_MS },
  // `line` is raised by the machine itself from what arrived on inbox.
  internalEvents: ['line'],
  // What a client may send, and the connection going away (the handler's control gets socketShutdown).
  events: [...['HELO client', 'STARTTLS', 'RCPT TO:<alice@example.org>', 'QUIT', 'NOOP'].map(command), { type: 'control', data: socketShutdown() }],
});
// ---

const pkiReady = testPki();
const realLookup = async (mailbox: string): Promise<void> => {
  await new Promise((resolve) => setTimeout(resolve, 5));
  if (!mailbox.endsWith('@example.org') || mailbox.startsWith('nobody@')) throw new Error(`no mailbox ${mailbox}`);
};
let holdLookup = false;
const handlers = watchActors(smtpMachine);
let server: ReturnType<typeof run<object, { listening: { port: number } }>>;
let port = 0;
let client: LoopbackConnection | undefined;

beforeAll(async () => {
  const pki = await pkiReady;
  server = run(
    ConnectedServer({
      host: '127.0.0.1',
      port: 0,
      // The real lookup's answer, held while a path has the connection go away during it.
      protocol: () => SmtpHandler({ idleTimeoutMs: IDLE_MS, lookup: (mailbox) => (holdLookup ? new Promise<void>(() => undefined) : realLookup(mailbox)) }),
      tls: { key: pki.server.key, cert: pki.server.cert },
      // A handler that ends during a handshake closes its connection once the handshake, or the
      // close that follows it, gives up: short, so a path's end is seen well within its timeout.
      handshakeTimeout: IDLE_MS,
      closeTimeout: IDLE_MS,
    }),
    { inspect: handlers.inspect },
  ) as never;
  port = (await server.next('listening')).port;
});
afterAll(() => server.stop());

async function runPath(path: TestPath): Promise<void> {
  const pki = await pkiReady;
  try {
    await path.test({
      start: async () => {
        client = await rawClient(port);
        return handlers.next();
      },
      events: {
        inbox: (step, index) => {
          const text = Buffer.from(step.event.data as Uint8Array).toString('latin1');
          // The real lookup decides: ask for a mailbox that does not exist when the path says it fails.
          const fails = path.steps[index + 1]?.name === 'xstate.error.actor.lookup';
          // The connection goes away while the lookup is pending: it must not answer first.
          holdLookup = path.steps[index + 1]?.name === 'control';
          client!.write(fails ? text.replace('alice@', 'nobody@') : text);
        },
        sslready: async () => {
          await client!.waitForText('220 go ahead');
          await client!.startTls({ ca: pki.ca, servername: 'localhost' });
        },
        'xstate.done.actor.lookup': () => undefined,
        'xstate.error.actor.lookup': () => undefined,
        control: async () => {
          await client!.waitForText('220 kamaelia ESMTP ready');
          client!.reset();
        },
      },
      states: {
        // Every reply the path led to is on the wire, and a closed handler closes the connection.
        closed: async (state) => {
          await client!.waitForText('220 kamaelia ESMTP ready');
          if (!path.steps.some((step) => step.name === 'control')) await client!.whenEnded();
          expect(state.status).toBe('done');
        },
        checking: () => client!.waitForText('220 kamaelia ESMTP ready'),
      },
    });
  } finally {
    client?.reset();
  }
}

describeModelPaths('SMTP example', model, runPath, []);
