// examples/prometheusMetrics.ts run as a program, its metrics scraped over HTTP as Prometheus would:
// the real @opentelemetry/exporter-prometheus serving kamaelia-xstate/otel's instruments, in one
// process and with `workers: 2`, where the workers' connections are counted by the primary.
import { describe, expect, it } from 'vitest';
import { closed, connect, readBytes, until } from './server-helpers.js';
import { spreadPort } from './helpers/spreadPort.js';
import { cleanupsAfterEach } from './helpers/cleanups.js';
import { spawnTsx } from './helpers/tsxChild.js';

const cleanups = cleanupsAfterEach();

async function startExample(workers: number): Promise<{ port: number; metricsPort: number; output: () => string; exit: Promise<number | null>; stop: () => void }> {
  const metricsPort = await spreadPort();
  const { child, output, exit } = spawnTsx('examples/prometheusMetrics.ts', ['0', String(metricsPort), String(workers)]);
  cleanups.push(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await exit;
  });
  await until(() => /echo server on 127\.0\.0\.1:\d+/.test(output()) || child.exitCode !== null, 'the example to listen', 30_000);
  const match = /echo server on 127\.0\.0\.1:(\d+)/.exec(output());
  if (!match) throw new Error(`the example did not listen: ${output()}`);
  return { port: Number(match[1]), metricsPort, output, exit, stop: () => void child.kill('SIGINT') };
}

async function scrape(metricsPort: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  expect(response.status).toBe(200);
  return response.text();
}

/** The value of the sample whose line starts with `name{` and has all of `labels`, summed over the rest. */
function sample(text: string, name: string, labels: Record<string, string | number> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`))) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

describe('examples/prometheusMetrics.ts scraped over HTTP', () => {
  it.each([
    { workers: 0, label: 'one process' },
    { workers: 2, label: 'workers: 2, counted in the primary' },
  ])('serves Kestrel-style connection metrics ($label)', async ({ workers }) => {
    const example = await startExample(workers);
    const clients = await Promise.all([0, 1, 2, 3].map(() => connect(example.port)));
    for (const client of clients) {
      client.write('ping');
      expect((await readBytes(client, 4)).toString()).toBe('ping');
    }
    for (const client of clients.slice(0, 3)) {
      client.end();
      await closed(client);
    }
    let text = '';
    const labels = { network_transport: 'tcp', server_address: '127.0.0.1', server_port: example.port };
    // The workers report every 200 ms: scrape until the counts are there.
    const deadline = Date.now() + 10_000;
    for (;;) {
      text = await scrape(example.metricsPort);
      if (sample(text, 'kamaelia_connection_duration_count', labels) === 3 && sample(text, 'kamaelia_active_connections', labels) === 1) break;
      if (Date.now() > deadline) throw new Error(`metrics never showed 3 closed and 1 open connections:\n${text}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(text).toContain('# TYPE kamaelia_connection_duration histogram');
    if (workers > 0) {
      // Each connection was served by a worker; the primary labels its events by worker.
      expect(text).toMatch(/kamaelia_worker="[12]"/);
    } else {
      expect(text).not.toContain('kamaelia_worker');
    }
    clients[3]!.end();
    await closed(clients[3]!);
    example.stop();
    expect(await example.exit).toBe(0);
  }, 60_000);
});
