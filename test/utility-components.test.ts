// The utility components: OneShot, DataSource, ConsoleReader, ConsoleEchoer, EchoProtocol,
// RateControlledFileReader.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ConsoleEchoer,
  ConsoleReader,
  DataSource,
  EchoProtocol,
  OneShot,
  Pipeline,
  RateControlledFileReader,
  childrenOf,
  isProducerFinished,
  producerFinished,
  run,
  setInboxOpen,
  shutdownMicroprocess,
} from 'kamaelia-xstate';
import { probe, settle, until } from './helpers/probe.js';

const dir = mkdtempSync(join(tmpdir(), 'kamaelia-xstate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

describe('OneShot', () => {
  it('sends its message, then producerFinished, then ends', async () => {
    const handle = run(OneShot({ any: 'thing' }));
    expect(await collect(handle.messages('outbox'))).toEqual([{ any: 'thing' }]);
    expect(await collect(handle.messages('signal'))).toEqual([expect.objectContaining({ kind: 'producerFinished' })]);
    expect((await handle.done).status).toBe('done');
  });
});

describe('DataSource', () => {
  it('sends every item in order, then producerFinished', async () => {
    const handle = run(DataSource(['a', 'b', 'c']));
    expect(await collect(handle.messages('outbox'))).toEqual(['a', 'b', 'c']);
    expect(isProducerFinished(await handle.next('signal'))).toBe(true);
  });

  it('holds back while its consumer has closed its inbox, and resumes when it opens', async () => {
    const sink = probe('Sink');
    const handle = run(Pipeline(DataSource([1, 2, 3, 4]), sink.component));
    await until(() => sink.started);
    // close the gate before the source's first pump (it starts on setImmediate)
    const sinkRef = childrenOf(handle.actor).get('1')!;
    setInboxOpen(sinkRef, 'inbox', false);
    await settle();
    await settle();
    expect(sink.on('inbox')).toEqual([]);
    setInboxOpen(sinkRef, 'inbox', true);
    await until(() => sink.on('inbox').length === 4);
    expect(sink.on('inbox')).toEqual([1, 2, 3, 4]);
    handle.stop();
  });

  it('stops early on a shutdown and passes it on', async () => {
    function* forever() {
      for (let i = 0; ; i++) yield i;
    }
    const sink = probe('Sink');
    const handle = run(Pipeline(DataSource(forever()), sink.component));
    await until(() => sink.on('inbox').length > 0);
    const stop = shutdownMicroprocess();
    handle.send('control', stop);
    await until(() => sink.on('control').length === 1);
    expect(sink.on('control')).toEqual([stop]);
    handle.stop();
  });
});

describe('EchoProtocol', () => {
  it('echoes what it gets and passes a producerFinished on to signal', async () => {
    const handle = run(EchoProtocol());
    handle.send('inbox', Buffer.from('hello'));
    expect(Buffer.from(await handle.next('outbox')).toString()).toBe('hello');
    const finished = producerFinished();
    handle.send('control', finished);
    expect(await handle.next('signal')).toBe(finished);
    expect((await handle.done).status).toBe('done');
  });
});

describe('ConsoleEchoer and ConsoleReader', () => {
  it('ConsoleEchoer writes strings and bytes as text and objects as JSON', async () => {
    const out = new PassThrough();
    let written = '';
    out.on('data', (chunk: Buffer) => (written += chunk.toString()));
    const handle = run(ConsoleEchoer({ stream: out, tag: '> ' }));
    handle.send('inbox', 'text\n');
    handle.send('inbox', Buffer.from('bytes\n'));
    handle.send('inbox', { kind: 'listening', port: 1 });
    handle.send('control', producerFinished());
    await handle.done;
    expect(written).toBe('> text\n> bytes\n> {"kind":"listening","port":1}\n');
  });

  it('ConsoleReader sends each line with its end of line, then producerFinished at end of input', async () => {
    const input = new PassThrough();
    const handle = run(ConsoleReader({ input, output: new PassThrough() }));
    input.write('first\nsecond\n');
    input.end('third');
    expect(await collect(handle.messages('outbox'))).toEqual(['first\n', 'second\n', 'third\n']);
    expect(isProducerFinished(await handle.next('signal'))).toBe(true);
  });

  it('ConsoleReader stops on a shutdown without waiting for a line', async () => {
    const input = new PassThrough();
    const handle = run(ConsoleReader({ input, output: new PassThrough() }));
    handle.send('control', shutdownMicroprocess());
    expect((await handle.done).status).toBe('done');
  });
});

describe('RateControlledFileReader', () => {
  it('reads a real file in bytes at the given rate, then producerFinished', async () => {
    const path = join(dir, 'small.txt');
    writeFileSync(path, 'abcdefghij0123456789XYZ'); // 23 bytes: chunks of 10, 10, 3
    const started = performance.now();
    const handle = run(RateControlledFileReader(path, { rate: 100, chunkSize: 10 }));
    const sentAt: number[] = [];
    handle.actor.on('outbox', () => sentAt.push(performance.now() - started));
    const chunks = await collect(handle.messages('outbox'));
    expect(chunks.map((c) => Buffer.from(c).toString())).toEqual(['abcdefghij', '0123456789', 'XYZ']);
    // 10 bytes at 100 bytes/s: chunk k is due 100·k ms after the start, paced by timers rather than
    // sent at once (a lower bound only: timers can be late on a busy machine, never early)
    expect(sentAt[1]).toBeGreaterThanOrEqual(95);
    expect(sentAt[2]).toBeGreaterThanOrEqual(195);
    expect(await handle.next('signal')).toMatchObject({ kind: 'producerFinished' });
    expect((await handle.next('signal').catch(() => 'no more'))).toBe('no more');
  });

  it('reports a missing file on signal with its code', async () => {
    const handle = run(RateControlledFileReader(join(dir, 'does-not-exist.bin')));
    const end = await handle.next('signal', { timeoutMs: 2000 });
    expect(end).toMatchObject({ kind: 'producerFinished', reason: { code: 'ENOENT', message: expect.stringContaining('does-not-exist.bin') } });
    expect((await handle.done).status).toBe('error');
  });

  it('rejects bad options at construction, naming them', () => {
    expect(() => RateControlledFileReader('x', { rate: 0 })).toThrow(/rate must be a positive number/);
    expect(() => RateControlledFileReader('x', { chunkSize: 1.5 })).toThrow(/chunkSize must be a positive integer, got 1.5/);
    expect(() => RateControlledFileReader('')).toThrow(/path must be a non-empty string/);
  });

  it('stops on a shutdown and closes its file', async () => {
    const path = join(dir, 'big.bin');
    writeFileSync(path, Buffer.alloc(100_000, 1));
    const handle = run(RateControlledFileReader(path, { rate: 1000, chunkSize: 10 }));
    await handle.next('outbox');
    handle.send('control', shutdownMicroprocess());
    expect(await handle.next('signal')).toMatchObject({ kind: 'shutdownMicroprocess' });
    expect((await handle.done).status).toBe('done');
    await until(() => !process.getActiveResourcesInfo().includes('FileHandle'), 'the file to close');
  });
});
