// Each client's lifecycle shows in XState inspection events as state changes of a named actor,
// with byte counts in its context (what the inspector draws).
import { describe, expect, it } from 'vitest';
import type { AnyActorRef, InspectionEvent } from 'xstate';
import { OneShot, Pipeline, TCPClient, componentPath, run } from 'kamaelia-xstate';
import { collect, listen } from './helpers/net.js';
import { cleanupsAfterEach } from './helpers/cleanups.js';

const cleanups = cleanupsAfterEach();

interface Seen {
  readonly path: string;
  readonly value: string;
  readonly context: { bytesIn?: number; bytesOut?: number };
}

function recorder(): { inspect: (event: InspectionEvent) => void; seen: Seen[] } {
  const seen: Seen[] = [];
  return {
    seen,
    inspect: (event) => {
      if (event.type !== '@xstate.snapshot') return;
      const snapshot = event.snapshot as { value?: unknown; context?: Seen['context'] };
      if (snapshot.value === undefined) return;
      seen.push({ path: componentPath(event.actorRef as AnyActorRef), value: JSON.stringify(snapshot.value), context: snapshot.context ?? {} });
    },
  };
}

/** The distinct consecutive state values an actor went through. */
function statesOf(seen: Seen[], path: string): string[] {
  const values = seen.filter((s) => s.path === path).map((s) => s.value);
  return values.filter((value, index) => index === 0 || values[index - 1] !== value);
}

describe('TCPClient inspection', () => {
  it('shows delaying → connecting → connected → flushing → closed for the client and its CSA, with byte counts', async () => {
    const listener = await listen((socket) => {
      const got = collect(socket);
      void got.ended.then(() => socket.end(`received ${got.length()} bytes`));
    });
    cleanups.push(listener.close);
    const { inspect, seen } = recorder();
    // A delay, so that delaying is a state it passes through (with none it connects at once).
    const handle = run(Pipeline(OneShot('twelve bytes'), TCPClient('127.0.0.1', listener.port, { delay: 5 })), { inspect });
    const replies: Buffer[] = [];
    for await (const chunk of handle.messages('outbox')) replies.push(Buffer.from(chunk));
    expect(Buffer.concat(replies).toString()).toBe('received 12 bytes');
    await handle.done;

    expect(statesOf(seen, 'Pipeline/1:TCPClient')).toEqual(['"delaying"', '"connecting"', '"open"', '"closed"']);
    expect(statesOf(seen, 'Pipeline/1:TCPClient/csa:ConnectedSocketAdapter')).toEqual(['"connected"', '"flushing"', '"closed"']);
    const lastClient = seen.filter((s) => s.path === 'Pipeline/1:TCPClient').at(-1)!;
    expect(lastClient.context).toMatchObject({ bytesIn: 17, bytesOut: 12 });
  });

  it('shows the failure path, with no delay: connecting (at once) → failed', async () => {
    const listener = await listen();
    const port = listener.port;
    await listener.close();
    const { inspect, seen } = recorder();
    const handle = run(TCPClient('127.0.0.1', port), { inspect });
    await handle.done;
    expect(statesOf(seen, 'TCPClient')).toEqual(['"connecting"', '"failed"']);
  });
});
