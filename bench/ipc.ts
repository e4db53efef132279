// The messages between the benchmark client (parent) and a server process (child) over fork IPC.

/**
 * Which echo server a server process runs: raw node:net, ours, or `floor` (raw node:net plus one
 * bare XState machine actor per connection: what XState alone costs, beside which the rest of ours
 * is the library's own; `npm run bench -- --ours=floor`).
 */
export type ServerKind = 'raw' | 'ours' | 'floor';

export interface MemoryFigures {
  readonly heapUsed: number;
  readonly external: number;
  readonly arrayBuffers: number;
  readonly rss: number;
}

export type ServerRequest =
  | { readonly cmd: 'memory'; readonly id: number }
  | { readonly cmd: 'connections'; readonly id: number }
  | { readonly cmd: 'cpu'; readonly id: number }
  /** Two full GCs, then a V8 heap snapshot written to `path` (bench/heap-diff.ts). */
  | { readonly cmd: 'heapSnapshot'; readonly id: number; readonly path: string }
  | { readonly cmd: 'stop' };

export type ServerReply =
  /** Sent once, when every listener of the process is bound. `sinkPort` is the raw byte sink. */
  | { readonly type: 'ready'; readonly echoPort: number; readonly sinkPort: number }
  /** Memory after two full garbage collections (the process runs with --expose-gc). */
  | { readonly type: 'memory'; readonly id: number; readonly memory: MemoryFigures }
  /** Connections the echo server holds open right now. */
  | { readonly type: 'connections'; readonly id: number; readonly count: number }
  /**
   * CPU time the server process has used so far (user + system), in microseconds, and when it read
   * it (`process.hrtime`, in nanoseconds: one monotonic clock for every process on the host).
   */
  | { readonly type: 'cpu'; readonly id: number; readonly micros: number; readonly nanos: number }
  | { readonly type: 'heapSnapshot'; readonly id: number; readonly path: string }
  | { readonly type: 'failed'; readonly message: string };

/** What a client process (bench/acceptClient.ts) is told: run accept loops, sample them, stop. */
export type ClientRequest =
  | { readonly cmd: 'start'; readonly id: number; readonly host: string; readonly port: number; readonly loops: number; readonly maxConnections: number }
  | { readonly cmd: 'sample'; readonly id: number }
  | { readonly cmd: 'stop'; readonly id: number }
  | { readonly cmd: 'exit' };

/** A client process's counters at one moment: connections done, failures, its own CPU time. */
export interface ClientSample {
  readonly completed: number;
  readonly errors: number;
  /** CPU time the client process has used so far (user + system), in microseconds. */
  readonly cpuMicros: number;
  /** When the sample was taken (`process.hrtime`, nanoseconds). */
  readonly nanos: number;
}

export type ClientReply =
  | { readonly type: 'ready' }
  | { readonly type: 'started'; readonly id: number }
  | { readonly type: 'sample'; readonly id: number; readonly sample: ClientSample }
  | { readonly type: 'stopped'; readonly id: number; readonly sample: ClientSample }
  | { readonly type: 'failed'; readonly message: string };
