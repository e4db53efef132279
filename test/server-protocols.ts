// Connection handlers used by the server tests (test-only components).
import {
  box,
  defineComponent,
  isProducerFinished,
  isShutdownRequest,
  producerFinished,
  serverShutdown,
  type PeerInfo,
  type SignalMessage,
} from 'kamaelia-xstate';

/** Records every control message its connection's handler receives, per connection. */
export class ControlLog {
  readonly received: SignalMessage[][] = [];
  readonly infos: PeerInfo[] = [];

  /** A handler that echoes, records its control messages and ends on a shutdown request. */
  readonly protocol = (info: PeerInfo) => {
    const log: SignalMessage[] = [];
    this.received.push(log);
    this.infos.push(info);
    return defineComponent({
      name: 'RecordingEcho',
      inboxes: { inbox: box<Uint8Array>(), control: box<SignalMessage>() },
      outboxes: { outbox: box<Uint8Array>(), signal: box<SignalMessage>() },
      body: ({ on, send, finish }) => {
        on('inbox', (data) => send('outbox', data));
        on('control', (message) => {
          log.push(message);
          if (isShutdownRequest(message)) finish();
        });
      },
    });
  };
}

/** Echoes, but throws on a chunk that contains "boom". */
export const Exploding = () =>
  defineComponent({
    name: 'Exploding',
    inboxes: { inbox: box<Uint8Array>(), control: box<SignalMessage>() },
    outboxes: { outbox: box<Uint8Array>(), signal: box<SignalMessage>() },
    body: ({ on, send, finish }) => {
      on('inbox', (data) => {
        if (Buffer.from(data).includes('boom')) throw new Error('handler exploded');
        send('outbox', data);
      });
      on('control', (message) => {
        if (isShutdownRequest(message)) finish();
      });
    },
  });

/** On connect sends `size` bytes of a counting pattern, then waits (ends on a shutdown request). */
export function pattern(size: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7 + (i >> 10)) & 0xff;
  return bytes;
}

export const Streamer = (size: number, chunk = 64 * 1024) => () =>
  defineComponent({
    name: 'Streamer',
    inboxes: { inbox: box<Uint8Array>(), control: box<SignalMessage>() },
    outboxes: { outbox: box<Uint8Array>(), signal: box<SignalMessage>() },
    body: ({ on, send, finish }) => {
      const bytes = pattern(size);
      for (let offset = 0; offset < size; offset += chunk) send('outbox', bytes.subarray(offset, offset + chunk));
      on('control', (message) => {
        if (isShutdownRequest(message)) finish();
      });
    },
  });

/** Says goodbye and closes its connection: bytes first, then producerFinished on signal. */
export const Goodbye = () =>
  defineComponent({
    name: 'Goodbye',
    inboxes: { inbox: box<Uint8Array>(), control: box<SignalMessage>() },
    outboxes: { outbox: box<string>(), signal: box<SignalMessage>() },
    body: ({ on, send, finish }) => {
      send('outbox', 'bye\n');
      send('signal', producerFinished());
      on('control', (message) => {
        if (isShutdownRequest(message)) finish();
      });
    },
  });

/** Echoes; a line "stop" asks the whole server to shut down through its serversignal outbox. */
export const Stopper = () =>
  defineComponent({
    name: 'Stopper',
    inboxes: { inbox: box<Uint8Array>(), control: box<SignalMessage>() },
    outboxes: { outbox: box<Uint8Array>(), signal: box<SignalMessage>(), serversignal: box<SignalMessage>() },
    body: ({ on, send, finish }) => {
      on('inbox', (data) => {
        if (Buffer.from(data).toString().startsWith('stop')) send('serversignal', serverShutdown());
        else send('outbox', data);
      });
      on('control', (message) => {
        if (isShutdownRequest(message)) finish();
      });
    },
  });

/** Ignores everything, including socketShutdown: the server must not leak it. */
export const Deaf = () =>
  defineComponent({
    name: 'Deaf',
    inboxes: { inbox: box<Uint8Array>(), control: box<SignalMessage>() },
    outboxes: { outbox: box<Uint8Array>(), signal: box<SignalMessage>() },
    body: () => {},
  });

/**
 * Collects its input; once the client's stream has ended (producerFinished on control), answers
 * `answer to <input>` after `delayMs` (a timer, so the answer comes after the client's FIN), then ends.
 */
export const AnswerAfterEnd = (delayMs = 100) =>
  defineComponent({
    name: 'AnswerAfterEnd',
    inboxes: { inbox: box<Uint8Array>(), control: box<SignalMessage>() },
    outboxes: { outbox: box<string>(), signal: box<SignalMessage>() },
    body: ({ on, send, finish }) => {
      let question = '';
      let timer: NodeJS.Timeout | undefined;
      on('inbox', (data) => (question += Buffer.from(data).toString()));
      on('control', (message) => {
        if (!isProducerFinished(message) || timer) return;
        timer = setTimeout(() => {
          send('outbox', `answer to ${question}`);
          finish();
        }, delayMs);
      });
      return () => clearTimeout(timer);
    },
  });
