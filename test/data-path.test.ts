// The data path is short: a byte read from a server connection reaches its body handler through at
// most 8 library frames (the stack from Node's socket event to the handler), and the handler's
// reply reaches socket.write on the same stack when the socket can take it. docs/performance.md
// gives the frames.
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectedServer, box, defineComponent, run, type SignalMessage } from 'kamaelia-xstate';
import { cleanupsAfterEach } from './helpers/cleanups.js';
import { readBytes } from './server-helpers.js';

const cleanups = cleanupsAfterEach();
const root = fileURLToPath(new URL('..', import.meta.url));
const LIBRARY = ['src/', 'actors/', 'machines/'].map((folder) => `${root}${folder}`);

const limit = Error.stackTraceLimit;
afterEach(() => {
  Error.stackTraceLimit = limit;
});

/** The library frames of `stack` below its first line (the handler) down to Node's own frames. */
function libraryFrames(stack: string): string[] {
  const frames = stack.split('\n').slice(2); // "Error", then the handler itself
  const library: string[] = [];
  for (const frame of frames) {
    if (LIBRARY.some((folder) => frame.includes(folder))) library.push(frame.trim());
    else if (frame.includes('node:')) break; // the socket's event: where the path starts
  }
  return library;
}

describe('the data path of a server connection', () => {
  it('a received byte reaches a body handler through at most 8 library frames; its reply is written on the same stack', async () => {
    Error.stackTraceLimit = 100;
    let stack = '';
    let inHandler = false;
    let writtenInHandler = false;
    const write = net.Socket.prototype.write;
    net.Socket.prototype.write = function (this: net.Socket, ...args: Parameters<net.Socket['write']>) {
      if (inHandler && String(args[0]) === 'pong') writtenInHandler = true;
      return write.apply(this, args);
    } as net.Socket['write'];
    cleanups.push(() => void (net.Socket.prototype.write = write));
    const Handler = () =>
      defineComponent({
        name: 'Handler',
        inboxes: { inbox: box<Buffer>(), control: box<SignalMessage>() },
        outboxes: { outbox: box<string>(), signal: box<SignalMessage>() },
        body: ({ on, send }) => {
          on('inbox', () => {
            stack = new Error().stack ?? '';
            inHandler = true;
            send('outbox', 'pong');
            inHandler = false;
          });
        },
      });
    const server = run(ConnectedServer({ port: 0, host: '127.0.0.1', protocol: Handler }));
    cleanups.push(() => server.stop());
    const { port } = await server.next('listening', { timeoutMs: 5000 });
    const socket = net.connect({ port, host: '127.0.0.1' });
    cleanups.push(() => void socket.destroy());
    socket.write('ping');
    expect((await readBytes(socket, 4)).toString()).toBe('pong');
    const frames = libraryFrames(stack);
    console.log(`library frames from the socket's 'readable' to the handler (${frames.length}):\n  ${frames.join('\n  ')}`);
    expect(frames.length).toBeGreaterThan(0);
    expect(frames.length).toBeLessThanOrEqual(8);
    expect(writtenInHandler).toBe(true);
  });
});
