// The chassis servers refuse options that are not an object, and SingleServer refuses the options it
// cannot honour (maxConnections, workers) instead of ignoring them: a clear TypeError naming the
// server and the option, at construction, for JavaScript callers the compiler does not check.
import { describe, expect, it } from 'vitest';
import { ConnectedServer, EchoProtocol, FastRestartServer, SimpleServer, SingleServer, run, type Listening } from 'kamaelia-xstate';
import { cleanupsAfterEach } from './helpers/cleanups.js';

const cleanups = cleanupsAfterEach();

/** What a JavaScript caller may pass where the options object belongs. */
const notObjects: unknown[] = [null, 'port 80', 8080, true];

describe('server options', () => {
  const servers: [string, (options: unknown) => unknown][] = [
    ['ConnectedServer', (options) => ConnectedServer(options as never)],
    ['FastRestartServer', (options) => FastRestartServer(options as never)],
    ['SimpleServer', (options) => SimpleServer(options as never)],
    ['SingleServer', (options) => SingleServer(options as never)],
  ];

  it.each(servers)('%s(null), a string, a number or a boolean throws "options must be an object"', (name, make) => {
    for (const options of notObjects) {
      expect(() => make(options), String(options)).toThrow(TypeError);
      expect(() => make(options), String(options)).toThrow(`${name}: options must be an object`);
    }
  });

  it('SingleServer refuses maxConnections (it serves one client at a time) and workers, naming them', () => {
    for (const maxConnections of [1, 5, 0]) {
      // @ts-expect-error -- not an option of SingleServer
      expect(() => SingleServer({ maxConnections })).toThrow(/SingleServer: maxConnections is not an option: it serves one client at a time/);
    }
    // @ts-expect-error -- not an option of SingleServer
    expect(() => SingleServer({ workers: 2 })).toThrow(/SingleServer: workers is not an option/);
  });

  it('SingleServer with no options, or undefined ones, still serves', async () => {
    const server = run(SingleServer({ host: '127.0.0.1', maxConnections: undefined } as never));
    cleanups.push(() => server.stop());
    expect(((await server.next('listening', { timeoutMs: 5000 })) as Listening).port).toBeGreaterThan(0);
    expect(SingleServer().name).toBe('SingleServer');
    expect(ConnectedServer({ protocol: () => EchoProtocol() }).name).toBe('ConnectedServer');
  });
});
