// Zero-downtime rolling restart behind a real HAProxy (Debian's): three backend processes
// (test/fixtures/rolling-backend.ts) with PROXY v2, TCP health checks and an agent check, under
// steady load (short request/response connections and long-lived streams) through HAProxy's
// frontend, each SIGTERMed in turn (agent says `drain`, shutdownOn's delay, serverShutdown, drain,
// exit) and started again. Required: no failed request, no reset, no stream line lost or repeated
// (streams still open at a backend's drain deadline are closed gracefully, counted, and resumed by
// the client from the next line). Then the same with `workers: 2` per backend.
// The HAProxy config is test/fixtures/haproxy-rolling.cfg and the shutdown sequence the marked part
// of the fixture; docs/deploy.md quotes both, which the last test checks.
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { until } from './server-helpers.js';
import { spreadPort } from './helpers/spreadPort.js';
import { cleanupsAfterEach } from './helpers/cleanups.js';
import { haproxyRequired, haproxyVersion, spawnHaproxy, whenListening } from './helpers/haproxy.js';
import { spawnTsx } from './helpers/tsxChild.js';

const cleanups = cleanupsAfterEach();
const root = new URL('..', import.meta.url);
const CONFIG_TEMPLATE = readFileSync(new URL('test/fixtures/haproxy-rolling.cfg', root), 'utf8');
const FIXTURE = readFileSync(new URL('test/fixtures/rolling-backend.ts', root), 'utf8');
/** The shutdown sequence as the fixture runs it (between its deploy.md markers). */
const SHUTDOWN_SEQUENCE = /\/\/ deploy\.md:begin\n([\s\S]*?)\/\/ deploy\.md:end\n/.exec(FIXTURE)![1]!;
const REQUEST_LOOPS = 4;
const STREAMS = 4;
/** Pause between one loop's requests, so the load is steady without starving a shared 2-core machine. */
const REQUEST_PAUSE_MS = 5;
const REQUEST_TIMEOUT_MS = 10_000;

interface Backend {
  readonly name: string;
  readonly child: ChildProcess;
  readonly exit: Promise<number | null>;
  output(): string;
}

async function startBackend(name: string, port: number, agentPort: number, workers: number): Promise<Backend> {
  const { child, output, exit } = spawnTsx('test/fixtures/rolling-backend.ts', [name, String(port), String(agentPort), String(workers)]);
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exit;
  });
  await until(() => /^listening \d+$/m.test(output()) || child.exitCode !== null, `${name} to listen`, 30_000);
  if (!/^listening \d+$/m.test(output())) throw new Error(`${name} did not listen: ${output()}`);
  return { name, child, exit, output };
}

async function startHaproxy(ports: Record<string, number>): Promise<void> {
  const haproxy = spawnHaproxy('kamaelia-rolling-', () => CONFIG_TEMPLATE.replace(/\{\{(\w+)\}\}/g, (_, key: string) => String(ports[key] ?? `{{${key}}}`)));
  cleanups.push(haproxy.stop);
  await whenListening(haproxy, ports.FRONTEND_PORT!);
}

interface Outcome {
  readonly ok: boolean;
  readonly by?: string;
  readonly error?: string;
  readonly reset?: boolean;
}

const isReset = (code: string | undefined): boolean => code === 'ECONNRESET' || code === 'EPIPE';

/** One short exchange through HAProxy: connect, `req N`, read `ok N name pid`, close. */
function request(port: number, n: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let data = '';
    let settled = false;
    const finish = (outcome: Outcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const timer = setTimeout(() => {
      socket.destroy();
      finish({ ok: false, error: `no answer within ${REQUEST_TIMEOUT_MS} ms (got ${JSON.stringify(data)})` });
    }, REQUEST_TIMEOUT_MS);
    socket.once('connect', () => socket.write(`req ${n}\n`));
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString('latin1');
      if (data.endsWith('\n')) socket.end();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => finish({ ok: false, error: `${error.code ?? error.message} after ${JSON.stringify(data)}`, reset: isReset(error.code) }));
    socket.once('close', () => {
      const match = /^ok (\d+) (\S+ \d+)\n$/.exec(data);
      if (match && Number(match[1]) === n) finish({ ok: true, by: match[2]! });
      else finish({ ok: false, error: `closed after ${JSON.stringify(data)}` });
    });
  });
}

/** One stream connection from line `from`: resolves with the next line expected and how it ended. */
function stream(port: number, from: number, stopped: () => boolean, onLine: () => void): Promise<{ next: number; how: 'cut' | 'stopped' | 'failed'; error?: string; reset?: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let next = from;
    let pending = '';
    let problem: string | undefined;
    let reset = false;
    let ended = false;
    socket.once('connect', () => socket.write(`stream ${from}\n`));
    const stopTimer = setInterval(() => {
      if (stopped() && !socket.writableEnded) socket.end();
    }, 20);
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      let end: number;
      while ((end = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, end);
        pending = pending.slice(end + 1);
        if (line !== `seq ${next}`) problem ??= `expected "seq ${next}", got "${line}"`;
        next++;
        onLine();
      }
    });
    socket.once('end', () => {
      ended = true;
      if (pending !== '') problem ??= `ended inside a line: ${JSON.stringify(pending)}`;
      socket.end();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      reset ||= isReset(error.code);
      problem ??= `${error.code ?? error.message}`;
    });
    socket.once('close', () => {
      clearInterval(stopTimer);
      if (problem !== undefined) resolve({ next, how: 'failed', error: problem, reset });
      else if (!ended) resolve({ next, how: 'failed', error: 'closed without an end' });
      else resolve({ next, how: socket.writableEnded && stopped() ? 'stopped' : 'cut' });
    });
  });
}

class Load {
  requests = 0;
  readonly failures: string[] = [];
  resets = 0;
  streamLines = 0;
  streamsCut = 0;
  streamsStarted = 0;
  /** Responses per `name pid`. */
  readonly servedBy = new Map<string, number>();
  private running = true;
  private readonly loops: Promise<void>[] = [];
  private readonly start = performance.now();

  constructor(private readonly port: number) {
    for (let i = 0; i < REQUEST_LOOPS; i++) this.loops.push(this.requestLoop(i));
    for (let i = 0; i < STREAMS; i++) this.loops.push(this.streamLoop(i));
  }

  private at(): string {
    return `${((performance.now() - this.start) / 1000).toFixed(2)} s`;
  }

  private async requestLoop(index: number): Promise<void> {
    let n = index * 1_000_000;
    while (this.running) {
      const outcome = await request(this.port, n++);
      this.requests++;
      if (outcome.ok) this.servedBy.set(outcome.by!, (this.servedBy.get(outcome.by!) ?? 0) + 1);
      else this.failures.push(`request ${n - 1} at ${this.at()}: ${outcome.error}`);
      if (outcome.reset) this.resets++;
      await new Promise((resolve) => setTimeout(resolve, REQUEST_PAUSE_MS));
    }
  }

  private async streamLoop(index: number): Promise<void> {
    let next = index * 1_000_000_000;
    while (this.running) {
      this.streamsStarted++;
      const result = await stream(this.port, next, () => !this.running, () => this.streamLines++);
      next = result.next;
      if (result.how === 'cut') this.streamsCut++;
      if (result.how === 'failed') this.failures.push(`stream ${index} at ${this.at()}: ${result.error}`);
      if (result.reset) this.resets++;
    }
  }

  served(name: string, pidsBefore: ReadonlySet<string>): boolean {
    for (const by of this.servedBy.keys()) if (by.startsWith(`${name} `) && !pidsBefore.has(by)) return true;
    return false;
  }

  pidsOf(name: string): Set<string> {
    return new Set([...this.servedBy.keys()].filter((by) => by.startsWith(`${name} `)));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}

describe.skipIf(haproxyVersion === undefined && !haproxyRequired)(`rolling restart behind HAProxy ${haproxyVersion ?? '(missing)'}`, () => {
  it.each([
    { workers: 0, label: 'one process each' },
    { workers: 2, label: 'workers: 2 each' },
  ])(
    'restarts three backends in turn ($label) under load: no failed request, no reset, no stream line lost',
    async ({ workers }) => {
      expect(haproxyVersion, 'haproxy must be installed (.ci/run installs it)').toBeDefined();
      const names = ['app1', 'app2', 'app3'];
      const taken = new Set<number>();
      const ports: Record<string, number> = { FRONTEND_PORT: await spreadPort(taken) };
      for (let i = 1; i <= 3; i++) {
        ports[`APP${i}_PORT`] = await spreadPort(taken);
        ports[`AGENT${i}_PORT`] = await spreadPort(taken);
      }
      const backends = await Promise.all(names.map((name, i) => startBackend(name, ports[`APP${i + 1}_PORT`]!, ports[`AGENT${i + 1}_PORT`]!, workers)));
      await startHaproxy(ports);
      const load = new Load(ports.FRONTEND_PORT!);
      cleanups.push(() => load.stop());
      await until(() => names.every((name) => load.pidsOf(name).size > 0), 'every backend to serve through HAProxy', 15_000);

      const timings: string[] = [];
      for (let i = 0; i < backends.length; i++) {
        const old = backends[i]!;
        const before = load.pidsOf(old.name);
        const requestsBefore = load.requests;
        const t0 = performance.now();
        old.child.kill('SIGTERM');
        const code = await old.exit;
        const exited = performance.now() - t0;
        expect(code, `${old.name} exit code (output: ${old.output()})`).toBe(0);
        expect(old.output()).toMatch(/^done \{/m);
        backends[i] = await startBackend(old.name, ports[`APP${i + 1}_PORT`]!, ports[`AGENT${i + 1}_PORT`]!, workers);
        const listening = performance.now() - t0;
        await until(() => load.served(old.name, before), `${old.name} to serve again through HAProxy`, 15_000);
        const serving = performance.now() - t0;
        timings.push(`${old.name}: exited ${exited.toFixed(0)} ms after SIGTERM, listening again at ${listening.toFixed(0)} ms, serving through HAProxy at ${serving.toFixed(0)} ms; ${load.requests - requestsBefore} requests meanwhile`);
      }
      await load.stop();
      const summary = `workers ${workers}: ${load.requests} requests, ${load.failures.length} failed, ${load.resets} resets; ${load.streamsStarted} stream connections, ${load.streamLines} lines, ${load.streamsCut} cut at a drain deadline and resumed\n${timings.join('\n')}`;
      console.log(summary);
      expect(load.failures, summary).toEqual([]);
      expect(load.resets).toBe(0);
      expect(load.requests).toBeGreaterThan(100);
      expect(load.streamsCut, 'streams were open on a draining backend at its deadline').toBeGreaterThan(0);
      for (const name of names) expect(load.pidsOf(name).size, `${name} served from its old and new processes`).toBeGreaterThanOrEqual(2);
    },
    120_000,
  );
});

describe('docs/deploy.md', () => {
  it('quotes the HAProxy config and the shutdown sequence that the rolling-restart test runs', () => {
    const deploy = readFileSync(new URL('docs/deploy.md', root), 'utf8');
    expect(deploy).toContain(CONFIG_TEMPLATE);
    expect(deploy).toContain(SHUTDOWN_SEQUENCE);
  });
});
