// TCPClient addressing: IPv6 loopback, host names, and construction errors naming the bad value.
import type { LookupFunction } from 'node:net';
import { describe, expect, it } from 'vitest';
import { TCPClient, producerFinished, run } from 'kamaelia-xstate';
import { collect, listen } from './helpers/net.js';
import { cleanupsAfterEach } from './helpers/cleanups.js';

const cleanups = cleanupsAfterEach();

describe('TCPClient addressing', () => {
  it.each([
    ['IPv6 loopback', '::1', '::1'],
    ['a host name (localhost)', '127.0.0.1', 'localhost'],
  ])('connects to %s', async (_what, listenOn, connectTo) => {
    const listener = await listen((socket) => socket.write(`hello ${socket.remoteFamily}`), listenOn);
    cleanups.push(listener.close);
    const handle = run(TCPClient(connectTo, listener.port));
    cleanups.push(() => handle.stop());
    const greeting = Buffer.from(await handle.next('outbox', { timeoutMs: 5000 })).toString();
    expect(greeting).toBe(`hello ${listenOn === '::1' ? 'IPv6' : 'IPv4'}`);
    const peer = await listener.nextConnection();
    const got = collect(peer);
    handle.send('inbox', 'bye');
    handle.send('control', producerFinished());
    await got.ended;
    expect(got.bytes().toString()).toBe('bye');
    peer.end();
    expect((await handle.done).status).toBe('done');
  });

  it.each([
    ['an underscore (Compose service name)', 'my_service', 'my_service'],
    ['an underscore in a dotted name', 'db_1.internal', 'db_1.internal'],
    ['an IDN, looked up in A-label form', 'bücher.example', 'xn--bcher-kva.example'],
  ])('accepts a host name with %s and connects through its lookup', async (_what, host, asked) => {
    const listener = await listen((socket) => socket.end('hello'));
    cleanups.push(listener.close);
    const names: string[] = [];
    // Resolves every name to the loopback listener, recording what node:net asked for.
    const lookup = ((hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
      names.push(hostname);
      if (options.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
      else callback(null, '127.0.0.1', 4);
    }) as unknown as LookupFunction;
    const handle = run(TCPClient(host, listener.port, { lookup }));
    cleanups.push(() => handle.stop());
    expect(Buffer.from(await handle.next('outbox', { timeoutMs: 5000 })).toString()).toBe('hello');
    expect(names).toEqual([asked]);
    handle.send('control', producerFinished());
    expect((await handle.done).status).toBe('done');
  });

  it.each([
    ['', /host must be an IP address or a host name, got string ""/],
    ['bad host!', /host must be an IP address or a host name, got string "bad host!"/],
    ['host:80', /got string "host:80"/],
    ['a/b', /got string "a\/b"/],
    [42 as unknown as string, /host must be an IP address or a host name, got number 42/],
  ])('rejects host %j at construction', (host, message) => {
    expect(() => TCPClient(host, 80)).toThrow(message);
  });

  it.each([
    [0, /port must be an integer from 1 to 65535, got number 0/],
    [65536, /got number 65536/],
    [80.5, /got number 80.5/],
    [Number.NaN, /got number NaN/],
    ['80' as unknown as number, /got string "80"/],
  ])('rejects port %j at construction', (port, message) => {
    expect(() => TCPClient('127.0.0.1', port)).toThrow(message);
  });

  it.each([
    [{ delay: -1 }, /delay must be an integer number of milliseconds from 0 to 2147483647, got number -1/],
    [{ connectTimeout: Number.POSITIVE_INFINITY }, /connectTimeout must be an integer number of milliseconds from 0 to 2147483647, got number Infinity/],
    [{ closeTimeout: 'soon' as unknown as number }, /closeTimeout must be an integer number of milliseconds from 0 to 2147483647, got string "soon"/],
  ])('rejects options %j at construction', (options, message) => {
    expect(() => TCPClient('127.0.0.1', 80, options)).toThrow(message);
  });
});
