// TCPClient lifecycle details: the delay is a timer (no busy waiting), stopping releases sockets in
// every phase, and the machines open nothing when imported.
import * as net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AnyActorRef, InspectionEvent } from 'xstate';
import { TCPClient, run } from 'kamaelia-xstate';
import { fullBacklogListener } from './helpers/fullBacklog.js';
import { listen, until } from './helpers/net.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe('TCPClient lifecycle', () => {
  it('waits out its delay on a timer: no events are processed while delaying', async () => {
    const listener = await listen();
    cleanups.push(listener.close);
    const events: string[] = [];
    const inspect = (event: InspectionEvent): void => {
      if (event.type === '@xstate.event' && (event.actorRef as AnyActorRef).id === 'TCPClient') events.push(event.event.type);
    };
    const handle = run(TCPClient('127.0.0.1', listener.port, { delay: 150 }), { inspect });
    cleanups.push(() => handle.stop());
    await listener.nextConnection();
    const beforeConnecting = events.slice(0, events.findIndex((type) => type.startsWith('xstate.after')));
    // Only the start event: a polling loop would show up here as a stream of events.
    expect(beforeConnecting).toEqual(['xstate.init']);
  });

  it.each(['delaying', 'connecting', 'connected'] as const)('stop() while %s releases the socket and timers', async (phase) => {
    const listener = phase === 'connecting' ? await fullBacklogListener() : await listen();
    cleanups.push(listener.close);
    const handle = run(TCPClient('127.0.0.1', listener.port, phase === 'delaying' ? { delay: 60_000 } : { connectTimeout: 60_000 }));
    const state = (): string => JSON.stringify(handle.actor.getSnapshot().value);
    const target = phase === 'connected' ? '"open"' : `"${phase}"`;
    await until(() => state() === target, `the client to be ${phase}`);
    const before = process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'Timeout').length;
    let peerClosed: Promise<unknown> | undefined;
    if (phase === 'connected') {
      const peer = (listener as Awaited<ReturnType<typeof listen>>).accepted[0]!;
      peerClosed = new Promise((resolve) => peer.once('end', resolve)); // our FIN (the listener allows half-open)
    }
    handle.stop();
    expect((await handle.done).status).toBe('stopped');
    await peerClosed;
    await until(
      () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'Timeout').length < before,
      'the client socket or timer to be released',
    );
  });

  it('importing kamaelia-xstate/machines opens no socket', async () => {
    const connect = vi.spyOn(net.Socket.prototype, 'connect');
    const listenSpy = vi.spyOn(net.Server.prototype, 'listen');
    vi.resetModules();
    const machines = await import('../machines/index.js');
    expect(Object.keys(machines)).toEqual(expect.arrayContaining(['tcpClientMachine', 'connectedSocketAdapterMachine', 'selectorMachine']));
    expect(connect).not.toHaveBeenCalled();
    expect(listenSpy).not.toHaveBeenCalled();
  });
});
