// A real HAProxy (Debian's `haproxy`) for the tests: spawnHaproxy runs one on a config a test
// writes (in a temporary directory of its own, removed when it stops); startHaproxy puts one in
// front of a test server with two frontends on free loopback ports, one forwarding with
// `send-proxy` (v1), one with `send-proxy-v2` (and the unique-id TLV).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../server-helpers.js';

const HAPROXY = process.env.HAPROXY_PATH ?? 'haproxy';
/** CI (CI=true) fails the HAProxy tests when haproxy is missing instead of skipping them. */
export const haproxyRequired = process.env.CI === 'true';
const probe = spawnSync(HAPROXY, ['-v'], { encoding: 'utf8' });
export const haproxyVersion: string | undefined = probe.status === 0 ? /HA-?Proxy version (\S+)/i.exec(probe.stdout)?.[1] : undefined;

export interface RunningHaproxy {
  /** Frontend whose backend sends a PROXY v1 line. */
  readonly v1Port: number;
  /** Frontend whose backend sends a PROXY v2 header with a unique-id TLV. */
  readonly v2Port: number;
  stop(): Promise<void>;
}

/** True once something accepts on 127.0.0.1:`port` (the probe connection is closed at once, sending nothing). */
export function listens(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A HAProxy child process running on a config in a temporary directory of its own. */
export interface HaproxyProcess {
  /** The directory holding the config (and any sockets the config puts there). */
  readonly dir: string;
  /** What HAProxy wrote to stderr so far. */
  stderr(): string;
  /** Whether it has exited. */
  exited(): boolean;
  /** Ends it (SIGTERM), waits for its exit, removes the directory. */
  stop(): Promise<void>;
}

/**
 * Writes `config(dir)` as haproxy.cfg into a fresh temporary directory (`prefix`…) and runs HAProxy
 * on it in the foreground (-db, logging to stderr).
 */
export function spawnHaproxy(prefix: string, config: (dir: string) => string): HaproxyProcess {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  const file = path.join(dir, 'haproxy.cfg');
  writeFileSync(file, config(dir));
  const child: ChildProcess = spawn(HAPROXY, ['-db', '-f', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  child.once('error', (error) => (stderr += String(error)));
  return {
    dir,
    stderr: () => stderr,
    exited: () => exited,
    stop: async () => {
      if (!exited) child.kill('SIGTERM');
      await exit;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves once `haproxy` accepts on `port`; stops it and throws with its stderr if it exits or takes 10 s. */
export async function whenListening(haproxy: HaproxyProcess, port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await listens(port))) {
    if (haproxy.exited() || Date.now() > deadline) {
      await haproxy.stop();
      throw new Error(`haproxy did not come up on 127.0.0.1:${port}: ${haproxy.stderr() || 'no output'}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Starts HAProxy forwarding to 127.0.0.1:`serverPort` and resolves once it listens. */
export async function startHaproxy(serverPort: number): Promise<RunningHaproxy> {
  const [v1Port, v2Port, probePort] = [await freePort(), await freePort(), await freePort()];
  const haproxy = spawnHaproxy('kamaelia-haproxy-', () =>
    [
      'global',
      '  maxconn 256',
      'defaults',
      '  mode tcp',
      '  timeout connect 2s',
      '  timeout client 30s',
      '  timeout server 30s',
      // Readiness is probed here: HAProxy binds every frontend before it serves any, and a probe of
      // this one never reaches the test server (a probe through the others could, on a retry).
      'frontend probe',
      `  bind 127.0.0.1:${probePort}`,
      '  tcp-request connection reject',
      `frontend via_v1`,
      `  bind 127.0.0.1:${v1Port}`,
      '  default_backend to_v1',
      'backend to_v1',
      `  server app 127.0.0.1:${serverPort} send-proxy`,
      'frontend via_v2',
      `  bind 127.0.0.1:${v2Port}`,
      '  unique-id-format test-%ci-%cp',
      '  default_backend to_v2',
      'backend to_v2',
      `  server app 127.0.0.1:${serverPort} send-proxy-v2 proxy-v2-options unique-id`,
      '',
    ].join('\n'),
  );
  await whenListening(haproxy, probePort);
  return { v1Port, v2Port, stop: haproxy.stop };
}
