// agentCheck(handle, { port }): HAProxy's agent protocol on a port of its own, so the load balancer
// takes a server out *before* it stops accepting. HAProxy connects every `agent-inter`, reads one
// line and closes. We answer `up ready` while serving, and `drain` from the first SIGTERM/SIGINT
// (shutdownOn's `delay` is the time HAProxy has to see it); `maint`/`down` can be set by hand.
// A draining server keeps its open connections, gets no new ones, and then shuts down unnoticed.
import net from 'node:net';
import { checkDuration } from '../internet/options.js';
import type { RunResult } from '../kernel/run.js';

/** What the agent tells HAProxy: `up` (serving: `up ready`), `drain` (weight 0: no new connections), `maint` (maintenance), `down` (failed). */
export type AgentState = 'up' | 'drain' | 'maint' | 'down';

const REPLIES: Record<AgentState, string> = {
  // `ready` also takes the server out of a DRAIN or MAINT that an earlier answer (an earlier process) set.
  up: 'up ready\n',
  drain: 'drain\n',
  maint: 'maint\n',
  down: 'down\n',
};

/** Options of {@link agentCheck}. */
export interface AgentCheckOptions {
  /** Port HAProxy's `agent-port` names; 0 picks a free one (see `listening`). */
  readonly port: number;
  /** Address to listen on. @defaultValue '127.0.0.1' */
  readonly host?: string;
  /** Signals on which the agent starts answering `drain` (give shutdownOn the same ones). @defaultValue ['SIGTERM', 'SIGINT'] */
  readonly signals?: readonly NodeJS.Signals[];
  /** Milliseconds an agent connection may stay open without reading its answer before it is closed. @defaultValue 2000 */
  readonly timeout?: number;
}

/** A running agent (see {@link agentCheck}). */
export interface AgentCheck {
  /** What it answers now. */
  readonly state: AgentState;
  /** Changes the answer (e.g. `maint` before a planned restart, `up` after). */
  set(state: AgentState): void;
  /** Resolves with the bound address and port once listening; rejects if it cannot bind. */
  readonly listening: Promise<{ readonly address: string; readonly port: number }>;
  /** Stops the agent (it also stops by itself once the server has ended). */
  close(): Promise<void>;
}

/** What agentCheck needs of a run() handle. */
export interface AgentCheckTarget {
  readonly done: Promise<RunResult>;
}

/**
 * Answers HAProxy's `agent-check` for the server of `handle` on its own port: `up ready` while the
 * server serves, `drain` from the first of `signals` until the server has ended, when the agent
 * closes. Pair it with `shutdownOn(handle, signals, { delay })` whose delay exceeds HAProxy's
 * `agent-inter`, so HAProxy has stopped sending new connections before the server stops accepting.
 * In a cluster (`workers`), call it in the primary only.
 *
 * @example
 * ```ts
 * const server = run(ConnectedServer({ port: 8000, protocol: () => EchoProtocol() }));
 * agentCheck(server, { port: 8001 });
 * shutdownOn(server, ['SIGTERM', 'SIGINT'], { delay: 1_000 });
 * ```
 */
export function agentCheck(handle: AgentCheckTarget, options: AgentCheckOptions): AgentCheck {
  if (!handle || !(handle.done instanceof Promise)) throw new TypeError('agentCheck: handle must be what run() returned');
  if (options === null || typeof options !== 'object') throw new TypeError('agentCheck: options must be an object with port');
  const { port, host = '127.0.0.1', signals = ['SIGTERM', 'SIGINT'] } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`agentCheck: port must be an integer from 0 to 65535, got ${String(port)}`);
  if (!Array.isArray(signals)) throw new TypeError('agentCheck: signals must be an array such as [\'SIGTERM\', \'SIGINT\']');
  const timeout = checkDuration('agentCheck', 'timeout', options.timeout, 2000);
  let state: AgentState = 'up';
  const server = net.createServer((socket) => {
    socket.on('error', () => {}); // HAProxy closing early is no concern of ours
    socket.setTimeout(timeout, () => socket.destroy());
    socket.end(REPLIES[state]);
  });
  const listening = new Promise<{ address: string; port: number }>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host }, () => {
      server.off('error', reject);
      const bound = server.address() as net.AddressInfo;
      resolve({ address: bound.address, port: bound.port });
    });
  });
  listening.catch(() => {}); // reported through `listening` to whoever awaits it
  const onSignal = (): void => {
    if (state === 'up') state = 'drain';
  };
  for (const signal of signals) process.on(signal, onSignal);
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise((resolve) => {
      for (const signal of signals) process.off(signal, onSignal);
      if (!server.listening) resolve();
      else server.close(() => resolve());
    });
    return closing;
  };
  void handle.done.then(close, close);
  return {
    get state() {
      return state;
    },
    set(next: AgentState) {
      if (!(next in REPLIES)) throw new TypeError(`agentCheck: state must be up, drain, maint or down, got ${String(next)}`);
      state = next;
    },
    listening,
    close,
  };
}
