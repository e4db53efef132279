// A connection's timeouts (the CSA's half-open, close and handshake timeouts) are timers of its own
// I/O (actors/connectionTimers.ts), not XState delayed events: XState's stop of any actor scans
// every delayed event in the system, which made closing thousands of connections at once
// quadratic. They still fire, and a stopped connection leaves none behind.
import type { AnyActorRef, InspectionEvent } from 'xstate';
import { describe, expect, it } from 'vitest';
import { box, ConnectedServer, defineComponent, run, type SignalMessage } from 'kamaelia-xstate';
import { runningTimers } from '../actors/connectionTimers.js';
import { activeResources, closed, connect, until } from './server-helpers.js';

const CONNECTIONS = 40;

/** A handler that never answers and never finishes: only the CSA's timeouts end its connection. */
const Silent = defineComponent({
  name: 'Silent',
  inboxes: { inbox: box<Uint8Array>(), control: box<SignalMessage>() },
  outboxes: { outbox: box<Uint8Array>(), signal: box<SignalMessage>() },
  body: () => {},
});

type CsaSnapshot = { status: string; value: unknown; context: { peerEnded: boolean; closeTimeoutMs?: number } };

function serverWithCsas(closeTimeout: number) {
  const actors = new Set<AnyActorRef>();
  const handle = run(ConnectedServer({ host: '127.0.0.1', closeTimeout, protocol: () => Silent }), {
    inspect: (event: InspectionEvent) => {
      if (event.type === '@xstate.actor') actors.add(event.actorRef as AnyActorRef);
    },
  });
  const csaRefs = (): AnyActorRef[] => [...actors].filter((ref) => (ref.getSnapshot() as CsaSnapshot).context?.closeTimeoutMs !== undefined);
  const csas = (): CsaSnapshot[] => csaRefs().map((ref) => ref.getSnapshot() as CsaSnapshot);
  const scheduled = (): number => Object.keys(handle.actor.system.getSnapshot()._scheduledEvents).length;
  return { handle, csaRefs, csas, scheduled };
}

describe("connections' timeouts", () => {
  it('are not XState delayed events, and still fire: half-open, then close', async () => {
    const baseline = activeResources().get('Timeout') ?? 0;
    const { handle, csas, scheduled } = serverWithCsas(300);
    const { port } = await handle.next('listening', { timeoutMs: 5000 });
    const sockets = await Promise.all(Array.from({ length: CONNECTIONS }, () => connect(port)));
    const gone = sockets.map((socket) => closed(socket));
    for (const socket of sockets) socket.end(); // FIN: each CSA's half-open timer starts
    await until(() => csas().filter((s) => s.status === 'active' && s.context.peerEnded).length === CONNECTIONS, 'every CSA to see the FIN');
    expect(scheduled()).toBe(0);
    // The half-open timeout moves each to flushing (FIN back), and the client's socket closes.
    await Promise.all(gone);
    await until(() => csas().every((s) => s.status === 'done'), 'every CSA to close');
    expect(scheduled()).toBe(0);
    handle.stop();
    await handle.done;
    await until(() => (activeResources().get('Timeout') ?? 0) <= baseline, 'no timer left behind');
  });

  it('are cleared when the connection is stopped before they fire', async () => {
    const baseline = activeResources().get('Timeout') ?? 0;
    const { handle, csaRefs, csas } = serverWithCsas(60_000);
    const { port } = await handle.next('listening', { timeoutMs: 5000 });
    const sockets = await Promise.all(Array.from({ length: CONNECTIONS }, () => connect(port)));
    for (const socket of sockets) socket.end();
    await until(() => csas().filter((s) => s.status === 'active' && s.context.peerEnded).length === CONNECTIONS, 'every CSA to see the FIN');
    expect(csaRefs().map(runningTimers)).toEqual(Array(CONNECTIONS).fill(1)); // each its half-open timer
    handle.stop(); // stops every CSA: XState runs no exit action, the I/O clears their timers
    await handle.done;
    expect(csas().every((s) => s.status === 'stopped')).toBe(true);
    expect(csaRefs().map(runningTimers)).toEqual(Array(CONNECTIONS).fill(0));
    await until(() => (activeResources().get('Timeout') ?? 0) <= baseline, 'the stopped connections to leave no timer');
    for (const socket of sockets) socket.destroy();
  });
});
