// The bench's handle on its client processes (bench/acceptClient.ts): start them, run accept loops
// in all of them at once, sample their counters and CPU, stop them.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitForReply } from './childReply.js';
import type { ClientReply, ClientRequest, ClientSample } from './ipc.js';
import type { AcceptLoopSettings } from './workloads/acceptRate.js';

const compiled = import.meta.url.endsWith('.js');
const clientEntry = fileURLToPath(new URL(compiled ? './acceptClient.js' : './acceptClient.ts', import.meta.url));

export interface ClientProcesses {
  readonly count: number;
  /** Starts `settings.loops` accept loops in every client process against `host:port`. */
  start(host: string, port: number, settings: AcceptLoopSettings): Promise<void>;
  /** Every client's counters and CPU time now, in process order. */
  sample(): Promise<ClientSample[]>;
  /** Stops the loops in every client and waits for them; their last counters. */
  stop(): Promise<ClientSample[]>;
  close(): Promise<void>;
}

export async function startClientProcesses(count: number): Promise<ClientProcesses> {
  const children: ChildProcess[] = Array.from({ length: count }, () =>
    fork(clientEntry, [], { execArgv: compiled ? [] : ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
  );
  await Promise.all(children.map((child, index) => waitForReply<ClientReply, true>(child, (m) => (m.type === 'ready' ? true : undefined), 20_000, `client ${index + 1} start`)));
  let nextId = 0;
  const askAll = <T>(request: (id: number) => ClientRequest, pick: (m: ClientReply, id: number) => T | undefined, timeoutMs: number): Promise<T[]> =>
    Promise.all(
      children.map((child, index) => {
        const id = nextId++;
        const message = request(id);
        const answer = waitForReply<ClientReply, T>(child, (m) => pick(m, id), timeoutMs, `client ${index + 1} ${message.cmd}`);
        child.send(message);
        return answer;
      }),
    );
  return {
    count,
    start: async (host, port, settings) => {
      await askAll((id) => ({ cmd: 'start', id, host, port, loops: settings.loops, maxConnections: settings.maxConnections }), (m, id) => (m.type === 'started' && m.id === id ? true : undefined), 10_000);
    },
    sample: () => askAll((id) => ({ cmd: 'sample', id }), (m, id) => (m.type === 'sample' && m.id === id ? m.sample : undefined), 10_000),
    stop: () => askAll((id) => ({ cmd: 'stop', id }), (m, id) => (m.type === 'stopped' && m.id === id ? m.sample : undefined), 15_000),
    close: async () => {
      await Promise.all(
        children.map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve();
              const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
              child.once('exit', () => {
                clearTimeout(timer);
                resolve();
              });
              if (child.connected) child.send({ cmd: 'exit' } satisfies ClientRequest);
              else child.kill('SIGTERM');
            }),
        ),
      );
    },
  };
}
