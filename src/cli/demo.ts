// `npm start`: a chat/echo server and waves of clients on loopback, watched live in the inspector.
// Each wave: talkers that connect, talk and close (one after a delay), one that upgrades to TLS with
// STARTTLS + makessl, one refused (nothing listens on its port), one that times out (the listener's
// accept queue is full). Runs until Ctrl-C, or for --duration seconds.
import { parseArgs } from 'node:util';
import {
  ConnectedServer,
  Graphline,
  TCPClient,
  createInspector,
  run,
  serverShutdown,
  type Inspector,
  type Listening,
  type RunHandle,
} from '../index.js';
import { makeDemoCertificate } from './demo/certificate.js';
import { EchoChat } from './demo/EchoChat.js';
import { Talker } from './demo/Talker.js';
import { fullAcceptQueue, refusedPort } from './demo/unreachable.js';

const usage = `usage: kamaelia-xstate demo [options]   (in a clone of this repository: npm start -- [options])
  --duration <s>        stop after this many seconds (default: run until Ctrl-C)
  --port <n>            inspector port (default 0: any free port)
  --host <addr>         inspector address (default 127.0.0.1)
  --record <file>       also write the inspector records to a JSON-lines file
  --clients <n>         talkers per wave (default 3)
  --interval <ms>       time between waves (default 2000)
  --show-payload-bytes <n>  show the first n bytes of payloads in the event log (default 0)`;

function parseOptions() {
  try {
    return parseArgs({
      options: {
        duration: { type: 'string' },
        port: { type: 'string', default: '0' },
        host: { type: 'string', default: '127.0.0.1' },
        record: { type: 'string' },
        clients: { type: 'string', default: '3' },
        interval: { type: 'string', default: '2000' },
        'show-payload-bytes': { type: 'string', default: '0' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`);
    process.exit(2);
  }
}
const { values } = parseOptions();

if (values.help) {
  console.log(usage);
  process.exit(0);
}

function numberOption(name: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value < min) {
    console.error(`--${name} must be a number ≥ ${min}, got ${JSON.stringify(text)}\n${usage}`);
    process.exit(2);
  }
  return value;
}

const duration = numberOption('duration', values.duration, 0);
const clientsPerWave = numberOption('clients', values.clients, 0)!;
const interval = numberOption('interval', values.interval, 50)!;
const LOOPBACK = '127.0.0.1';

const inspector: Inspector = await createInspector({
  port: numberOption('port', values.port, 0)!,
  host: values.host,
  showPayloadBytes: numberOption('show-payload-bytes', values['show-payload-bytes'], 0)!,
  ...(values.record ? { record: values.record } : {}),
});
const { inspect } = inspector;
console.log(`Inspector: ${inspector.url}`);

const certificate = await makeDemoCertificate();
const server = run(ConnectedServer({ host: LOOPBACK, port: 0, tls: { key: certificate.key, cert: certificate.cert }, protocol: () => EchoChat() }), {
  inspect,
  id: 'echo-server',
});
const listening = (await server.next('listening', { timeoutMs: 10_000 })) as Listening;
console.log(`Echo server (STARTTLS-capable) on ${listening.address}:${listening.port}`);

const refused = await refusedPort(LOOPBACK);
const full = await fullAcceptQueue(LOOPBACK);
const clients = new Set<RunHandle<object, object>>();

function talker(id: string, options: { delay?: number; startTls?: boolean }): void {
  const report = (text: string): void => console.log(`  ${id}: ${text}`);
  const client = TCPClient(LOOPBACK, listening.port, {
    delay: options.delay ?? 0,
    connectTimeout: 5_000,
    ...(options.startTls ? { tls: { ca: certificate.cert, servername: 'localhost' } } : {}),
  });
  const talk = Talker({ lines: options.startTls ? ['secret over TLS', 'bye'] : ['hello', 'how are you?', 'bye'], startTls: options.startTls ?? false, report });
  const handle = run(
    Graphline(
      { client, talk },
      {
        'talk.outbox': 'client.inbox',
        'talk.signal': 'client.control',
        'talk.makessl': 'client.makessl',
        'client.outbox': 'talk.inbox',
        'client.signal': 'talk.control',
        'client.sslready': 'talk.sslready',
      },
    ),
    { inspect, id: options.startTls ? 'tls-talker' : 'talker' },
  );
  track(handle);
}

function failing(id: string, port: number, connectTimeout: number): void {
  const handle = run(TCPClient(LOOPBACK, port, { connectTimeout }), { inspect, id });
  track(handle);
  void handle.next('signal').then(
    (signal) => {
      const why = (signal as { reason?: { code?: string } }).reason;
      console.log(`  ${id}: ${why?.code ?? 'closed'}`);
    },
    () => {},
  );
}

function track(handle: RunHandle<object, object>): void {
  clients.add(handle);
  void handle.done.then(() => clients.delete(handle));
}

let wave = 0;
function launchWave(): void {
  wave++;
  console.log(`wave ${wave}`);
  for (let i = 0; i < clientsPerWave; i++) talker(`talker ${wave}.${i}`, { delay: i === 0 ? 300 : 0 });
  talker(`tls-talker ${wave}`, { startTls: true });
  failing('refused-client', refused, 5_000);
  failing('timeout-client', full.port, 800);
}

launchWave();
const waves = setInterval(launchWave, interval);

let stopping = false;
async function stop(why: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`stopping (${why})`);
  clearInterval(waves);
  clearTimeout(deadline);
  for (const handle of clients) handle.stop();
  server.send('control', serverShutdown());
  await Promise.race([server.done, new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
  server.stop();
  full.close();
  await inspector.close();
  process.exit(0);
}

const deadline = duration !== undefined ? setTimeout(() => void stop(`${duration}s elapsed`), duration * 1000) : undefined;
process.once('SIGINT', () => void stop('Ctrl-C'));
process.once('SIGTERM', () => void stop('SIGTERM'));
