// A TypeScript program of this repository run as a real child process through tsx, with what it
// prints (stdout and stderr together) collected. The caller decides how it is stopped.
import { spawn, type ChildProcess } from 'node:child_process';

export interface TsxChild {
  readonly child: ChildProcess;
  /** Everything it has printed so far, stdout and stderr interleaved as they came. */
  output(): string;
  /** Resolves with its exit code (null when a signal ended it). */
  readonly exit: Promise<number | null>;
}

/** Runs `node --import tsx <script> <args>` from the repository's root. `stdin: true` keeps its stdin open to write to. */
export function spawnTsx(script: string, args: readonly string[] = [], options: { env?: Record<string, string>; stdin?: boolean } = {}): TsxChild {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: new URL('../..', import.meta.url),
    ...(options.env ? { env: { ...process.env, ...options.env } } : {}),
    stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exit };
}
