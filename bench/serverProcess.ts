// The client's handle on a forked server process (bench/server.ts): start it, ask it things, stop it.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
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
  const ready = await waitFor(child, (m) => (m.type === 'ready' ? m : undefined), options.timeoutMs ?? 20_000, `${kind} server start`);
  let nextId = 0;
  const ask = <T>(request: ServerRequest & { id: number }, pick: (m: ServerReply) => T | undefined): Promise<T> => {
    const answer = waitFor(child, pick, 30_000, `${kind} server ${request.cmd}`);
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
    connections: () => {
      const id = nextId++;
      return ask({ cmd: 'connections', id }, (m) => (m.type === 'connections' && m.id === id ? m.count : undefined));
    },
    stop: () => stopChild(child),
  };
}

function waitFor<T>(child: ChildProcess, pick: (message: ServerReply) => T | undefined, timeoutMs: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const cleanup = (): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (message: ServerReply): void => {
      if (message.type === 'failed') {
        cleanup();
        reject(new Error(`${what}: ${message.message}`));
        return;
      }
      const picked = pick(message);
      if (picked === undefined) return;
      cleanup();
      resolve(picked);
    };
    const onExit = (code: number | null): void => {
      cleanup();
      reject(new Error(`${what}: the server process exited (${code})`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${what}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
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
