// What a page that connects late is sent: the session so far, bounded. Finished connections and
// ended actors past `keepFinished` are dropped oldest first; each actor keeps its first and its
// latest steps (`stepsPerActor` in all); superseded byte counts go when the history passes `limit`
// records; the log keeps only its most recent entries. What was dropped is said in the snapshot
// (a `trimmed` record and one `stepsDropped` record per actor), so the page can say it too. The
// page applies the same limits to what it holds (see inspector/page/store.js).
import type { InspectorRecord, LogRecord } from './records.js';

/** Limits a page is told in the hello record, so it holds what the server does. */
export interface HistoryLimits {
  /** Finished connections (and ended actors) kept, the newest. */
  readonly keepFinished: number;
  /** Steps kept per actor: its first {@link stepsHead} and its latest. */
  readonly stepsPerActor: number;
}

export interface HistoryOptions extends Partial<HistoryLimits> {
  /** Records kept before superseded byte counts are dropped (default 200 000). */
  readonly limit?: number;
  /** Log records kept (default 1 000). */
  readonly logLimit?: number;
}

export const DEFAULT_KEEP_FINISHED = 2_000;
export const DEFAULT_STEPS_PER_ACTOR = 1_000;

/** How many of an actor's first steps are kept when it has more than `stepsPerActor`: a tenth, at most 100. */
export function stepsHead(stepsPerActor: number): number {
  return Math.min(100, Math.floor(stepsPerActor / 10));
}

export class History {
  private records: InspectorRecord[] = [];
  private logs: LogRecord[] = [];
  private readonly limit: number;
  private readonly logLimit: number;
  readonly limits: HistoryLimits;
  private readonly head: number;
  /** Steps held per actor, and steps dropped from each so far. */
  private readonly stepCounts = new Map<string, number>();
  private readonly stepsDropped = new Map<string, number>();
  /** Steps held past the per-actor cap, over all actors: dropped when they are a third of the history. */
  private excessSteps = 0;
  /** Finished lanes and ended actors held: past 1.5 × keepFinished they are compacted. */
  private finished = 0;
  private ended = 0;
  /** Dropped so far, said to late pages. */
  private droppedLanes = 0;
  private droppedActors = 0;
  /** Size at which to compact next: twice what the last compaction kept, so that compacting a
   *  history of mostly live connections does not repeat on every batch. */
  private compactAt: number;

  constructor(options: HistoryOptions = {}) {
    this.limit = options.limit ?? 200_000;
    this.compactAt = this.limit;
    this.logLimit = options.logLimit ?? 1_000;
    this.limits = { keepFinished: options.keepFinished ?? DEFAULT_KEEP_FINISHED, stepsPerActor: Math.max(2, options.stepsPerActor ?? DEFAULT_STEPS_PER_ACTOR) };
    this.head = stepsHead(this.limits.stepsPerActor);
  }

  add(records: readonly InspectorRecord[]): void {
    const cap = this.limits.stepsPerActor;
    for (const record of records) {
      switch (record.k) {
        case 'log':
          this.logs.push(record);
          continue;
        case 'dropped':
        case 'hello':
        case 'stepsDropped':
        case 'trimmed':
          continue;
        case 'step': {
          const count = (this.stepCounts.get(record.id) ?? 0) + 1;
          this.stepCounts.set(record.id, count);
          if (count > cap) this.excessSteps++;
          break;
        }
        case 'state':
          if (record.state === 'closed' || record.state === 'failed') this.finished++;
          break;
        case 'end':
          this.ended++;
          break;
        default:
          break;
      }
      this.records.push(record);
    }
    if (this.logs.length > this.logLimit * 2) this.logs = this.logs.slice(-this.logLimit);
    const keep = this.limits.keepFinished;
    if (
      this.records.length > this.compactAt ||
      this.finished > keep * 1.5 + 10 ||
      this.ended > keep * 1.5 + 10 ||
      (this.excessSteps > 1_000 && this.excessSteps * 3 > this.records.length)
    ) {
      this.compact();
      this.compactAt = Math.max(this.limit, this.records.length * 2);
    }
  }

  /** Everything a new page needs, oldest first: what was dropped, then the records and (unless told not to) the log. */
  snapshot({ logs: withLogs = true }: { logs?: boolean } = {}): InspectorRecord[] {
    // Steps past the cap are cut lazily; a snapshot gives no more than the cap.
    if (this.excessSteps > 0) this.compact();
    const out: InspectorRecord[] = [];
    if (this.droppedLanes > 0 || this.droppedActors > 0) out.push({ k: 'trimmed', t: this.records[0]?.t ?? 0, lanes: this.droppedLanes, actors: this.droppedActors });
    for (const record of this.records) out.push(record);
    if (!withLogs) return out;
    const logs = this.logs.length > this.logLimit ? this.logs.slice(-this.logLimit) : this.logs;
    for (const log of logs) out.push(log);
    return out;
  }

  /** Records held (the log included). */
  get size(): number {
    return this.records.length + this.logs.length;
  }

  private compact(): void {
    const lastBytes = new Map<string, number>();
    const finishedLanes: string[] = [];
    const endedActors: string[] = [];
    this.records.forEach((record, index) => {
      if (record.k === 'bytes') lastBytes.set(record.lane, index);
      else if (record.k === 'state' && (record.state === 'closed' || record.state === 'failed')) finishedLanes.push(record.lane);
      else if (record.k === 'end') endedActors.push(record.id);
    });
    const keep = this.limits.keepFinished;
    const dropLanes = new Set(finishedLanes.slice(0, Math.max(0, finishedLanes.length - keep)));
    const dropActors = new Set(endedActors.slice(0, Math.max(0, endedActors.length - keep)));
    this.droppedLanes += dropLanes.size;
    this.droppedActors += dropActors.size;
    this.finished = finishedLanes.length - dropLanes.size;
    this.ended = endedActors.length - dropActors.size;
    for (const id of dropActors) {
      this.stepCounts.delete(id);
      this.stepsDropped.delete(id);
    }
    // Steps: each actor keeps its first `head` and its latest ones, `stepsPerActor` in all; where the
    // gap is, one stepsDropped record says how many are missing.
    const cap = this.limits.stepsPerActor;
    const seen = new Map<string, number>();
    const kept: InspectorRecord[] = [];
    for (let index = 0; index < this.records.length; index++) {
      const record = this.records[index]!;
      switch (record.k) {
        case 'bytes':
          if (dropLanes.has(record.lane) || lastBytes.get(record.lane) !== index) continue;
          break;
        case 'lane':
        case 'state':
        case 'peer':
        case 'join':
        case 'tls':
          if (dropLanes.has(record.lane)) continue;
          break;
        case 'actor':
        case 'end':
          if (dropActors.has(record.id)) continue;
          break;
        case 'stepsDropped':
          continue; // written anew at the gap
        case 'step': {
          if (dropActors.has(record.id)) continue;
          const count = this.stepCounts.get(record.id) ?? 0;
          const n = (seen.get(record.id) ?? 0) + 1;
          seen.set(record.id, n);
          if (count > cap && n > this.head && n <= count - (cap - this.head)) {
            if (n === this.head + 1) {
              const total = (this.stepsDropped.get(record.id) ?? 0) + count - cap;
              this.stepsDropped.set(record.id, total);
              kept.push({ k: 'stepsDropped', t: record.t, id: record.id, count: total });
            }
            continue;
          }
          break;
        }
        default:
          break;
      }
      kept.push(record);
    }
    for (const [id, count] of this.stepCounts) if (count > cap) this.stepCounts.set(id, cap);
    this.excessSteps = 0;
    this.records = kept;
  }
}
