// The one mailbox: one handler at a time, in order, re-entrancy safe. What is delivered while a
// handler runs (a component answering a message it just sent, a reply to a chunk just emitted)
// waits its turn, as in an actor's mailbox. Body components, hosted bodies and socket bindings all
// take their messages through one of these; machine components through XState's own.

/** Who a mailbox runs its deliveries on: the object, not a bound function (one fewer per connection). */
export interface MailboxOwner {
  /** Handles one delivery; the mailbox calls it one at a time, in order. */
  take(box: string, data: unknown): void;
}

/** Runs `owner.take(box, data)` for each delivery, one at a time and in order. */
export class Mailbox {
  /** A handler is running, or the mailbox is held (before its owner has started). */
  private running: boolean;
  /** Box and data pairs waiting their turn (flat: no object per message). */
  private waiting: unknown[] | undefined;

  /** `held`: deliveries wait until release() (an owner that has not started yet). */
  constructor(
    private readonly owner: MailboxOwner,
    held = false,
  ) {
    this.running = held;
  }

  /** True while a handler runs or the mailbox is held. */
  get busy(): boolean {
    return this.running;
  }

  /** Runs the handler for this delivery now, or after those before it. */
  deliver(box: string, data: unknown): void {
    if (this.running) {
      (this.waiting ??= []).push(box, data);
      return;
    }
    this.running = true;
    try {
      // Left waiting by a handler that threw: they go first.
      if (this.waiting !== undefined) this.waiting.push(box, data);
      else this.owner.take(box, data);
      this.drain();
    } finally {
      this.running = false;
    }
  }

  /** Holds deliveries until release(). Returns false if it was already busy. */
  hold(): boolean {
    if (this.running) return false;
    this.running = true;
    return true;
  }

  /** Runs what waited while held, then takes deliveries as they come. */
  release(): void {
    try {
      this.drain();
    } finally {
      this.running = false;
    }
  }

  /** Drops what is waiting (its owner has ended). */
  clear(): void {
    this.waiting = undefined;
  }

  private drain(): void {
    for (let waiting = this.waiting; waiting !== undefined; waiting = this.waiting) {
      this.waiting = undefined;
      for (let i = 0; i < waiting.length; i += 2) this.owner.take(waiting[i] as string, waiting[i + 1]);
    }
  }
}
