// A real HAProxy (Debian's `haproxy`) in front of a test server: a config generated per test with
// two frontends on free loopback ports, one forwarding with `send-proxy` (v1), one with
// `send-proxy-v2` (and the unique-id TLV), started as a child process and stopped after the test.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../server-helpers.js';

export const HAPROXY = process.env.HAPROXY_PATH ?? 'haproxy';
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

function listens(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Starts HAProxy forwarding to 127.0.0.1:`serverPort` and resolves once it listens. */
export async function startHaproxy(serverPort: number): Promise<RunningHaproxy> {
  const [v1Port, v2Port, probePort] = [await freePort(), await freePort(), await freePort()];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kamaelia-haproxy-'));
  const config = path.join(dir, 'haproxy.cfg');
  writeFileSync(
    config,
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
  // -db: stay in the foreground, log to stderr; killed with the test.
  const child: ChildProcess = spawn(HAPROXY, ['-db', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  child.once('error', (error) => (stderr += String(error)));
  const stop = async (): Promise<void> => {
    if (!exited) child.kill('SIGTERM');
    await exit;
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  while (!(await listens(probePort))) {
    if (exited || Date.now() > deadline) {
      await stop();
      throw new Error(`haproxy did not come up on 127.0.0.1:${v1Port}/${v2Port}: ${stderr || 'no output'}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { v1Port, v2Port, stop };
}
