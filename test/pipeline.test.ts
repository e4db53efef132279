// Kamaelia's Pipeline tests P1-P6 (notes/kamaelia.md 5a), on the graph supervisor.
import { describe, expect, it } from 'vitest';
import { Pipeline, producerFinished, run, shutdownMicroprocess } from 'kamaelia-xstate';
import { probe, settle, until } from './helpers/probe.js';

describe('Pipeline', () => {
  it('P1: children run only once the pipeline runs, and then all of them', async () => {
    const probes = [probe('A'), probe('B'), probe('C')];
    const definition = Pipeline(...probes.map((p) => p.component));
    await settle();
    expect(probes.map((p) => p.started)).toEqual([false, false, false]);
    const handle = run(definition);
    await until(() => probes.every((p) => p.started), 'all children started');
    expect(probes.map((p) => p.starts)).toEqual([1, 1, 1]);
    handle.stop();
  });

  it('P2: ends only when every child has ended', async () => {
    const probes = [probe('A'), probe('B'), probe('C')];
    const handle = run(Pipeline(...probes.map((p) => p.component)));
    let ended = false;
    void handle.done.then(() => (ended = true));
    for (const p of probes.slice(0, -1)) {
      p.finish();
      await settle();
      expect(ended).toBe(false);
      expect(handle.actor.getSnapshot().status).toBe('active');
    }
    probes.at(-1)!.finish();
    expect(await handle.done).toEqual({ status: 'done' });
    expect(probes.every((p) => p.cleanedUp)).toBe(true);
  });

  it('P3: each outbox feeds the next inbox, through 4 children', async () => {
    const probes = [probe('A'), probe('B'), probe('C'), probe('D')];
    const handle = run(Pipeline(...probes.map((p) => p.component)));
    await until(() => probes.every((p) => p.started));
    probes.forEach((p, i) => p.send('outbox', `from ${i}`));
    await settle();
    expect(probes.map((p) => p.on('inbox'))).toEqual([[], ['from 0'], ['from 1'], ['from 2']]);
    expect(probes.map((p) => p.on('control'))).toEqual([[], [], [], []]);
    expect(await handle.next('outbox')).toBe('from 3');
    handle.stop();
  });

  it('P4: each signal feeds the next control, through 4 children', async () => {
    const probes = [probe('A'), probe('B'), probe('C'), probe('D')];
    const handle = run(Pipeline(...probes.map((p) => p.component)));
    await until(() => probes.every((p) => p.started));
    probes.forEach((p, i) => p.send('signal', `signal ${i}`));
    await settle();
    expect(probes.map((p) => p.on('control'))).toEqual([[], ['signal 0'], ['signal 1'], ['signal 2']]);
    expect(probes.map((p) => p.on('inbox'))).toEqual([[], [], [], []]);
    expect(await handle.next('signal')).toBe('signal 3');
    handle.stop();
  });

  it("P5: the pipeline's inbox and control reach the first child", async () => {
    const probes = [probe('A'), probe('B')];
    const handle = run(Pipeline(...probes.map((p) => p.component)));
    await until(() => probes.every((p) => p.started));
    handle.send('inbox', 'data');
    const stop = shutdownMicroprocess();
    handle.send('control', stop);
    await settle();
    expect(probes[0]!.received).toEqual([
      { box: 'inbox', message: 'data' },
      { box: 'control', message: stop },
    ]);
    expect(probes[1]!.received).toEqual([]);
    handle.stop();
  });

  it("P6: the last child's outbox and signal come out of the pipeline's", async () => {
    const probes = [probe('A'), probe('B')];
    const handle = run(Pipeline(...probes.map((p) => p.component)));
    await until(() => probes.every((p) => p.started));
    const finished = producerFinished();
    probes[1]!.send('outbox', 'result');
    probes[1]!.send('signal', finished);
    expect(await handle.next('outbox', { timeoutMs: 1000 })).toBe('result');
    expect(await handle.next('signal', { timeoutMs: 1000 })).toBe(finished);
    handle.stop();
  });

  it('is a construction error when empty or given something that is not a component', () => {
    expect(() => Pipeline()).toThrow(/at least one component/);
    // @ts-expect-error -- not a component
    expect(() => Pipeline({ name: 'x' })).toThrow(/argument 0: expected a component/);
  });
});
