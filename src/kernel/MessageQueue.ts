// A FIFO with promise-based takers: what run() buffers each outbox into.
import { abortError } from './abort.js';
import { checkDuration } from './duration.js';

/** How long and until what a taker waits. */
export interface TakeOptions {
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export class MessageQueue<T> implements AsyncIterable<T> {
  private items: T[] = [];
  private head = 0;
  private readonly takers: { resolve: (item: T) => void; reject: (error: Error) => void }[] = [];
  private closed = false;
  /** Why the component ended, when an error ended it: takers that find the queue closed are told. */
  private endReason: { readonly code?: string; readonly message: string } | undefined;
  /** Bytes held in buffered byte messages (Uint8Array, Buffer). */
  private heldBytes = 0;
  /** Buffered messages that are not bytes. */
  private heldOthers = 0;

  /** `onLevel` is called whenever what the queue holds goes up or down (for a high-water mark). */
  constructor(
    private readonly label: string,
    private readonly onLevel?: (queue: MessageQueue<T>) => void,
  ) {}

  /** Bytes held in byte messages not yet taken. */
  get bufferedBytes(): number {
    return this.heldBytes;
  }

  /** Messages other than bytes not yet taken. */
  get bufferedMessages(): number {
    return this.heldOthers;
  }

  private account(item: T, sign: 1 | -1): void {
    if (item instanceof Uint8Array) this.heldBytes += sign * item.byteLength;
    else this.heldOthers += sign;
    this.onLevel?.(this);
  }

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    if (this.closed) return;
    const taker = this.takers.shift();
    if (taker) {
      taker.resolve(item);
      return;
    }
    this.items.push(item);
    this.account(item, 1);
  }

  /**
   * No more items will come: waiting takers are rejected, buffered items can still be taken. With
   * `reason` (an error ended the component) the rejection names it and carries its `code`.
   */
  close(reason?: { readonly code?: string; readonly message: string }): void {
    if (this.closed) return;
    this.closed = true;
    this.endReason = reason;
    for (const taker of this.takers.splice(0)) taker.reject(this.endedError());
  }

  private endedError(): Error {
    const why = this.endReason;
    const message = `the component ended before a message arrived on "${this.label}"`;
    if (!why) return new Error(message);
    return Object.assign(new Error(`${message}: ${why.code ? `${why.code} ` : ''}${why.message}`), why.code === undefined ? {} : { code: why.code });
  }

  private take(): T {
    const item = this.items[this.head] as T;
    this.items[this.head++] = undefined as T; // let the item be collected
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    this.account(item, -1);
    return item;
  }

  next(options: TakeOptions = {}): Promise<T> {
    const { timeoutMs, signal } = options;
    // Node fires a timer over 2^31-1 ms after 1 ms: refuse it, as every other millisecond option.
    try {
      checkDuration(`next("${this.label}")`, 'timeoutMs', timeoutMs);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    if (signal?.aborted) return Promise.reject(abortError(signal, `waiting for a message on "${this.label}"`));
    if (this.length > 0) return Promise.resolve(this.take());
    if (this.closed) return Promise.reject(this.endedError());
    return new Promise<T>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const forget = (): void => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const taker = {
        resolve: (item: T) => {
          forget();
          resolve(item);
        },
        reject: (error: Error) => {
          forget();
          reject(error);
        },
      };
      const giveUp = (error: Error): void => {
        const index = this.takers.indexOf(taker);
        if (index >= 0) this.takers.splice(index, 1);
        taker.reject(error);
      };
      const onAbort = (): void => giveUp(abortError(signal!, `waiting for a message on "${this.label}"`));
      this.takers.push(taker);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => giveUp(new Error(`timed out after ${timeoutMs} ms waiting for a message on "${this.label}"`)), timeoutMs);
      }
    });
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      if (this.length > 0) {
        yield this.take();
        continue;
      }
      if (this.closed) return;
      try {
        yield await this.next();
      } catch (error) {
        if (this.closed && this.length === 0) return;
        throw error;
      }
    }
  }
}
