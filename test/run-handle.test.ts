// The run() handle as a user holds it: stored in a variable without type arguments, its actor's
// snapshot typed (not `any`), and next()'s timeoutMs refused like every other millisecond option.
// The type checks here are proved by `npm run typecheck` (expectTypeOf and @ts-expect-error).
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { StateValue } from 'xstate';
import { DataSource, MAX_DURATION_MS, OneShot, TCPServer, box, defineComponent, run, type Listening, type RunHandle, type RunSnapshot, type SignalMessage } from 'kamaelia-xstate';
import { cleanupsAfterEach } from './helpers/cleanups.js';

const cleanups = cleanupsAfterEach();

/** Never sends anything until told: a component whose outbox stays empty. */
const Silent = () =>
  defineComponent({
    name: 'Silent',
    inboxes: { inbox: box<string>(), control: box<SignalMessage>() },
    outboxes: { outbox: box<string>(), signal: box<SignalMessage>() },
    body: ({ on, send, finish }) => {
      on('inbox', (text) => send('outbox', text));
      on('control', () => finish());
    },
  });

describe('RunHandle', () => {
  it('holds the handle of any component without type arguments', async () => {
    const handles: RunHandle[] = [];
    let latest: RunHandle = run(OneShot('hi'));
    handles.push(latest);
    latest = run(DataSource([1, 2, 3]));
    handles.push(latest);
    const server = run(TCPServer({ host: '127.0.0.1' }));
    cleanups.push(() => server.stop());
    handles.push(server);
    expect(await latest.next('outbox', { timeoutMs: 5000 })).toBe(1);
    expectTypeOf(latest.next('outbox')).toEqualTypeOf<Promise<unknown>>();
    expect(((await server.next('listening', { timeoutMs: 5000 })) as Listening).kind).toBe('listening');
    for (const handle of handles) handle.stop();
    expect((await Promise.all(handles.map((handle) => handle.done))).map(({ status }) => status)).toHaveLength(3);
  });

  it("types the actor's snapshot (status, output, a machine's value) instead of any", async () => {
    const server = run(TCPServer({ host: '127.0.0.1' }));
    cleanups.push(() => server.stop());
    await server.next('listening', { timeoutMs: 5000 });
    const snapshot = server.actor.getSnapshot();
    expectTypeOf(snapshot).not.toBeAny();
    expectTypeOf(snapshot).toEqualTypeOf<RunSnapshot>();
    expectTypeOf(snapshot.status).toEqualTypeOf<'active' | 'done' | 'error' | 'stopped'>();
    expectTypeOf(snapshot.value).toEqualTypeOf<StateValue | undefined>();
    expectTypeOf(snapshot.context).toEqualTypeOf<unknown>();
    // @ts-expect-error -- a snapshot has no such field, and the compiler says so
    expect(snapshot.nonsense).toBeUndefined();
    expect(snapshot.status).toBe('active');
    expect(snapshot.value).toBe('listening');
    // The outbox events it emits carry the outbox's message type.
    server.actor.on('listening', (event) => expectTypeOf(event.data).toEqualTypeOf<Listening>());
  });

  it('refuses a next() timeoutMs past 2^31-1, negative, fractional, NaN or not a number, naming it; a good one still waits', async () => {
    const handle = run(Silent());
    cleanups.push(() => handle.stop());
    for (const timeoutMs of [2 ** 31, MAX_DURATION_MS + 1, -1, 1.5, Number.NaN, '5' as unknown as number]) {
      await expect(handle.next('outbox', { timeoutMs })).rejects.toThrow(/next\("outbox"\): timeoutMs must be an integer number of milliseconds from 0 to 2147483647/);
    }
    await expect(handle.next('outbox', { timeoutMs: 2 ** 31 })).rejects.toBeInstanceOf(RangeError);
    // Nothing was taken or lost by the refusals: the next message still comes to a good next().
    const waiting = handle.next('outbox', { timeoutMs: MAX_DURATION_MS });
    handle.send('inbox', 'late');
    expect(await waiting).toBe('late');
    await expect(handle.next('outbox', { timeoutMs: 0 })).rejects.toThrow(/timed out after 0 ms/);
  });
});
