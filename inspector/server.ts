// createInspector: a small HTTP + WebSocket server on loopback that serves the inspector page and
// streams records derived from XState inspection events to it in batches. Everything it serves is
// local (the page, and elkjs's browser bundle from node_modules), so it works offline.
import { once } from 'node:events';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createWriteStream, existsSync, openSync, readFileSync, renameSync, rmSync, type WriteStream } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { extname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { WebSocket, WebSocketServer } from 'ws';
import type { AnyActorRef, InspectionEvent, Subscription } from 'xstate';
import { checkDuration } from '../src/internet/options.js';
import { DEFAULT_KEEP_FINISHED, DEFAULT_STEPS_PER_ACTOR, History } from './history.js';
import { LifecycleTracker } from './lifecycle.js';
import type { HelloRecord, InspectorRecord } from './records.js';
import type * as StatelyProtocol from './page/stately.js';

/** Options of {@link createInspector}. */
export interface InspectorOptions {
  /** TCP port for the page and its WebSocket; 0 picks a free one. @defaultValue 0 */
  readonly port?: number;
  /** Address to bind. Loopback unless told otherwise: the page shows what your system does. @defaultValue '127.0.0.1' */
  readonly host?: string;
  /** Writes every record as JSON lines to this file; the page can open it and replay it. @defaultValue none */
  readonly record?: string;
  /**
   * Size at which the recording file is rotated: it is renamed `<record>.1` (older ones move to
   * `.2`, ...) and a new `<record>` starts with the history kept at that moment (not its event
   * log), so each file replays on its own. A file may pass the size by its last batch.
   * @defaultValue 67108864 (64 MiB)
   */
  readonly recordMaxBytes?: number;
  /** Recording files kept, the current one included; older ones are deleted. @defaultValue 4 */
  readonly recordFiles?: number;
  /**
   * Finished connections (and ended actors) kept, the newest, for a page opened later; an open page
   * keeps the same number (up to half as many again between trims). Older ones are dropped and the
   * page says how many. @defaultValue 2000
   */
  readonly keepFinished?: number;
  /**
   * Steps (state changes) kept per actor, for a page opened later and by an open page: the first
   * tenth (at most 100) and the latest; the page says how many were dropped in between.
   * @defaultValue 1000
   */
  readonly stepsPerActor?: number;
  /**
   * Sends context values inside machine definitions (a machine's `context` defaults and invoke
   * `input`). By default they are replaced by their types (`{ token: '(string)' }`): the page, the
   * recording and both downloads get keys and types only. @defaultValue false
   */
  readonly showContext?: boolean;
  /**
   * Requires this token on `/inspect` (the @statelyai/inspect endpoint) as `?token=…`; `true` makes
   * a random one. `wsUrl` carries it. Without a token `/inspect` takes any client without an Origin
   * header and any page served from a loopback origin, so a local program or page could add actors
   * to the session. @defaultValue none
   */
  readonly token?: string | true;
  /** Leading payload bytes shown in the event log (hex); 0 sends sizes only. @defaultValue 0 */
  readonly showPayloadBytes?: number;
  /** How often records are sent, in milliseconds. @defaultValue 100 */
  readonly flushIntervalMs?: number;
  /** Log records per batch before the rest are only counted. @defaultValue 500 */
  readonly logLimit?: number;
  /**
   * Host names (without port) the page may be reached by besides loopback names and addresses and
   * the bound address, e.g. `['inspector.lan']` behind a reverse proxy. Requests naming any other
   * `Host` get 403, so a web page whose name resolves to 127.0.0.1 (DNS rebinding) cannot read the
   * session.
   * @defaultValue none
   */
  readonly allowedHosts?: readonly string[];
}

/** A running inspector, as {@link createInspector} resolves it. */
export interface Inspector {
  /** The observer to pass as `inspect` to run() or createActor. */
  readonly inspect: (event: InspectionEvent) => void;
  /** Where the page is, e.g. http://127.0.0.1:43123/ */
  readonly url: string;
  /**
   * Where any XState v5 program can send its inspection events with @statelyai/inspect:
   * `createWebSocketInspector({ url: inspector.wsUrl })`, e.g. ws://127.0.0.1:43123/inspect.
   * Its actors appear on the page with their statecharts, and are recorded like ours.
   */
  readonly wsUrl: string;
  /** Inspects a system that is already running: notes its actors and subscribes to its events. */
  attach(actor: AnyActorRef): Subscription;
  /** Sends what has been noted now instead of at the next interval. */
  flush(): void;
  /** Sends the last records, ends the recording, closes the page connections and the server. */
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
};

/** Records per WebSocket frame when a page catches up on history. */
const CATCH_UP_CHUNK = 5_000;
/** A page this far behind gets no log records until it catches up. */
const SLOW_PAGE_BYTES = 4 * 1024 * 1024;

function findPageDir(): string {
  // From source (inspector/server.ts) and from a build (dist/inspector/server.js).
  for (const candidate of ['./page/', '../../inspector/page/']) {
    const dir = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(join(dir, 'index.html'))) return dir;
  }
  throw new Error('createInspector: the inspector page (inspector/page/index.html) is missing from this installation');
}

/**
 * Starts the inspector: a small HTTP + WebSocket server (loopback by default) whose page draws the
 * component graphs, statecharts and connection swimlanes of every system run with its `inspect`,
 * live, and replays recordings. Everything it serves is local (no network needed).
 *
 * @param options - see {@link InspectorOptions}
 * @example
 * ```ts
 * const inspector = await createInspector();
 * console.log(inspector.url);
 * run(ConnectedServer({ port: 1601, protocol: () => EchoProtocol() }), { inspect: inspector.inspect });
 * ```
 */
export async function createInspector(options: InspectorOptions = {}): Promise<Inspector> {
  const host = options.host ?? '127.0.0.1';
  const flushIntervalMs = checkDuration('createInspector', 'flushIntervalMs', options.flushIntervalMs, 100);
  const showPayloadBytes = Math.max(0, Math.floor(options.showPayloadBytes ?? 0));
  const showContext = options.showContext === true;
  const tracker = new LifecycleTracker({ showPayloadBytes, showContext, ...(options.logLimit !== undefined ? { logLimit: options.logLimit } : {}) });
  const history = new History({
    keepFinished: positiveInteger('keepFinished', options.keepFinished, DEFAULT_KEEP_FINISHED),
    stepsPerActor: positiveInteger('stepsPerActor', options.stepsPerActor, DEFAULT_STEPS_PER_ACTOR),
  });
  const recordMaxBytes = positiveInteger('recordMaxBytes', options.recordMaxBytes, 64 * 1024 * 1024);
  const recordFiles = positiveInteger('recordFiles', options.recordFiles, 4);
  const token = options.token === true ? randomBytes(18).toString('base64url') : options.token;
  if (token !== undefined && (typeof token !== 'string' || token === '')) throw new TypeError('createInspector: token must be a non-empty string or true');
  const pageDir = findPageDir();
  const elkBundle = createRequire(import.meta.url).resolve('elkjs/lib/elk.bundled.js');
  const hello: HelloRecord = { k: 'hello', t: Date.now(), version: 1, showPayloadBytes, showContext, limits: history.limits };
  // The page's own module, shared with the server (found where the page is, from source or a build).
  const stately = (await import(pathToFileURL(join(pageDir, 'stately.js')).href)) as typeof StatelyProtocol;
  /** Records translated from @statelyai/inspect clients, sent with the next batch. */
  let external: InspectorRecord[] = [];
  let programCount = 0;

  let recording: WriteStream | undefined;
  let recordingPart = 0;
  let recordedBytes = 0;
  /** Streams of rotated files still flushing, awaited by close(). */
  const rotated: WriteStream[] = [];
  const openRecording = (path: string, lines: string): void => {
    // Opened now (not when the stream gets to it), so a rotation can rename it at once.
    const stream = createWriteStream(path, { fd: openSync(path, 'w') });
    stream.on('error', (error) => console.error(`inspector: cannot write recording ${path}: ${error.message}`));
    recordingPart++;
    const head = `${JSON.stringify(recordingPart === 1 ? hello : { ...hello, part: recordingPart })}\n${lines}`;
    stream.write(head);
    recordedBytes = Buffer.byteLength(head);
    recording = stream;
  };
  /** Past recordMaxBytes: `<record>.N` → `.N+1` (the oldest deleted), `<record>` → `.1`, and a new file from the history. */
  const rotate = (path: string): void => {
    const old = recording!;
    rmSync(`${path}.${recordFiles - 1}`, { force: true });
    for (let n = recordFiles - 2; n >= 1; n--) if (existsSync(`${path}.${n}`)) renameSync(`${path}.${n}`, `${path}.${n + 1}`);
    if (recordFiles > 1) renameSync(path, `${path}.1`);
    else rmSync(path, { force: true }); // the old stream writes on to the unlinked file, not over the new one
    old.end(); // an open descriptor follows its renamed file
    rotated.push(old);
    const kept = history.snapshot({ logs: false });
    openRecording(path, kept.length > 0 ? kept.map((record) => JSON.stringify(record)).join('\n') + '\n' : '');
  };
  if (options.record) openRecording(options.record, '');

  const serveFile = (response: ServerResponse, file: string): void => {
    try {
      const body = readFileSync(file);
      response.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      response.end(body);
    } catch {
      response.writeHead(404).end('not found');
    }
  };

  const hostAllowed = hostCheck(host, options.allowedHosts ?? []);

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const path = new URL(request.url ?? '/', 'http://inspector').pathname;
    if (!hostAllowed(request.headers.host)) {
      response.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' }).end('forbidden: unknown Host (see the allowedHosts option)');
    } else if (request.method !== 'GET') {
      response.writeHead(405).end();
    } else if (path === '/') {
      serveFile(response, join(pageDir, 'index.html'));
    } else if (path === '/favicon.ico') {
      response.writeHead(204).end();
    } else if (path === '/vendor/elk.bundled.js') {
      serveFile(response, elkBundle);
    } else if (path === '/records.jsonl') {
      response.writeHead(200, { 'content-type': 'application/x-ndjson', 'content-disposition': 'attachment; filename="inspector-records.jsonl"' });
      response.end([hello, ...history.snapshot()].map((record) => JSON.stringify(record)).join('\n') + '\n');
    } else if (path === '/records.stately.jsonl') {
      response.writeHead(200, { 'content-type': 'application/x-ndjson', 'content-disposition': 'attachment; filename="inspector-stately.jsonl"' });
      response.end(stately.toStatelyMessages(history.snapshot()).map((message) => JSON.stringify(message)).join('\n') + '\n');
    } else if (/^\/[\w-]+\.(js|css|html|png)$/.test(path)) {
      serveFile(response, join(pageDir, path.slice(1)));
    } else {
      response.writeHead(404).end('not found');
    }
  });

  const sockets = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const programs = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 16 * 1024 * 1024 });
  server.on('upgrade', (request, socket, head) => {
    const path = new URL(request.url ?? '/', 'http://inspector').pathname;
    if (path !== '/ws' && path !== '/inspect') {
      socket.destroy();
      return;
    }
    // Another web site open in the same browser must not read what the system is doing (nor, on
    // /inspect, feed the page): a browser program may be served from another loopback port.
    if (!hostAllowed(request.headers.host) || !(sameOrigin(request) || (path === '/inspect' && loopbackOrigin(request))) || (path === '/inspect' && !tokenMatches(request, token))) {
      socket.end('HTTP/1.1 403 Forbidden\r\nconnection: close\r\n\r\n');
      return;
    }
    if (path === '/inspect') {
      programs.handleUpgrade(request, socket, head, (ws) => {
        const translator = stately.createStatelyTranslator({ prefix: `p${++programCount}:`, showContext });
        ws.on('message', (data: Buffer) => {
          let message: unknown;
          try {
            message = JSON.parse(data.toString());
          } catch {
            return; // not an inspection message: ignored, the program goes on
          }
          for (const item of Array.isArray(message) ? message : [message]) external.push(...translator.translate(item));
        });
      });
      return;
    }
    sockets.handleUpgrade(request, socket, head, (ws) => {
      const catchUp = [hello, ...history.snapshot()];
      for (let start = 0; start < catchUp.length; start += CATCH_UP_CHUNK) {
        ws.send(JSON.stringify(catchUp.slice(start, start + CATCH_UP_CHUNK)));
      }
    });
  });

  const broadcast = (records: readonly InspectorRecord[]): void => {
    if (sockets.clients.size === 0) return;
    const all = JSON.stringify(records);
    let withoutLogs: string | undefined;
    for (const ws of sockets.clients) {
      if (ws.readyState !== WebSocket.OPEN) continue;
      if (ws.bufferedAmount < SLOW_PAGE_BYTES) {
        ws.send(all);
      } else {
        // A page that cannot keep up still gets every lifecycle record, just not the event log.
        withoutLogs ??= JSON.stringify(records.filter((record) => record.k !== 'log'));
        ws.send(withoutLogs);
      }
    }
  };

  const flush = (): void => {
    let records = tracker.drain();
    if (external.length > 0) {
      records = records.length === 0 ? external : [...records, ...external];
      external = [];
    }
    if (records.length === 0) return;
    history.add(records);
    if (recording) {
      const lines = records.map((record) => JSON.stringify(record)).join('\n') + '\n';
      recording.write(lines);
      recordedBytes += Buffer.byteLength(lines);
      if (recordedBytes > recordMaxBytes) rotate(options.record!);
    }
    broadcast(records);
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const timer = setInterval(flush, flushIntervalMs);
  timer.unref();
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  // A wildcard bind is reached on loopback by the programs this machine runs.
  const wsHost = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : urlHost;

  let closed: Promise<void> | undefined;
  return {
    inspect: tracker.observe,
    url: `http://${urlHost}:${port}/`,
    wsUrl: `ws://${wsHost}:${port}/inspect${token !== undefined ? `?token=${encodeURIComponent(token)}` : ''}`,
    attach(actor) {
      tracker.noteExisting(actor);
      return actor.system.inspect(tracker.observe);
    },
    flush,
    close() {
      closed ??= (async () => {
        clearInterval(timer);
        flush();
        await Promise.all([...sockets.clients, ...programs.clients].map((ws) => closeSocket(ws)));
        sockets.close();
        programs.close();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        const streams = [...rotated, ...(recording ? [recording] : [])];
        for (const stream of streams) stream.end();
        await Promise.all(streams.map((stream) => (stream.closed ? undefined : once(stream, 'close'))));
      })();
      return closed;
    },
  };
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new TypeError(`createInspector: ${name} must be a positive integer, got ${String(value)}`);
  return value;
}

/** Whether the request's `?token=` is the one required (always, when none is). */
function tokenMatches(request: IncomingMessage, token: string | undefined): boolean {
  if (token === undefined) return true;
  const given = Buffer.from(new URL(request.url ?? '/', 'http://inspector').searchParams.get('token') ?? '');
  const wanted = Buffer.from(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

const LOOPBACK_NAMES: ReadonlySet<string> = new Set(['localhost']);

/**
 * Which `Host` headers to answer: loopback names, any IP address (rebinding needs a name: a page
 * at an address literal is that address's own origin), the bound address and the allowed names,
 * with any port. A missing Host (HTTP/1.0 tools) is allowed: a browser always sends one.
 */
function hostCheck(bound: string, allowed: readonly string[]): (header: string | undefined) => boolean {
  const names = new Set([...allowed, bound].map((name) => name.toLowerCase().replace(/^\[(.*)\]$/, '$1')));
  return (header) => {
    if (header === undefined) return true;
    let name: string;
    try {
      name = new URL(`http://${header}`).hostname.toLowerCase();
    } catch {
      return false;
    }
    const bare = name.replace(/^\[(.*)\]$/, '$1');
    return LOOPBACK_NAMES.has(bare) || bare.endsWith('.localhost') || isIP(bare) !== 0 || names.has(bare);
  };
}

/** A WebSocket from a browser must come from the inspector's own page; other clients send no Origin. */
function sameOrigin(request: IncomingMessage): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}

/** A WebSocket opened by a page served from this machine (any port): a browser program being inspected. */
function loopbackOrigin(request: IncomingMessage): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  try {
    const name = new URL(origin).hostname.replace(/^\[(.*)\]$/, '$1');
    return name === 'localhost' || name === '127.0.0.1' || name === '::1';
  } catch {
    return false;
  }
}

/** Says goodbye to a page (it shows "disconnected"), giving up on a page that does not answer. */
async function closeSocket(ws: WebSocket): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return;
  const gone = once(ws, 'close');
  ws.close(1001, 'inspector closing');
  const timer = setTimeout(() => ws.terminate(), 1_000);
  await gone;
  clearTimeout(timer);
}
