// The clock a walk runs on: nothing fires by itself; an `after` step fires the earliest timer.
interface Timer {
  readonly id: number;
  readonly due: number;
  readonly fn: () => void;
}

/** Structurally XState's clock (createActor's `clock` option). */
export class WalkClock {
  private now = 0;
  private nextId = 1;
  private readonly timers = new Map<number, Timer>();

  setTimeout(fn: () => void, timeout: number): number {
    const id = this.nextId++;
    this.timers.set(id, { id, due: this.now + Math.max(0, timeout), fn });
    return id;
  }

  clearTimeout(id: unknown): void {
    this.timers.delete(id as number);
  }

  /** The timer that would fire next (earliest due, then first set). */
  next(): Timer | undefined {
    let best: Timer | undefined;
    for (const timer of this.timers.values()) if (!best || timer.due < best.due) best = timer;
    return best;
  }

  /** Moves time to the next timer and fires it; false when none is pending. */
  fireNext(): boolean {
    const timer = this.next();
    if (!timer) return false;
    this.timers.delete(timer.id);
    this.now = timer.due;
    timer.fn();
    return true;
  }
}
