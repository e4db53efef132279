// HAProxy's own health checks (`check check-send-proxy` with send-proxy-v2, the set-up docs/deploy.md
// recommends) are not rejected proxies: a real HAProxy checks a ConnectedServer with proxyProtocol
// every 50 ms; once it has seen the server UP after three good checks, proxyRejected is still 0.
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConnectedServer, EchoProtocol, run, serverStats } from 'kamaelia-xstate';
import { cleanupsAfterEach } from './helpers/cleanups.js';
import { haproxyRequired, haproxyVersion, spawnHaproxy } from './helpers/haproxy.js';
import { freePort } from './server-helpers.js';

const cleanups = cleanupsAfterEach();
const itWithHaproxy = haproxyVersion !== undefined || haproxyRequired ? it : it.skip;

/** One `show stat` request on HAProxy's stats socket. */
function showStat(socketPath: string): Promise<string> {
  return new Promise((resolve) => {
    let out = '';
    const socket = net.connect({ path: socketPath }, () => socket.end('show stat\n'));
    socket.on('data', (chunk: Buffer) => (out += chunk.toString()));
    socket.on('close', () => resolve(out));
    socket.on('error', () => resolve(''));
  });
}

/** Polls `show stat` until server s1's status is `status`. */
async function waitForStatus(socketPath: string, status: 'UP' | 'DOWN', stderr: () => string): Promise<void> {
  const pattern = new RegExp(`^app,s1,(?:[^,]*,){15}${status},`, 'm');
  const deadline = Date.now() + 10_000;
  let stat = '';
  while (!pattern.test(stat)) {
    if (Date.now() > deadline) throw new Error(`HAProxy never saw the server ${status}: ${stat} ${stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
    stat = await showStat(socketPath);
  }
}

describe('behind a real HAProxy with health checks', () => {
  itWithHaproxy('check-send-proxy checks (PROXY v2 LOCAL, then a reset) are not counted as proxyRejected', async () => {
    const [port, frontendPort] = [await freePort(), await freePort()];
    const haproxy = spawnHaproxy('kamaelia-haproxy-check-', (dir) =>
      [
        'global',
        `  stats socket ${path.join(dir, 'stats.sock')} level user`,
        'defaults',
        '  mode tcp',
        '  timeout connect 2s',
        '  timeout client 30s',
        '  timeout server 30s',
        'frontend app_in',
        `  bind 127.0.0.1:${frontendPort}`,
        '  default_backend app',
        'backend app',
        `  server s1 127.0.0.1:${port} send-proxy-v2 check check-send-proxy inter 50 rise 3 fall 1`,
        '',
      ].join('\n'),
    );
    cleanups.push(haproxy.stop);
    const stats = path.join(haproxy.dir, 'stats.sock');
    // Nothing listens yet: HAProxy marks the server DOWN. Then it comes up, and after `rise 3`
    // good checks HAProxy marks it UP: at least three checks have reached the server by then.
    await waitForStatus(stats, 'DOWN', haproxy.stderr);
    const server = run(ConnectedServer({ port, host: '127.0.0.1', proxyProtocol: { trusted: ['127.0.0.1'] }, protocol: EchoProtocol }));
    cleanups.push(() => server.stop());
    await server.next('listening', { timeoutMs: 5000 });
    await waitForStatus(stats, 'UP', haproxy.stderr);
    expect(serverStats(server.actor)!.proxyRejected).toBe(0);
  });
});
