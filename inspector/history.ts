// What a page that connects late is sent: every record so far, except that it stays bounded. When
// it grows past its limit, superseded byte counts and the oldest finished connections and actors
// are dropped (a recording file keeps everything); the log keeps only its most recent entries.
import type { InspectorRecord, LogRecord } from './records.js';

export interface HistoryOptions {
  /** Records kept for late joiners before compaction (default 200 000). */
  readonly limit?: number;
  /** Finished connections (and finished actors) kept by a compaction (default 2 000 each). */
  readonly keepFinished?: number;
  /** Log records kept (default 1 000). */
  readonly logLimit?: number;
}

export class History {
  private records: InspectorRecord[] = [];
  private logs: LogRecord[] = [];
  private readonly limit: number;
  private readonly keepFinished: number;
  private readonly logLimit: number;
  /** Size at which to compact next: twice what the last compaction kept, so that compacting a
   *  history of mostly live connections does not repeat on every batch. */
  private compactAt: number;

  constructor(options: HistoryOptions = {}) {
    this.limit = options.limit ?? 200_000;
    this.compactAt = this.limit;
    this.keepFinished = options.keepFinished ?? 2_000;
    this.logLimit = options.logLimit ?? 1_000;
  }

  add(records: readonly InspectorRecord[]): void {
    for (const record of records) {
      if (record.k === 'log') this.logs.push(record);
      else if (record.k !== 'dropped') this.records.push(record);
    }
    if (this.logs.length > this.logLimit * 2) this.logs = this.logs.slice(-this.logLimit);
    if (this.records.length > this.compactAt) {
      this.compact();
      this.compactAt = Math.max(this.limit, this.records.length * 2);
    }
  }

  /** Everything a new page needs, oldest first. */
  snapshot(): InspectorRecord[] {
    const logs = this.logs.slice(-this.logLimit);
    return [...this.records, ...logs];
  }

  get size(): number {
    return this.records.length;
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
    const dropLanes = new Set(finishedLanes.slice(0, Math.max(0, finishedLanes.length - this.keepFinished)));
    const dropActors = new Set(endedActors.slice(0, Math.max(0, endedActors.length - this.keepFinished)));
    this.records = this.records.filter((record, index) => {
      switch (record.k) {
        case 'bytes':
          return !dropLanes.has(record.lane) && lastBytes.get(record.lane) === index;
        case 'lane':
        case 'state':
        case 'peer':
        case 'join':
        case 'tls':
          return !dropLanes.has(record.lane);
        case 'actor':
        case 'end':
        case 'step':
          return !dropActors.has(record.id);
        default:
          return true;
      }
    });
  }
}
