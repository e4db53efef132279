// The client's handle on a forked server process (bench/server.ts): start it, ask it things, stop it.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitForReply } from './childReply.js';
import type { MemoryFigures, ServerKind, ServerReply, ServerRequest } from './ipc.js';

// Run from source through tsx (npm run bench), or from a tsc build (for profiles with real names).
const compiled = import.meta.url.endsWith('.js');
const serverEntry = fileURLToPath(new URL(compiled ? './server.js' : './server.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('..', import.meta.url));

export interface ServerProcess {
  readonly kind: ServerKind;
  readonly echoPort: number;
  readonly sinkPort: number;
  memory(): Promise<MemoryFigures>;
  /** CPU time (user + system) the server process has used so far, in microseconds. */
  cpuMicros(): Promise<number>;
  /** The same, with the moment the server read it (`process.hrtime` nanoseconds). */
  cpuSample(): Promise<{ readonly micros: number; readonly nanos: number }>;
  /** Two full GCs, then a heap snapshot written to `path`; resolves with the path written. */
  heapSnapshot(path: string): Promise<string>;
  /** Open connections on the echo server, or -1 if it cannot tell. */
  connections(): Promise<number>;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Extra node flags, e.g. `--cpu-prof --cpu-prof-dir=bench/profiles`. */
  readonly nodeFlags?: readonly string[];
  readonly timeoutMs?: number;
}

export async function startServerProcess(kind: ServerKind, options: StartOptions = {}): Promise<ServerProcess> {
  const child = fork(serverEntry, [kind], {
    cwd: repoRoot,
    execArgv: [...(compiled ? [] : ['--import', 'tsx']), '--expose-gc', ...(options.nodeFlags ?? [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await waitForReply<ServerReply, Extract<ServerReply, { type: 'ready' }>>(child, (m) => (m.type === 'ready' ? m : undefined), options.timeoutMs ?? 20_000, `${kind} server start`);
  let nextId = 0;
  const ask = <T>(request: ServerRequest & { id: number }, pick: (m: ServerReply) => T | undefined, timeoutMs = 30_000): Promise<T> => {
    const answer = waitForReply(child, pick, timeoutMs, `${kind} server ${request.cmd}`);
    child.send(request);
    return answer;
  };
  return {
    kind,
    echoPort: ready.echoPort,
    sinkPort: ready.sinkPort,
    memory: () => {
      const id = nextId++;
      return ask({ cmd: 'memory', id }, (m) => (m.type === 'memory' && m.id === id ? m.memory : undefined));
    },
    cpuMicros: () => {
      const id = nextId++;
      return ask({ cmd: 'cpu', id }, (m) => (m.type === 'cpu' && m.id === id ? m.micros : undefined));
    },
    cpuSample: () => {
      const id = nextId++;
      return ask({ cmd: 'cpu', id }, (m) => (m.type === 'cpu' && m.id === id ? { micros: m.micros, nanos: m.nanos } : undefined));
    },
    heapSnapshot: (path) => {
      const id = nextId++;
      return ask({ cmd: 'heapSnapshot', id, path }, (m) => (m.type === 'heapSnapshot' && m.id === id ? m.path : undefined), 120_000);
    },
    connections: () => {
      const id = nextId++;
      return ask({ cmd: 'connections', id }, (m) => (m.type === 'connections' && m.id === id ? m.count : undefined));
    },
    stop: () => stopChild(child),
  };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    if (child.connected) child.send({ cmd: 'stop' } satisfies ServerRequest);
    else child.kill('SIGTERM');
  });
}
