// Kamaelia's Graphline tests G1-G17 (notes/kamaelia.md 5a), on the graph supervisor.
import { describe, expect, it } from 'vitest';
import { Graphline, childrenOf, isProducerFinished, producerFinished, run, shutdownMicroprocess } from 'kamaelia-xstate';
import { probe, settle, until } from './helpers/probe.js';

type Probe = ReturnType<typeof probe>;
const started = (...probes: Probe[]) => until(() => probes.every((p) => p.started), 'children started');

describe('Graphline', () => {
  it('G1: linkages are required (a TypeError, where Kamaelia raised TypeError and its test wanted ValueError)', () => {
    const a = probe('A');
    // @ts-expect-error -- linkages missing
    expect(() => Graphline({ A: a.component })).toThrow(TypeError);
    // @ts-expect-error -- linkages missing
    expect(() => Graphline({ A: a.component })).toThrow(/linkages are required/);
  });

  it('G2: empty linkages are fine, with or without children', async () => {
    const a = probe('A');
    const withChild = run(Graphline({ A: a.component }, {}));
    await started(a);
    a.finish();
    expect(await withChild.done).toEqual({ status: 'done' });
    const empty = run(Graphline({}, {}));
    expect(await empty.done).toEqual({ status: 'done' });
    expect(await empty.next('signal')).toMatchObject({ kind: 'producerFinished' });
  });

  it('G3: children exist only once the Graphline runs', async () => {
    const a = probe('A');
    const b = probe('B');
    const definition = Graphline({ A: a.component, B: b.component }, { 'A.outbox': 'B.inbox' });
    await settle();
    expect([a.started, b.started]).toEqual([false, false]);
    const handle = run(definition);
    await started(a, b);
    expect([...childrenOf(handle.actor).keys()]).toEqual(['0', '1']);
    handle.stop();
  });

  it('G4: every child runs, linked or not, in a cycle or not', async () => {
    const [a, b, c] = [probe('A'), probe('B'), probe('C')];
    const handle = run(Graphline({ A: a.component, B: b.component, C: c.component }, { 'A.outbox': 'B.inbox', 'B.outbox': 'A.inbox' }));
    await started(a, b, c);
    handle.stop();
  });

  it('G5: each linkage delivers to its target only', async () => {
    const [a, b, c, d] = [probe('A'), probe('B'), probe('C'), probe('D')];
    const handle = run(
      Graphline(
        { A: a.component, B: b.component, C: c.component, D: d.component },
        { 'A.outbox': 'B.inbox', 'C.outbox': 'D.control', 'C.signal': 'A.inbox', 'B.signal': 'A.control' },
      ),
    );
    await started(a, b, c, d);
    a.send('outbox', 1);
    c.send('outbox', 2);
    c.send('signal', 3);
    b.send('signal', 4);
    await settle();
    expect(a.received).toEqual([
      { box: 'inbox', message: 3 },
      { box: 'control', message: 4 },
    ]);
    expect(b.received).toEqual([{ box: 'inbox', message: 1 }]);
    expect(c.received).toEqual([]);
    expect(d.received).toEqual([{ box: 'control', message: 2 }]);
    handle.stop();
  });

  it('G6: ends only after every child has ended', async () => {
    const [a, b, c] = [probe('A'), probe('B'), probe('C')];
    const handle = run(Graphline({ A: a.component, B: b.component, C: c.component }, { 'A.outbox': 'B.inbox' }));
    await started(a, b, c);
    let ended = false;
    void handle.done.then(() => (ended = true));
    for (const p of [c, a]) {
      p.finish();
      await settle();
      expect(ended).toBe(false);
    }
    b.finish();
    expect(await handle.done).toEqual({ status: 'done' });
  });

  it('G7: self inboxes pass through to children; a new self inbox name is created', async () => {
    const [a, b] = [probe('A'), probe('B')];
    const definition = Graphline(
      { A: a.component, B: b.component },
      { 'self.inbox': 'A.control', 'self.control': 'B.inbox', 'self.novel-inbox': 'B.control' },
    );
    expect(definition.inboxes).toEqual(['inbox', 'control', 'novel-inbox']);
    const handle = run(definition);
    await started(a, b);
    handle.send('inbox', 'to A.control');
    handle.send('control', 'to B.inbox');
    handle.send('novel-inbox', 'to B.control');
    await settle();
    expect(a.received).toEqual([{ box: 'control', message: 'to A.control' }]);
    expect(b.received).toEqual([
      { box: 'inbox', message: 'to B.inbox' },
      { box: 'control', message: 'to B.control' },
    ]);
    handle.stop();
  });

  it('G7: a name that is neither a child nor self is a construction error (Kamaelia took it as self)', () => {
    const a = probe('A');
    // @ts-expect-error -- "flurble" is not a child
    expect(() => Graphline({ A: a.component }, { 'flurble.inbox': 'A.inbox' })).toThrow(/"flurble.inbox" names no child/);
    // (probes declare their boxes at run time, so only the runtime check can catch this one)
    expect(() => Graphline({ A: a.component }, { 'self.inbox': 'A.nope' })).toThrow(/has no inbox "nope"/);
  });

  it('G8: children outboxes come out of self outboxes; a new self outbox name is created', async () => {
    const [a, b] = [probe('A'), probe('B')];
    const definition = Graphline(
      { A: a.component, B: b.component },
      { 'A.outbox': 'self.signal', 'B.signal': 'self.outbox', 'B.outbox': 'self.novel-outbox' },
    );
    expect(definition.outboxes).toEqual(['outbox', 'signal', 'novel-outbox']);
    const handle = run(definition);
    await started(a, b);
    a.send('outbox', 'A out');
    b.send('signal', 'B signal');
    b.send('outbox', 'B out');
    expect(await handle.next('signal')).toBe('A out');
    expect(await handle.next('outbox')).toBe('B signal');
    expect(await handle.next('novel-outbox')).toBe('B out');
    handle.stop();
  });

  it('G9: after every child ends, with no control message, exactly one producerFinished comes out of signal', async () => {
    const [a, b] = [probe('A'), probe('B')];
    const handle = run(Graphline({ A: a.component, B: b.component }, { 'A.outbox': 'B.inbox' }));
    await started(a, b);
    a.finish();
    await settle();
    const signals: unknown[] = [];
    b.finish();
    await handle.done;
    for await (const message of handle.messages('signal')) signals.push(message);
    expect(signals).toHaveLength(1);
    expect(isProducerFinished(signals[0])).toBe(true);
  });

  it('G10/G12/G13: a shutdownMicroprocess goes to every child whose control is unwired, and comes back out of signal once they end', async () => {
    const [a, b, c] = [probe('A'), probe('B'), probe('C')];
    const handle = run(Graphline({ A: a.component, B: b.component, C: c.component }, { 'A.signal': 'B.control' }));
    await started(a, b, c);
    const stop = shutdownMicroprocess();
    handle.send('control', stop);
    await settle();
    expect(a.on('control')).toEqual([stop]);
    expect(b.on('control')).toEqual([]); // B's control is wired from A
    expect(c.on('control')).toEqual([stop]);
    // G13: it keeps running until the children stop
    expect(handle.actor.getSnapshot().status).toBe('active');
    a.finish();
    b.finish();
    c.finish();
    await handle.done;
    expect(await handle.next('signal')).toBe(stop); // the same object (G10)
  });

  it('G11: with control wired to a child, control messages go only there', async () => {
    const [a, b] = [probe('A'), probe('B')];
    const handle = run(Graphline({ A: a.component, B: b.component }, { 'self.control': 'A.control' }));
    await started(a, b);
    const stop = shutdownMicroprocess();
    handle.send('control', stop);
    await settle();
    expect(a.on('control')).toEqual([stop]);
    expect(b.received).toEqual([]);
    handle.stop();
  });

  it('G14: after a producerFinished on control, the end signal is a new producerFinished', async () => {
    const a = probe('A');
    const handle = run(Graphline({ A: a.component }, {}));
    await started(a);
    const finished = producerFinished();
    handle.send('control', finished);
    await until(() => a.on('control').length === 1);
    a.finish();
    const end = await handle.next('signal');
    expect(isProducerFinished(end)).toBe(true);
    expect(end).not.toBe(finished);
  });

  it.each([['producerFinished', producerFinished()], ['shutdownMicroprocess', shutdownMicroprocess()], ['flurble', 'flurble']])(
    'G15: with control wired to a child, the end signal is a new producerFinished whatever was sent (%s)',
    async (_, sent) => {
      const a = probe('A');
      const handle = run(Graphline({ A: a.component }, { 'self.control': 'A.control' }));
      await started(a);
      handle.send('control', sent);
      await until(() => a.on('control').length === 1);
      a.finish();
      const end = await handle.next('signal');
      expect(isProducerFinished(end)).toBe(true);
      expect(end).not.toBe(sent);
    },
  );

  it('G16: with signal wired from a child, the Graphline itself never emits on signal', async () => {
    const [a, b] = [probe('A'), probe('B')];
    const handle = run(Graphline({ A: a.component, B: b.component }, { 'A.signal': 'self.signal' }));
    await started(a, b);
    handle.send('control', shutdownMicroprocess());
    a.finish();
    b.finish();
    await handle.done;
    const signals: unknown[] = [];
    for await (const message of handle.messages('signal')) signals.push(message);
    expect(signals).toEqual([]);
  });

  it('G17: with control and signal both wired, nothing extra comes out of outbox or signal', async () => {
    const a = probe('A');
    const handle = run(Graphline({ A: a.component }, { 'self.control': 'A.control', 'A.signal': 'self.signal' }));
    await started(a);
    handle.send('control', shutdownMicroprocess());
    await until(() => a.on('control').length === 1);
    a.finish();
    await handle.done;
    const out: unknown[] = [];
    for await (const message of handle.messages('outbox')) out.push(message);
    for await (const message of handle.messages('signal')) out.push(message);
    expect(out).toEqual([]);
  });

  it('nested graphs route through passthroughs in both directions', async () => {
    const [a, b] = [probe('A'), probe('B')];
    const inner = Graphline({ B: b.component }, { 'self.inbox': 'B.inbox', 'B.outbox': 'self.outbox' });
    const handle = run(Graphline({ A: a.component, inner }, { 'A.outbox': 'inner.inbox', 'inner.outbox': 'self.outbox' }));
    await started(a, b);
    a.send('outbox', 'down');
    await until(() => b.on('inbox').length === 1);
    expect(b.on('inbox')).toEqual(['down']);
    b.send('outbox', 'up');
    expect(await handle.next('outbox')).toBe('up');
    handle.stop();
  });
});
