// A small SMTP-like protocol handler written as an XState machine: a greeting, HELO, STARTTLS
// (the handler sends makessl to its connection), RCPT TO that looks the mailbox up (an invoked
// async lookup), QUIT, and an idle timeout (`after`). docs/testing.md model-tests it with
// kamaelia-xstate/testing; test/smtp-example.test.ts runs every path over real sockets.
//   npx tsx examples/smtpServer.ts [port]
//   then: nc 127.0.0.1 2525   (HELO me, RCPT TO:<alice@example.org>, QUIT)
import { pathToFileURL } from 'node:url';
import { generate } from 'selfsigned';
import { and, emit, enqueueActions, fromPromise, setup } from 'xstate';
import {
  ConnectedServer,
  box,
  defineComponent,
  isShutdownRequest,
  producerFinished,
  run,
  serverShutdown,
  type InboxEvent,
  type OutboxEvent,
  type SignalMessage,
} from 'kamaelia-xstate';

type In = { inbox: Uint8Array; control: SignalMessage; sslready: unknown };
type Out = { outbox: string; signal: SignalMessage; makessl: string };
/** A complete command line, raised by the machine itself from what arrived on inbox. */
type Line = { type: 'line'; text: string };

const MAILBOXES = new Set(['alice@example.org', 'bob@example.org']);

export const smtpMachine = setup({
  types: {} as {
    context: { buffer: string; secure: boolean; idleTimeoutMs: number };
    input: { idleTimeoutMs?: number };
    events: InboxEvent<In> | Line;
    emitted: OutboxEvent<Out>;
  },
  actors: {
    // Stands in for a directory lookup (LDAP, a database): async, and it may fail.
    lookupMailbox: fromPromise<void, string>(async ({ input }) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (!MAILBOXES.has(input)) throw new Error(`no mailbox ${input}`);
    }),
  },
  delays: { idleTimeout: ({ context }) => context.idleTimeoutMs },
  guards: {
    says: ({ event }, verb: string) => event.type === 'line' && event.text.toUpperCase().startsWith(verb),
    secure: ({ context }) => context.secure,
  },
  actions: {
    /** Raises one `line` event per complete CRLF-terminated line; keeps the rest. */
    splitLines: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'inbox') return;
      const lines = (context.buffer + Buffer.from(event.data).toString('latin1')).split('\r\n');
      enqueue.assign({ buffer: lines.pop() ?? '' });
      for (const text of lines) enqueue.raise({ type: 'line', text });
    }),
    reply: emit((_, text: string) => ({ type: 'outbox' as const, data: `${text}\r\n` })),
    hangUp: emit({ type: 'signal' as const, data: producerFinished() }),
  },
}).createMachine({
  id: 'smtp',
  context: ({ input }) => ({ buffer: '', secure: false, idleTimeoutMs: input.idleTimeoutMs ?? 60_000 }),
  on: {
    inbox: { actions: 'splitLines' },
    // The connection is gone (socketShutdown) or the server shuts down.
    control: { guard: ({ event }) => isShutdownRequest(event.data), target: '.closed' },
  },
  initial: 'greeting',
  states: {
    greeting: {
      entry: { type: 'reply', params: '220 kamaelia ESMTP ready' },
      on: {
        line: [
          { guard: { type: 'says', params: 'HELO' }, target: 'ready', actions: { type: 'reply', params: '250 hello' } },
          { guard: { type: 'says', params: 'QUIT' }, target: 'closed', actions: { type: 'reply', params: '221 bye' } },
          { actions: { type: 'reply', params: '503 say HELO first' } },
        ],
      },
      after: { idleTimeout: { target: 'closed', actions: { type: 'reply', params: '421 idle too long' } } },
    },
    ready: {
      on: {
        line: [
          { guard: and([{ type: 'says', params: 'STARTTLS' }, 'secure']), actions: { type: 'reply', params: '454 TLS already active' } },
          { guard: { type: 'says', params: 'STARTTLS' }, target: 'upgrading', actions: [{ type: 'reply', params: '220 go ahead' }, emit({ type: 'makessl' as const, data: 'makessl' })] },
          { guard: { type: 'says', params: 'RCPT TO:' }, target: 'checking' },
          { guard: { type: 'says', params: 'QUIT' }, target: 'closed', actions: { type: 'reply', params: '221 bye' } },
          { actions: { type: 'reply', params: '500 unknown command' } },
        ],
      },
      after: { idleTimeout: { target: 'closed', actions: { type: 'reply', params: '421 idle too long' } } },
    },
    // The reply "220 go ahead" went out in plain text; the handshake follows on the same connection.
    upgrading: {
      on: { sslready: { target: 'ready', actions: enqueueActions(({ enqueue }) => enqueue.assign({ secure: true })) } },
      after: { idleTimeout: 'closed' },
    },
    checking: {
      invoke: {
        id: 'lookup',
        src: 'lookupMailbox',
        input: ({ event }) => /<([^>]*)>/.exec((event as Line).text)?.[1] ?? '',
        onDone: { target: 'ready', actions: { type: 'reply', params: '250 ok' } },
        onError: { target: 'ready', actions: { type: 'reply', params: '550 no such mailbox' } },
      },
    },
    closed: { type: 'final', entry: 'hangUp' },
  },
});

/** SmtpHandler's options. */
export interface SmtpHandlerOptions {
  /** How long a client may stay silent. Default: 60000 ms. */
  readonly idleTimeoutMs?: number;
  /** The mailbox lookup (rejects for an unknown mailbox). Default: the built-in list, after 5 ms. */
  readonly lookup?: (mailbox: string) => Promise<void>;
}

/** The per-connection handler: the machine as a component (inbox bytes in, replies out). */
export const SmtpHandler = (options: SmtpHandlerOptions = {}) =>
  defineComponent({
    name: 'SmtpHandler',
    inboxes: { inbox: box<Uint8Array>(), control: box<SignalMessage>(), sslready: box<unknown>() },
    outboxes: { outbox: box<string>(), signal: box<SignalMessage>(), makessl: box<string>() },
    logic: options.lookup ? smtpMachine.provide({ actors: { lookupMailbox: fromPromise<void, string>(({ input }) => options.lookup!(input)) } }) : smtpMachine,
    input: { idleTimeoutMs: options.idleTimeoutMs },
  });

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { private: key, cert } = await generate([{ name: 'commonName', value: 'localhost' }], { keyType: 'ec', algorithm: 'sha256' });
  const server = run(ConnectedServer({ host: '127.0.0.1', port: Number(process.argv[2] ?? 2525), protocol: () => SmtpHandler(), tls: { key, cert } }));
  const { address, port } = await server.next('listening');
  console.log(`SMTP-like server on ${address}:${port}`);
  process.once('SIGINT', () => server.send('control', serverShutdown()));
  await server.done;
}
