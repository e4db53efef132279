// After 1,000 connect/echo/close cycles nothing is left behind: no sockets or timers in the
// process, no open connections in the server's count, no connection actors still running.
import type { AnyActorRef, InspectionEvent } from 'xstate';
import { describe, expect, it } from 'vitest';
import { ConnectedServer, EchoProtocol, run, serverShutdown, serverStats } from 'kamaelia-xstate';
import { parentOf } from '../src/kernel/childActors.js';
import { activeResources, closed, connect, readBytes, until } from './server-helpers.js';

const CYCLES = 1000;
const PARALLEL = 20;

async function cycle(port: number, n: number): Promise<void> {
  const socket = await connect(port);
  const text = `ping ${n}`;
  socket.write(text);
  expect((await readBytes(socket, text.length)).toString()).toBe(text);
  const gone = closed(socket);
  socket.end();
  await gone;
  socket.destroy();
}

describe('server resource leaks', () => {
  it(`leaves no sockets, timers or actors after ${CYCLES} connect/close cycles`, async () => {
    const actors = new Set<AnyActorRef>();
    const server = run(ConnectedServer({ host: '127.0.0.1', protocol: () => EchoProtocol() }), {
      inspect: (event: InspectionEvent) => {
        if (event.type === '@xstate.actor') actors.add(event.actorRef as AnyActorRef);
      },
    });
    const { port } = await server.next('listening', { timeoutMs: 5000 });
    await cycle(port, -1); // let one-time services (the Selector) start before the baseline
    await until(() => serverStats(server.actor)?.open === 0, 'the warm-up connection to close');
    const baseline = activeResources();
    const baselineActive = [...actors].filter((ref) => ref.getSnapshot().status === 'active');

    for (let n = 0; n < CYCLES; n += PARALLEL) {
      await Promise.all(Array.from({ length: PARALLEL }, (_, i) => cycle(port, n + i)));
    }
    await until(() => serverStats(server.actor)?.open === 0, 'every connection to be forgotten');
    expect(serverStats(server.actor)).toMatchObject({ open: 0, accepted: CYCLES + 1, refused: 0 });

    const active = [...actors].filter((ref) => ref.getSnapshot().status === 'active');
    expect(active.map((ref) => ref.id)).toEqual(baselineActive.map((ref) => ref.id));
    // Per connection: a CSA actor and its handler (hosted in it, reported to inspection) were created and all have ended.
    expect(actors.size - baselineActive.length).toBeGreaterThanOrEqual(2 * CYCLES);

    await until(() => (activeResources().get('TCPSocketWrap') ?? 0) <= (baseline.get('TCPSocketWrap') ?? 0), 'sockets to be released');
    const after = activeResources();
    expect(after.get('TCPSocketWrap') ?? 0).toBe(baseline.get('TCPSocketWrap') ?? 0);
    expect(after.get('Timeout') ?? 0).toBeLessThanOrEqual(baseline.get('Timeout') ?? 0);
    expect(after.get('Immediate') ?? 0).toBeLessThanOrEqual(baseline.get('Immediate') ?? 0);

    server.send('control', serverShutdown());
    expect(await server.done).toEqual({ status: 'done' });
    await until(() => !activeResources().has('TCPServerWrap'), 'the listening socket to close');
    // Only the system's Selector service (shared by every socket in the system) may outlive the server.
    const selector = server.actor.system.get('selector') as AnyActorRef | undefined;
    const survivors = [...actors].filter((ref) => ref.getSnapshot().status === 'active' && ref !== selector && parentOf(ref) !== selector);
    expect(survivors.map((ref) => ref.id)).toEqual([]);
  });
});
