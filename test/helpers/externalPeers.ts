// Real peers from outside Node (openssl, python3, socat) for the tests that need one. Where a tool
// is missing the test is skipped locally with a warning, but under CI (CI=true, where .ci/run
// installs the tools) it runs and fails: a missing peer must never pass silently there.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'vitest';

const found = new Map<string, boolean>();

export function hasCommand(name: string): boolean {
  let known = found.get(name);
  if (known === undefined) {
    known = spawnSync('sh', ['-c', 'command -v "$1"', 'sh', name], { stdio: 'ignore' }).status === 0;
    found.set(name, known);
  }
  return known;
}

/** `it` that runs when every command is installed or CI=true (then a missing one fails the test), else skips. */
export function itWith(...commands: string[]): ReturnType<typeof it.skipIf> {
  const missing = commands.filter((name) => !hasCommand(name));
  const skip = missing.length > 0 && process.env.CI !== 'true';
  if (skip) console.warn(`skipping tests that need ${missing.join(', ')} (not installed; .ci/run installs it)`);
  return it.skipIf(skip);
}

export interface ExternalPeer {
  readonly port: number;
  /** The process; its stdin is a pipe the test may write to or end. */
  readonly child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  readonly output: () => string;
  stop(): Promise<void>;
}

/** Spawns `command args`, waits until its output matches `ready` (whose group 1 is the port). */
export function spawnPeer(command: string, args: string[], ready: RegExp, cleanupDir?: string): Promise<ExternalPeer> {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      await exited;
    }
    if (cleanupDir) rmSync(cleanupDir, { recursive: true, force: true });
  };
  return new Promise<ExternalPeer>((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${command} did not become ready within 10 s; output: ${output}`));
    }, 10_000);
    const onOutput = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = ready.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ port: Number(match[1]), child, output: () => output, stop });
      }
    };
    child.stdout!.on('data', onOutput);
    child.stderr!.on('data', onOutput);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${command} (a real peer this test needs): ${error.message}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited (${String(code)}) before it was ready; output: ${output}`));
    });
  });
}

export interface OpensslServerOptions {
  readonly cert: string;
  readonly key: string;
  /** A second certificate, presented when the client's SNI is `servername`. */
  readonly sni?: { readonly servername: string; readonly cert: string; readonly key: string };
}

/** `openssl s_server` on 127.0.0.1 (implicit TLS), answering each line reversed (`-rev`). */
export function opensslServer(options: OpensslServerOptions): Promise<ExternalPeer> {
  const dir = mkdtempSync(join(tmpdir(), 'kamaelia-openssl-'));
  const file = (name: string, pem: string): string => {
    const path = join(dir, name);
    writeFileSync(path, pem);
    return path;
  };
  const args = ['s_server', '-accept', '127.0.0.1:0', '-rev', '-cert', file('cert.pem', options.cert), '-key', file('key.pem', options.key)];
  if (options.sni) {
    args.push('-servername', options.sni.servername, '-cert2', file('cert2.pem', options.sni.cert), '-key2', file('key2.pem', options.sni.key));
  }
  return spawnPeer('openssl', args, /ACCEPT 127\.0\.0\.1:(\d+)/, dir);
}
