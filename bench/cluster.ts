// `npm run bench:cluster`: accept rate and 64-byte ping-pong against an echo server run with 1, 2
// and 4 cluster workers (this machine's cores, and twice them when it has 2), raw node:cluster +
// node:net against ours (ConnectedServer with `workers`), alternating raw and ours in the same run.
// Besides the rates it reports the server's CPU per operation (primary and workers together, from
// /proc), steadier than a rate on a shared machine. Options: --runs=N (default 3), --workers=1,2,4.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { acceptRate } from './workloads/acceptRate.js';
import { pingPong } from './workloads/pingPong.js';
import { formatFigure, median } from './stats.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, workers: { type: 'string' } } });
const runs = Number(values.runs);
const cores = os.availableParallelism();
const workerCounts = (values.workers ?? [...new Set([1, 2, cores, cores * 2])].join(',')).split(',').map(Number);
const host = '127.0.0.1';
const window = { warmupMs: 500, windowMs: 2_000 };
const serverScript = fileURLToPath(new URL('./servers/clusterEchoServer.js', import.meta.url));
const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** CPU seconds used so far by `pid` and every process whose parent it is (its cluster workers). */
function treeCpuSeconds(pid: number): number {
  let ticks = 0;
  const ofProcess = (p: string): { ppid: number; ticks: number } | undefined => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
    } catch {
      return undefined;
    }
  };
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const info = ofProcess(entry);
    if (info && (Number(entry) === pid || info.ppid === pid)) ticks += info.ticks;
  }
  return ticks / TICKS_PER_SECOND;
}

async function startServer(kind: 'raw' | 'ours', workers: number): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [serverScript, kind, String(workers)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${kind} ${workers}: no port within 30 s: ${output}`)), 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening (\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
  });
  return { child, port };
}

async function stopServer(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

type Row = { accept: number; acceptCpuMicros: number; ping: number; pingCpuMicros: number };
const results = new Map<string, Row[]>();

for (let run = 1; run <= runs; run++) {
  for (const workers of workerCounts) {
    for (const kind of ['raw', 'ours'] as const) {
      const { child, port } = await startServer(kind, workers);
      const pid = child.pid!;
      let cpu = treeCpuSeconds(pid);
      const accept = await acceptRate(host, port, { ...window, loops: 50, maxConnections: 200_000 });
      const afterAccept = treeCpuSeconds(pid);
      const acceptCpuMicros = ((afterAccept - cpu) * 1e6) / accept.operations;
      cpu = afterAccept;
      const ping = await pingPong(host, port, 50, window);
      const pingCpuMicros = ((treeCpuSeconds(pid) - cpu) * 1e6) / ping.operations;
      await stopServer(child);
      const key = `${kind} ${workers}`;
      results.set(key, [...(results.get(key) ?? []), { accept: accept.connectionsPerSecond, acceptCpuMicros, ping: ping.messagesPerSecond, pingCpuMicros }]);
      process.stderr.write(`run ${run}: ${key} workers: ${formatFigure(accept.connectionsPerSecond)} conn/s, ${formatFigure(ping.messagesPerSecond)} msg/s\n`);
    }
  }
}

const med = (key: string, field: keyof Row): number => median((results.get(key) ?? []).map((row) => row[field]));
console.log(`\ncluster workers on ${cores} cores (${os.cpus()[0]?.model ?? 'cpu'}), medians of ${runs} alternating runs; the client runs on the same machine\n`);
console.log('| workers | accept raw conn/s | accept ours conn/s | ours/raw | server CPU µs/conn raw / ours | ping-pong raw msg/s | ping-pong ours msg/s | ours/raw | server CPU µs/msg raw / ours |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const workers of workerCounts) {
  const [raw, ours] = [`raw ${workers}`, `ours ${workers}`];
  console.log(
    `| ${workers} | ${formatFigure(med(raw, 'accept'))} | ${formatFigure(med(ours, 'accept'))} | ${(med(ours, 'accept') / med(raw, 'accept')).toFixed(2)} | ` +
      `${med(raw, 'acceptCpuMicros').toFixed(0)} / ${med(ours, 'acceptCpuMicros').toFixed(0)} | ` +
      `${formatFigure(med(raw, 'ping'))} | ${formatFigure(med(ours, 'ping'))} | ${(med(ours, 'ping') / med(raw, 'ping')).toFixed(2)} | ` +
      `${med(raw, 'pingCpuMicros').toFixed(1)} / ${med(ours, 'pingCpuMicros').toFixed(1)} |`,
  );
}
