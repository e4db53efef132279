// Ours: a Graphline of DataSource (64 KiB chunks, respecting flow control) → TCPClient → an
// acknowledgement counter. The source's end is not linked to the client, so the client stays
// connected until the sink has acknowledged everything.
import * as library from '../../src/index.js';
import { chunksPerMebibyte, streamChunk, type StreamClient } from '../workloads/clientStream.js';

function AckCounter(expected: number, onDone: () => void) {
  return library.defineComponent({
    name: 'AckCounter',
    inboxes: { inbox: library.box<Uint8Array>(), control: library.box<library.SignalMessage>() },
    outboxes: { outbox: library.box<never>(), signal: library.box<library.SignalMessage>() },
    body: ({ on }) => {
      let acks = 0;
      on('inbox', (data) => {
        acks += data.length;
        if (acks >= expected) onDone();
      });
    },
  });
}

function* chunks(count: number): Generator<Buffer> {
  for (let index = 0; index < count; index++) yield streamChunk;
}

export const oursStreamClient: StreamClient = async (host, port, settings) => {
  const started = process.hrtime.bigint();
  let acknowledged = (): void => {};
  const allAcknowledged = new Promise<void>((resolve) => (acknowledged = resolve));
  const handle = library.run(
    library.Graphline(
      { source: library.DataSource(chunks(settings.mebibytes * chunksPerMebibyte)), client: library.TCPClient(host, port), acks: AckCounter(settings.mebibytes, acknowledged) },
      { 'source.outbox': 'client.inbox', 'client.outbox': 'acks.inbox' },
    ),
  );
  let timer: NodeJS.Timeout | undefined;
  try {
    const outcome = await Promise.race([
      allAcknowledged.then(() => 'acknowledged' as const),
      handle.done.then((result) => `ended early: ${result.status} ${result.reason?.message ?? ''}`),
      new Promise<string>((resolve) => (timer = setTimeout(() => resolve(`timed out after ${settings.timeoutMs} ms`), settings.timeoutMs))),
    ]);
    if (outcome !== 'acknowledged') throw new Error(`ours stream: ${outcome}`);
    return Number(process.hrtime.bigint() - started) / 1e9;
  } finally {
    clearTimeout(timer);
    handle.stop();
  }
};
