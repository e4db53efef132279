import { describe, expect, it } from 'vitest';
import { DataSource, Pipeline, box, defineComponent, isShutdownRequest, run } from 'kamaelia-xstate';

const Doubler = () =>
  defineComponent({
    name: 'Doubler',
    inboxes: { inbox: box<number>(), control: box<unknown>() },
    outboxes: { outbox: box<number>(), signal: box<unknown>() },
    body: ({ on, send, finish }) => {
      on('inbox', (n) => send('outbox', n * 2));
      on('control', (m) => {
        if (!isShutdownRequest(m)) return;
        send('signal', m);
        finish();
      });
    },
  });

describe('smoke', () => {
  it('routes a DataSource through two stages and ends', async () => {
    const handle = run(Pipeline(DataSource([1, 2, 3]), Doubler(), Doubler()));
    const seen: number[] = [];
    for await (const n of handle.messages('outbox')) seen.push(n);
    expect(seen).toEqual([4, 8, 12]);
    expect(await handle.done).toEqual({ status: 'done' });
  });
});
