// run()'s outcomes a Node developer can act on: done says how it ended and why, send() says whether
// it was delivered, and AbortSignals stop a wait (next) or the whole run.
import { describe, expect, it } from 'vitest';
import { ConnectedServer, EchoProtocol, OneShot, TCPClient, producerFinished, run } from 'kamaelia-xstate';
import { probe, until } from './helpers/probe.js';
import { closedPort, collect, listen } from './helpers/net.js';
import { cleanupsAfterEach } from './helpers/cleanups.js';

const cleanups = cleanupsAfterEach();

describe('run() outcomes', () => {
  it('done resolves status error with the reason when a refusal ended the client', async () => {
    const handle = run(TCPClient('127.0.0.1', await closedPort()));
    const result = await handle.done;
    expect(result.status).toBe('error');
    expect(result.reason).toMatchObject({ code: 'ECONNREFUSED', message: expect.stringMatching(/refused|ECONNREFUSED/i) });
  });

  it('done resolves status error with EADDRINUSE for a server whose port is taken', async () => {
    const listener = await listen();
    cleanups.push(() => listener.close());
    const handle = run(ConnectedServer({ host: '127.0.0.1', port: listener.port, protocol: () => EchoProtocol() }));
    expect(await handle.done).toMatchObject({ status: 'error', reason: { code: 'EADDRINUSE' } });
  });

  it('done resolves status done for a connection that closed cleanly', async () => {
    const listener = await listen((socket) => socket.end('bye'));
    cleanups.push(() => listener.close());
    const handle = run(TCPClient('127.0.0.1', listener.port));
    expect((await handle.next('outbox', { timeoutMs: 5000 })).toString()).toBe('bye');
    handle.send('control', producerFinished());
    expect(await handle.done).toEqual({ status: 'done' });
  });

  it('send() returns true while the component runs and false once it has ended', async () => {
    const a = probe('A');
    const handle = run(a.component);
    await until(() => a.started);
    expect(handle.send('inbox', 'delivered')).toBe(true);
    await until(() => a.on('inbox').length === 1);
    a.finish();
    await handle.done;
    expect(handle.send('inbox', 'too late')).toBe(false);
    expect(a.on('inbox')).toEqual(['delivered']);
  });

  it('next() rejects with an AbortError when its signal aborts, and the message stays for the next taker', async () => {
    const a = probe('A');
    const handle = run(a.component);
    await until(() => a.started);
    const controller = new AbortController();
    const waiting = handle.next('outbox', { signal: controller.signal, timeoutMs: 60_000 });
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    await expect(handle.next('outbox', { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
    a.send('outbox', 'kept');
    expect(await handle.next('outbox', { timeoutMs: 1000 })).toBe('kept');
    handle.stop();
  });

  it('run(component, { signal }) stops it when the signal aborts: the socket closes, done says stopped', async () => {
    let peerClosed: Promise<void> | undefined; // the peer sees our FIN
    const listener = await listen((socket) => (peerClosed = collect(socket).ended));
    cleanups.push(() => listener.close());
    const controller = new AbortController();
    const handle = run(TCPClient('127.0.0.1', listener.port), { signal: controller.signal });
    await until(() => peerClosed !== undefined, 'the client connected');
    controller.abort();
    expect(await handle.done).toMatchObject({ status: 'stopped', reason: { code: 'ABORT_ERR' } });
    await peerClosed;
    expect(handle.send('inbox', 'x')).toBe(false);
  });

  it('a signal aborted before run() stops the component at once', async () => {
    const handle = run(OneShot('never'), { signal: AbortSignal.abort() });
    expect(await handle.done).toMatchObject({ status: 'stopped', reason: { code: 'ABORT_ERR' } });
  });
});
