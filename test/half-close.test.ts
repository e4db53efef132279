// With allowHalfOpen, a peer's half-close (FIN) does not close our write side (as node:net's allowHalfOpen): what our
// producers still send is delivered until they finish, we are shut down, or closeTimeout passes;
// bytes dropped after that are counted in unsentBytes with a reason. Real peers: python3 sockets.
import { describe, expect } from 'vitest';
import type { AnyActorRef } from 'xstate';
import { ConnectedServer, TCPClient, producerFinished, run, type Listening } from 'kamaelia-xstate';
import { cleanupsAfterEach } from './helpers/cleanups.js';
import { AnswerAfterEnd } from './server-protocols.js';
import { itWith, spawnPeer, type ExternalPeer } from './helpers/externalPeers.js';
import { until } from './server-helpers.js';

const cleanups = cleanupsAfterEach();
const it = itWith('python3');

// Sends "BYE\n", half-closes (SHUT_WR), waits for a line on stdin, reads to EOF, prints how many
// bytes it got, then waits for its stdin to close before closing the socket.
const HALF_CLOSING_SERVER = `
import socket, sys
s = socket.socket()
s.bind(('127.0.0.1', 0))
s.listen(1)
print('PORT', s.getsockname()[1], flush=True)
c, _ = s.accept()
c.sendall(b'BYE\\n')
c.shutdown(socket.SHUT_WR)
sys.stdin.readline()
n = 0
while True:
    d = c.recv(65536)
    if not d:
        break
    n += len(d)
print('EOF', n, flush=True)
sys.stdin.read()
c.close()
`;

async function halfClosingServer(): Promise<ExternalPeer> {
  const peer = await spawnPeer('python3', ['-c', HALF_CLOSING_SERVER], /PORT (\d+)/);
  cleanups.push(peer.stop);
  return peer;
}

/** Lets the server start reading. */
function startReading(peer: ExternalPeer): void {
  peer.child.stdin!.write('read\n');
}

/** Lets the server close its socket. */
function letClose(peer: ExternalPeer): void {
  peer.child.stdin!.end();
}

function csaOf(handle: { actor: AnyActorRef }): { value: unknown; context: { peerEnded: boolean } } | undefined {
  const csa = (handle.actor.getSnapshot() as { children: Record<string, AnyActorRef | undefined> }).children.csa;
  return csa?.getSnapshot() as { value: unknown; context: { peerEnded: boolean } } | undefined;
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('after the peer half-closes, with allowHalfOpen', () => {
  it('TCPClient: the server sends BYE and half-closes; everything the client still sends reaches it, then a clean end', async () => {
    const peer = await halfClosingServer();
    startReading(peer);
    const handle = run(TCPClient('127.0.0.1', peer.port, { allowHalfOpen: true }));
    cleanups.push(() => handle.stop());
    expect(Buffer.from(await handle.next('outbox', { timeoutMs: 5000 })).toString()).toBe('BYE\n');
    await until(() => csaOf(handle)?.context.peerEnded === true, 'the client to see the FIN');
    // The producer goes on after the FIN, in steps across turns of the event loop.
    const chunk = Buffer.alloc(50_000, 0x61);
    for (let i = 0; i < 40; i++) {
      handle.send('inbox', chunk);
      await tick();
    }
    handle.send('control', producerFinished());
    await until(() => /EOF \d+/.test(peer.output()), 'the server to read to EOF');
    expect(peer.output()).toMatch(/EOF 2000000\b/);
    letClose(peer);
    const end = await handle.next('signal', { timeoutMs: 5000 });
    expect(end).toEqual({ kind: 'producerFinished', source: 'TCPClient', unsentBytes: 0 });
  });

  it('TCPClient: closeTimeout after the FIN without producerFinished the write side ends; bytes sent after that are counted as unsent, with a reason', async () => {
    const peer = await halfClosingServer();
    const handle = run(TCPClient('127.0.0.1', peer.port, { closeTimeout: 1000, allowHalfOpen: true }));
    cleanups.push(() => handle.stop());
    expect(Buffer.from(await handle.next('outbox', { timeoutMs: 5000 })).toString()).toBe('BYE\n');
    // More than the kernel's buffers hold while the server does not read: our FIN waits behind it.
    const queued = Buffer.alloc(16 * 1024 * 1024, 0x62);
    handle.send('inbox', queued);
    await until(() => csaOf(handle)?.value === 'flushing', 'closeTimeout after the FIN to end our write side');
    handle.send('inbox', Buffer.alloc(1234));
    startReading(peer);
    await until(() => /EOF \d+/.test(peer.output()), 'the server to read to EOF');
    expect(peer.output()).toMatch(new RegExp(`EOF ${queued.length}\\b`));
    letClose(peer);
    const end = await handle.next('signal', { timeoutMs: 5000 });
    expect(end).toMatchObject({ kind: 'producerFinished', unsentBytes: 1234, reason: { code: 'EUNSENT' } });
    expect((end as { reason: { message: string } }).reason.message).toMatch(/1234 bytes arrived after our side had finished writing/);
  });
});

// Connects, sends a question, half-closes, prints everything it reads until EOF.
const HALF_CLOSING_CLIENT = `
import socket, sys
c = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
c.sendall(b'question?')
c.shutdown(socket.SHUT_WR)
got = b''
while True:
    d = c.recv(65536)
    if not d:
        break
    got += d
print('ANSWER', got.decode(), 'END', flush=True)
`;

describe('server side: a handler answering asynchronously after the client half-closed', () => {
  it('the client reads the whole answer, then EOF', async () => {
    const server = run(ConnectedServer({ host: '127.0.0.1', protocol: () => AnswerAfterEnd() }));
    cleanups.push(() => server.stop());
    const { port } = (await server.next('listening', { timeoutMs: 5000 })) as Listening;
    const client = await spawnPeer('python3', ['-c', HALF_CLOSING_CLIENT, String(port)], /ANSWER ([\s\S]*?) END/);
    cleanups.push(client.stop);
    expect(client.output()).toContain('ANSWER answer to question? END');
  });
});
