// Property-based tests (fast-check) of the byte paths through a real TCPClient and its CSA on
// loopback: random chunk sizes, random interleavings of our writes and the peer's, a random moment
// for makessl, a random half-close or reset by the peer. Whatever the schedule: no byte is lost,
// duplicated or reordered (in either direction, before and after TLS), exactly one terminal
// message leaves on signal, and no socket handle is left behind. Run counts stay small: each run
// is a real connection.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TCPClient, producerFinished, run, type SignalMessage } from 'kamaelia-xstate';
import { scriptedPeer, type LoopbackConnection } from 'kamaelia-xstate/testing';
import { testPki } from './helpers/certs.js';
import { activeResources, until } from './server-helpers.js';

type Client = ReturnType<typeof run<object, { outbox: Buffer; signal: SignalMessage; sslready: unknown }>> & { send(box: string, message: unknown): void };

/** A chunk whose bytes say where they are in the stream, so a lost, doubled or swapped byte shows. */
function numbered(start: number, length: number): Buffer {
  const chunk = Buffer.alloc(length);
  for (let i = 0; i < length; i++) chunk[i] = (start + i) % 251;
  return chunk;
}

function stream(lengths: readonly number[]): { chunks: Buffer[]; all: Buffer } {
  let offset = 0;
  const chunks = lengths.map((length) => {
    const chunk = numbered(offset, length);
    offset += length;
    return chunk;
  });
  return { chunks, all: Buffer.concat(chunks) };
}

const chunkSizes = fc.array(fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 70_000 })), { minLength: 1, maxLength: 6 });

interface Connected {
  client: Client;
  peer: LoopbackConnection;
  fromPeer: Buffer[];
  /** Every signal the client sent, once it has ended. */
  signals(): Promise<SignalMessage[]>;
  close(): Promise<void>;
}

async function connect(options: Parameters<typeof TCPClient>[2] = {}): Promise<Connected> {
  const peerServer = await scriptedPeer();
  const client = run(TCPClient('127.0.0.1', peerServer.port, { closeTimeout: 2000, ...options })) as unknown as Client;
  const peer = await peerServer.connection();
  const fromPeer: Buffer[] = [];
  const signals: SignalMessage[] = [];
  void (async () => {
    for await (const chunk of client.messages('outbox')) fromPeer.push(chunk);
  })();
  // The signal box's iteration ends with the client: then every signal is in.
  const allSignals = (async () => {
    for await (const message of client.messages('signal')) signals.push(message);
    await client.done;
    return signals;
  })();
  return {
    client,
    peer,
    fromPeer,
    signals: () => allSignals,
    close: async () => {
      client.stop();
      await peerServer.close();
    },
  };
}

const ends = (signals: readonly SignalMessage[]) => signals.filter((message) => message.kind === 'producerFinished');
const sockets = () => activeResources().get('TCPSocketWrap') ?? 0;

describe('byte paths (property-based, real loopback)', () => {
  it('interleaved writes both ways, the peer half-closing at a random moment: every byte arrives once, in order; one terminal message; no leaked socket', async () => {
    const baseline = sockets();
    await fc.assert(
      fc.asyncProperty(chunkSizes, chunkSizes, fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }), fc.nat(12), async (ours, theirs, order, halfCloseAt) => {
        const c = await connect();
        try {
          const out = stream(ours);
          const back = stream(theirs);
          // Interleave: each flag picks whose next chunk goes now; at step `halfCloseAt` the peer
          // sends its FIN and writes no more, while we go on writing (half-open).
          let i = 0;
          let j = 0;
          let peerOpen = true;
          for (const [step, oursFirst] of order.entries()) {
            if (step === halfCloseAt && peerOpen) {
              c.peer.halfClose();
              peerOpen = false;
            }
            if (oursFirst && i < out.chunks.length) c.client.send('inbox', out.chunks[i++]);
            else if (peerOpen && j < back.chunks.length) c.peer.write(back.chunks[j++]!);
          }
          while (i < out.chunks.length) c.client.send('inbox', out.chunks[i++]);
          while (peerOpen && j < back.chunks.length) c.peer.write(back.chunks[j++]!);
          const peerSent = Buffer.concat(back.chunks.slice(0, j));
          await c.peer.waitForBytes(out.all.length);
          await until(() => Buffer.concat(c.fromPeer).length >= peerSent.length, 'the peer bytes');
          c.client.send('control', producerFinished());
          await until(() => c.peer.ended(), 'our FIN after the last byte');
          if (peerOpen) c.peer.halfClose();
          await c.client.done;
          expect(c.peer.received().equals(out.all)).toBe(true);
          expect(Buffer.concat(c.fromPeer).equals(peerSent)).toBe(true);
          const terminal = ends(await c.signals());
          expect(terminal).toHaveLength(1);
          expect((terminal[0] as { reason?: unknown }).reason).toBeUndefined();
        } finally {
          await c.close();
        }
      }),
      { numRuns: 15 },
    );
    await until(() => sockets() <= baseline, 'every socket handle closed');
  });

  it('makessl at a random point: the bytes before it go in plain text, the rest over TLS, none lost or reordered', async () => {
    const pki = await testPki();
    const baseline = sockets();
    await fc.assert(
      fc.asyncProperty(chunkSizes, chunkSizes, async (before, after) => {
        const c = await connect({ tls: { ca: pki.ca, servername: 'localhost' } });
        try {
          const plain = stream(before);
          const secret = stream(after);
          for (const chunk of plain.chunks) c.client.send('inbox', chunk);
          c.client.send('makessl', 'makessl');
          for (const chunk of secret.chunks) c.client.send('inbox', chunk);
          // The peer reads exactly the plain bytes, then answers the ClientHello behind them.
          await c.peer.waitForBytes(plain.all.length);
          const plainSeen = Buffer.from(c.peer.received().subarray(0, plain.all.length));
          const upgraded = c.peer.startTls({ isServer: true, key: pki.server.key, cert: pki.server.cert }, plain.all.length);
          await c.client.next('sslready', { timeoutMs: 5000 });
          await upgraded;
          await c.peer.waitForBytes(plain.all.length + secret.all.length);
          c.client.send('control', producerFinished());
          await until(() => c.peer.ended(), 'our FIN');
          c.peer.halfClose();
          await c.client.done;
          expect(plainSeen.equals(plain.all)).toBe(true);
          expect(c.peer.received().equals(Buffer.concat([plain.all, secret.all]))).toBe(true);
          expect(ends(await c.signals())).toHaveLength(1);
        } finally {
          await c.close();
        }
      }),
      { numRuns: 8 },
    );
    await until(() => sockets() <= baseline, 'every socket handle closed');
  });

  it('the peer resets after a random number of bytes: what arrived is a prefix of what was sent; one terminal message with a reason; no leaked socket', async () => {
    const baseline = sockets();
    await fc.assert(
      fc.asyncProperty(chunkSizes, fc.double({ min: 0, max: 1, noNaN: true }), async (ours, cut) => {
        const c = await connect();
        try {
          const out = stream(ours);
          const resetAfter = Math.floor(cut * out.all.length);
          for (const chunk of out.chunks) c.client.send('inbox', chunk);
          await c.peer.waitForBytes(resetAfter);
          const seen = Buffer.from(c.peer.received());
          c.peer.reset();
          // Keep writing after the reset so the client notices it.
          c.client.send('inbox', numbered(out.all.length, 1024));
          await c.client.done;
          expect(out.all.subarray(0, seen.length).equals(seen)).toBe(true);
          const terminal = ends(await c.signals());
          expect(terminal).toHaveLength(1);
          // Bytes that never arrived are never lost silently: the end carries the reset.
          const reason = (terminal[0] as { reason?: { code: string } }).reason;
          expect(reason?.code).toMatch(/^(ECONNRESET|EPIPE)$/);
        } finally {
          await c.close();
        }
      }),
      { numRuns: 12 },
    );
    await until(() => sockets() <= baseline, 'every socket handle closed');
  });
});
