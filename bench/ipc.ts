// The messages between the benchmark client (parent) and a server process (child) over fork IPC.

/** Which echo server a server process runs. */
export type ServerKind = 'raw' | 'ours';

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
  | { readonly cmd: 'stop' };

export type ServerReply =
  /** Sent once, when every listener of the process is bound. `sinkPort` is the raw byte sink. */
  | { readonly type: 'ready'; readonly echoPort: number; readonly sinkPort: number }
  /** Memory after two full garbage collections (the process runs with --expose-gc). */
  | { readonly type: 'memory'; readonly id: number; readonly memory: MemoryFigures }
  /** Connections the echo server holds open right now. */
  | { readonly type: 'connections'; readonly id: number; readonly count: number }
  /** CPU time the server process has used so far (user + system), in microseconds. */
  | { readonly type: 'cpu'; readonly id: number; readonly micros: number }
  | { readonly type: 'failed'; readonly message: string };
