// Accept errors the server can know of are counted and the latest kept; none stops the server.
// (File-descriptor exhaustion mostly cannot be known: libuv closes excess connections without
// telling Node. docs/deploy.md says so; this file tests what Node does report.)
import { describe, expect, it } from 'vitest';
import { ConnectedServer, ConnectedSocketAdapter, EchoProtocol, run, serverStats, type Listening } from 'kamaelia-xstate';
import { cleanupsAfterEach } from './helpers/cleanups.js';
import { closed, connect, readBytes, until } from './server-helpers.js';

const cleanups = cleanupsAfterEach();

describe('accept errors', () => {
  it('a connection whose CSA cannot be made is counted in acceptErrors with lastAcceptError (ECSA), closed, and the next one is served', async () => {
    let made = 0;
    const server = run(
      ConnectedServer({
        port: 0,
        host: '127.0.0.1',
        protocol: EchoProtocol,
        csa: (socket, options) => {
          if (made++ === 0) throw new Error('no CSA for this one');
          return ConnectedSocketAdapter(socket, options);
        },
      }),
    );
    cleanups.push(() => server.stop());
    const { port } = (await server.next('listening', { timeoutMs: 5000 })) as Listening;
    const first = await connect(port);
    cleanups.push(() => void first.destroy());
    await closed(first);
    await until(() => serverStats(server.actor)!.acceptErrors === 1, 'the accept error to be counted');
    expect(serverStats(server.actor)!.lastAcceptError).toEqual({ code: 'ECSA', message: 'no CSA for this one' });
    const second = await connect(port);
    cleanups.push(() => void second.destroy());
    second.write('still serving');
    expect((await readBytes(second, 13)).toString()).toBe('still serving');
    expect(serverStats(server.actor)).toMatchObject({ accepted: 1, acceptErrors: 1 });
  });
});
