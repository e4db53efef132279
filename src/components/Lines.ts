// Lines({ maxLineLength }): bytes (or text) in, one string per line out. Lines end with \n or \r\n
// (neither is in the string sent); a line split across chunks is joined. A line longer than
// maxLineLength bytes ends the component with an error on signal instead of buffering without bound.
// Flow control passes through, as in EchoProtocol.
import { box, defineComponent } from '../kernel/component.js';
import { badMessage, isProducerFinished, isShutdownRequest, producerFinished, reason, type SignalMessage } from '../kernel/messages.js';

/** Options of {@link Lines}. */
export interface LinesOptions {
  /**
   * The longest line accepted, in bytes of UTF-8 without its line ending. A longer one ends the
   * component with `producerFinished` carrying `reason.code` `'ELINETOOLONG'` on `signal`.
   * @defaultValue 65536
   */
  readonly maxLineLength?: number;
}

/** The default of {@link LinesOptions.maxLineLength}: 64 KiB. */
export const DEFAULT_MAX_LINE_LENGTH = 65_536;

const NEWLINE = 0x0a;
const RETURN = 0x0d;

/**
 * Splits bytes into lines: each `Uint8Array` or string on `inbox` is appended, and every complete
 * line goes out of `outbox` as a string (UTF-8, without `\n` or `\r\n`). On `producerFinished` the
 * last unterminated line (if any) is sent, then the message is passed on to `signal` and it ends.
 *
 * @param options - see {@link LinesOptions}
 * @example
 * ```ts
 * import { Lines, Pipeline, TCPClient, run } from 'kamaelia-xstate';
 * const handle = run(Pipeline(TCPClient('127.0.0.1', 7000), Lines({ maxLineLength: 1024 })));
 * for await (const line of handle.messages('outbox')) console.log('line:', line);
 * ```
 */
export function Lines(options: LinesOptions = {}) {
  const maxLineLength = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
  if (!Number.isInteger(maxLineLength) || maxLineLength <= 0) throw new RangeError(`Lines: maxLineLength must be a positive integer (bytes), got ${String(maxLineLength)}`);
  return defineComponent({
    name: 'Lines',
    inboxes: { inbox: box<Uint8Array | string>(), control: box<SignalMessage>() },
    outboxes: { outbox: box<string>(), signal: box<SignalMessage>() },
    body: ({ on, send, finish, canSend, whenCanSend, setInboxOpen }) => {
      let pending: Buffer = Buffer.alloc(0);
      let cancelWait: (() => void) | undefined;
      let ended = false;
      const end = (message: SignalMessage): void => {
        ended = true;
        pending = Buffer.alloc(0);
        send('signal', message);
        finish();
      };
      /** The line's length in bytes without a trailing '\r' (the first half of its '\r\n'). */
      const contentLength = (bytes: Buffer): number => (bytes.length > 0 && bytes[bytes.length - 1] === RETURN ? bytes.length - 1 : bytes.length);
      const lineOf = (bytes: Buffer): string => bytes.toString('utf8', 0, contentLength(bytes));
      on('inbox', (data) => {
        if (ended) return;
        let chunk: Buffer;
        if (typeof data === 'string') chunk = Buffer.from(data, 'utf8');
        else if (data instanceof Uint8Array) chunk = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
        else {
          send('signal', badMessage('inbox', reason('EBADMESSAGE', `Lines: inbox takes a Uint8Array or a string, got ${data === null ? 'null' : typeof data}`)));
          return;
        }
        // '\n' never occurs inside a multi-byte UTF-8 sequence, so splitting the bytes there is safe.
        let start = 0;
        let carried = pending;
        for (let end = chunk.indexOf(NEWLINE); end >= 0; end = chunk.indexOf(NEWLINE, start)) {
          const piece = carried.length > 0 ? Buffer.concat([carried, chunk.subarray(start, end)]) : chunk.subarray(start, end);
          carried = Buffer.alloc(0);
          const bytes = contentLength(piece);
          if (bytes > maxLineLength) return tooLong(bytes);
          send('outbox', piece.toString('utf8', 0, bytes));
          start = end + 1;
        }
        const rest = chunk.subarray(start);
        // Keep a copy: the chunk's buffer may be reused by whoever sent it.
        pending = carried.length > 0 ? Buffer.concat([carried, rest]) : Buffer.from(rest);
        // One byte over: a trailing '\r' may yet turn out to be half of the line's '\r\n'.
        if (pending.length > maxLineLength + 1) return tooLong(pending.length);
        if (cancelWait || canSend('outbox')) return;
        setInboxOpen('inbox', false);
        cancelWait = whenCanSend('outbox', () => {
          cancelWait = undefined;
          setInboxOpen('inbox', true);
        });
      });
      const tooLong = (length: number): void =>
        end(producerFinished(reason('ELINETOOLONG', `Lines: a line of more than ${maxLineLength} bytes arrived (at least ${length}); maxLineLength is ${maxLineLength}`), { source: 'Lines' }));
      on('control', (message) => {
        if (ended || !isShutdownRequest(message)) return;
        if (isProducerFinished(message) && pending.length > 0) send('outbox', lineOf(pending));
        end(message);
      });
      return () => cancelWait?.();
    },
  });
}
