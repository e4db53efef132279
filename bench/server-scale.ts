// Holds many concurrent connections (default 10,000) on one server process and prints the memory
// each costs: ConnectedServer(EchoProtocol) and a raw node:net echo server, measured the same way
// in the same run. Clients live in a child process; everything stays on 127.0.0.1.
//   npx tsx bench/server-scale.ts [connections]
// Roles (argv[2]): none = orchestrator; 'clients <port> <count>'. The server half is
// bench/server-scale-server.mjs, run on the compiled library (the orchestrator builds dist/ first).
// File descriptors: the server needs one per connection, the client process too. If the soft
// limit (ulimit -n) is too low the orchestrator re-runs itself under `sh -c 'ulimit -n <hard>'`; if
// the hard limit is too low it says so and stops.
import { execFileSync, fork, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

const SELF = fileURLToPath(import.meta.url);
const SERVER = fileURLToPath(new URL('./server-scale-server.mjs', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HOST = '127.0.0.1';
const CHILD_EXEC_ARGV = ['--import', 'tsx'];

type Message = Record<string, unknown> & { type: string };

interface Memory {
  readonly heap: number;
  readonly rss: number;
  readonly external: number;
}

function nextMessage(child: ChildProcess, type: string): Promise<Message> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: Message): void => {
      if (message.type !== type) return;
      child.off('message', onMessage);
      resolve(message);
    };
    child.on('message', onMessage);
    child.once('exit', (code) => reject(new Error(`child exited (${code}) while waiting for ${type}`)));
  });
}

// ---- clients role ---------------------------------------------------------------------------------
async function clientsRole(port: number, count: number): Promise<void> {
  const sockets: net.Socket[] = [];
  const started = Date.now();
  const BATCH = 200;
  for (let i = 0; i < count; i += BATCH) {
    // Each connection sends one byte and waits for its echo, so the server has fully set it up.
    const batch = Array.from(
      { length: Math.min(BATCH, count - i) },
      () =>
        new Promise<void>((resolve, reject) => {
          const socket = net.connect({ port, host: HOST });
          socket.once('error', reject);
          socket.once('connect', () => socket.write('x'));
          socket.once('data', () => resolve());
          sockets.push(socket);
        }),
    );
    await Promise.all(batch);
  }
  process.send!({ type: 'connected', ms: Date.now() - started });
}

// ---- orchestrator ---------------------------------------------------------------------------------
function fdLimits(): { soft: number; hard: number } {
  const read = (flag: string): number => {
    const out = execFileSync('sh', ['-c', `ulimit ${flag}`], { encoding: 'utf8' }).trim();
    return out === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(out);
  };
  return { soft: read('-n'), hard: read('-Hn') };
}

async function measure(mode: 'raw' | 'kamaelia', count: number) {
  const server = fork(SERVER, [mode], { execArgv: [] });
  try {
    const { port } = (await nextMessage(server, 'ready')) as unknown as { port: number };
    const clients = fork(SELF, ['clients', String(port), String(count)], { execArgv: CHILD_EXEC_ARGV });
    try {
      const { ms } = (await nextMessage(clients, 'connected')) as unknown as { ms: number };
      server.send({ type: 'measure', count });
      const measured = (await nextMessage(server, 'measured')) as unknown as {
        before: Memory;
        during: Memory;
      };
      server.send({ type: 'shutdown' });
      const { ms: shutdownMs } = (await nextMessage(server, 'shutDown')) as unknown as { ms: number };
      server.send({ type: 'measureAfterClose' });
      const { after } = (await nextMessage(server, 'measuredAfterClose')) as unknown as { after: Memory };
      const per = (key: 'heap' | 'rss') => (measured.during[key] - measured.before[key]) / count;
      return {
        mode,
        connections: count,
        connectMs: ms,
        connectionsPerSecond: Math.round((count / ms) * 1000),
        heapPerConnection: Math.round(per('heap')),
        gracefulShutdownMs: shutdownMs,
        rssPerConnection: Math.round(per('rss')),
        // Mostly code V8 compiled during the run; repeated rounds do not grow it (no leak).
        heapAfterCloseVsBefore: Math.round((after.heap - measured.before.heap) / count),
      };
    } finally {
      clients.kill();
    }
  } finally {
    server.kill();
  }
}

async function orchestrate(count: number): Promise<void> {
  const needed = count + 256;
  const { soft, hard } = fdLimits();
  if (soft < needed) {
    if (hard < needed || process.env.KAMAELIA_BENCH_ULIMIT === '1') {
      console.error(`server-scale: needs ${needed} file descriptors per process; ulimit -n is ${soft} (hard ${hard}). Raise it, or pass a smaller count.`);
      process.exit(2);
    }
    // Children inherit the raised limit.
    const rerun = spawnSync('sh', ['-c', `ulimit -n ${needed} && exec "$0" "$@"`, process.execPath, ...process.execArgv, SELF, String(count)], {
      stdio: 'inherit',
      env: { ...process.env, KAMAELIA_BENCH_ULIMIT: '1' },
    });
    process.exit(rerun.status ?? 1);
  }
  execFileSync(process.execPath, [fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url)), '-p', 'tsconfig.build.json'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  console.log(`server-scale: ${count} concurrent loopback connections, one server process, clients in another (ulimit -n ${soft})`);
  const rows = [];
  for (const mode of ['raw', 'kamaelia'] as const) rows.push(await measure(mode, count));
  console.table(rows);
  const [raw, kamaelia] = rows as [(typeof rows)[number], (typeof rows)[number]];
  console.log(
    `memory per idle connection, ConnectedServer(EchoProtocol) / raw node:net: heap ${(kamaelia.heapPerConnection / raw.heapPerConnection).toFixed(2)}x, ` +
      `rss ${(kamaelia.rssPerConnection / raw.rssPerConnection).toFixed(2)}x`,
  );
}

const [role, a, b] = process.argv.slice(2);
if (role === 'clients') await clientsRole(Number(a), Number(b));
else await orchestrate(Number(role ?? 10_000));
