// ConnectedServer with `workers` (node:cluster) in a child process: connections are served by the
// worker processes and never the primary; a SIGKILLed worker is reported and replaced while service
// goes on; stats are totalled; the workers' inspector records reach the primary labelled by worker;
// serverShutdown leaves no process behind; workers that keep crashing are given up on; suspending
// accepting reaches every worker's server machine and is undone by resuming.
import type { ChildProcess } from 'node:child_process';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { connect, readBytes, until } from './server-helpers.js';
import { cleanupsAfterEach } from './helpers/cleanups.js';
import { spawnTsx } from './helpers/tsxChild.js';

const cleanups = cleanupsAfterEach();

interface Fixture {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exit: Promise<number | null>;
  command(line: string): void;
}

function startFixture(env: Record<string, string> = {}): Fixture {
  const { child, output, exit } = spawnTsx('test/fixtures/cluster-server.ts', [], { env, stdin: true });
  cleanups.push(async () => {
    // Never leave a cluster behind, pass or fail: the workers first, then the primary.
    for (const pid of pidsIn(output(), 'worker')) tryKill(pid);
    child.kill('SIGKILL');
    await exit;
  });
  return { child, output, exit, command: (line) => child.stdin!.write(`${line}\n`) };
}

function pidsIn(output: string, label: string): number[] {
  return [...output.matchAll(new RegExp(`^${label} (\\d+)$`, 'gm'))].map((match) => Number(match[1]));
}

function tryKill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Connects and resolves with the socket and the pid of the process that greeted it. */
async function servedBy(port: number): Promise<{ socket: net.Socket; pid: number }> {
  const socket = await connect(port);
  cleanups.push(() => void socket.destroy());
  const greeting = await new Promise<string>((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`no greeting within 10 s, got ${JSON.stringify(text)}`)), 10_000);
    const onData = (chunk: Buffer): void => {
      text += chunk.toString();
      if (!text.includes('\n')) return;
      clearTimeout(timer);
      socket.off('data', onData);
      resolve(text);
    };
    socket.on('data', onData);
  });
  return { socket, pid: Number(/^pid (\d+)/.exec(greeting)![1]) };
}

function lastLine(output: string, prefix: string): string | undefined {
  const lines = output.split('\n').filter((line) => line.startsWith(`${prefix} `));
  return lines.at(-1)?.slice(prefix.length + 1);
}

describe('ConnectedServer with workers', () => {
  it('serves from two worker processes, not the primary; survives a SIGKILLed worker; shuts down leaving no process', async () => {
    const fixture = startFixture();
    await until(() => /^listening \d+$/m.test(fixture.output()), 'the cluster to listen', 30_000);
    const port = Number(/^listening (\d+)$/m.exec(fixture.output())![1]);
    const primary = pidsIn(fixture.output(), 'primary')[0]!;
    expect(pidsIn(fixture.output(), 'worker')).toHaveLength(2);

    const served = [];
    for (let i = 0; i < 12; i++) served.push(await servedBy(port));
    const pids = new Set(served.map(({ pid }) => pid));
    expect(pids.size).toBeGreaterThanOrEqual(2);
    expect(pids.has(primary)).toBe(false);
    for (const pid of pids) expect(pidsIn(fixture.output(), 'worker')).toContain(pid);

    // serverStats in the primary totals the workers' counters (reported a few times a second).
    await until(
      () => {
        fixture.command('stats');
        const stats = lastLine(fixture.output(), 'stats');
        return stats !== undefined && (JSON.parse(stats) as { accepted: number; open: number }).accepted >= 12;
      },
      'the primary to count 12 connections',
      10_000,
    );
    expect(JSON.parse(lastLine(fixture.output(), 'stats')!)).toMatchObject({ accepted: 12, open: 12 });

    // The workers' connection lanes reach the primary, labelled by worker.
    await until(
      () => {
        fixture.command('records');
        const lanes = JSON.parse(lastLine(fixture.output(), 'records') ?? '[]') as string[];
        return lanes.some((lane) => lane.startsWith('1 w1/')) && lanes.some((lane) => lane.startsWith('2 w2/'));
      },
      'lanes from both workers',
      10_000,
    );
    expect(lastLine(fixture.output(), 'records')).toMatch(/worker 1\/ConnectedServer/);

    const [victim, survivor] = [...pids] as [number, number];
    process.kill(victim, 'SIGKILL');
    await until(() => fixture.output().includes('EWORKERCRASHED'), 'the crash reported on signal', 10_000);
    expect(fixture.output()).toMatch(new RegExp(`worker \\d \\(pid ${victim}\\) was killed by SIGKILL; restarting it in \\d+ ms`));
    const onSurvivor = served.find(({ pid }) => pid === survivor)!.socket;
    onSurvivor.write('still here');
    expect((await readBytes(onSurvivor, 10)).toString()).toBe('still here');
    await until(() => pidsIn(fixture.output(), 'worker').length === 3, 'a replacement worker', 30_000);
    const after = [];
    for (let i = 0; i < 6; i++) after.push(await servedBy(port));
    expect(after.every(({ pid }) => pid !== victim && pid !== primary)).toBe(true);

    fixture.command('shutdown');
    for (const { socket } of [...served, ...after]) socket.end();
    expect(await fixture.exit).toBe(0);
    expect(fixture.output()).toMatch(/^done \{"status":"done"\}$/m);
    await until(() => pidsIn(fixture.output(), 'worker').every((pid) => !alive(pid)), 'every worker gone', 5000);
    expect(alive(primary)).toBe(false);
  }, 90_000);

  it('suspendAccepting in the primary closes every worker to new clients while open connections go on; resumeAccepting reopens', async () => {
    const fixture = startFixture();
    await until(() => /^listening \d+$/m.test(fixture.output()), 'the cluster to listen', 30_000);
    const port = Number(/^listening (\d+)$/m.exec(fixture.output())![1]);
    const open = await servedBy(port);
    const attempt = (): Promise<string> =>
      new Promise((resolve) => {
        const socket = net.connect({ port, host: '127.0.0.1' });
        socket.once('connect', () => {
          socket.destroy();
          resolve('connected');
        });
        socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
      });
    /** Tries until a connection attempt ends in `wanted` (the workers hear the primary a moment later). */
    const eventually = async (wanted: string, what: string): Promise<void> => {
      let last = '';
      for (let i = 0; i < 200; i++) {
        if ((last = await attempt()) === wanted) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`${what}: still ${last} after 10 s`);
    };
    fixture.command('suspend');
    await until(() => lastLine(fixture.output(), 'suspend') === 'true', 'the primary to pass suspend on');
    await eventually('ECONNREFUSED', 'new clients refused once both workers closed their listening socket');
    open.socket.write('still served');
    expect((await readBytes(open.socket, 12)).toString()).toBe('still served');
    fixture.command('resume');
    await until(() => lastLine(fixture.output(), 'resume') === 'true', 'the primary to pass resume on');
    await eventually('connected', 'accepted again after resumeAccepting');
    const again = await servedBy(port);
    again.socket.write('back');
    expect((await readBytes(again.socket, 4)).toString()).toBe('back');
    fixture.command('shutdown');
    open.socket.end();
    again.socket.end();
    expect(await fixture.exit).toBe(0);
  }, 60_000);

  it('gives up on workers that keep crashing, says so on signal, and ends', async () => {
    const fixture = startFixture({ CRASH_WORKERS: '1' });
    expect(await fixture.exit).toBe(0);
    const output = fixture.output();
    expect(output.match(/EWORKERCRASHED/g)).toHaveLength(4); // two restarts for each of two workers
    expect(output.match(/EWORKERGIVENUP/g)).toHaveLength(2);
    expect(output).toMatch(/crashed 3 times within 60000 ms, so it is not restarted/);
    expect(output).toMatch(/^done \{"status":"error","reason":\{"code":"ENOWORKERS"/m);
    expect(output).not.toMatch(/^listening/m);
  }, 90_000);
});
