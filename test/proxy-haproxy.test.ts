// ConnectedServer with proxyProtocol behind a real HAProxy (Debian's haproxy, on 127.0.0.1 only):
// `send-proxy` (v1) and `send-proxy-v2` (with its unique-id TLV) both give the handler the real client.
// Without haproxy the test skips locally and fails in CI (CI=true), where .ci/run installs it.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { ConnectedServer, run, serverStats, type Listening, type RunHandle, type SignalMessage } from 'kamaelia-xstate';
import { closed, connect, freePort, readBytes, until } from './server-helpers.js';
import { ControlLog } from './server-protocols.js';
import { cleanupsAfterEach } from './helpers/cleanups.js';
import { haproxyRequired, haproxyVersion, startHaproxy } from './helpers/haproxy.js';

type Server = RunHandle<{ control: SignalMessage }, { listening: Listening; signal: unknown }>;
const cleanups = cleanupsAfterEach();
const PP2_TYPE_UNIQUE_ID = 0x05;

describe.skipIf(haproxyVersion === undefined && !haproxyRequired)(`ConnectedServer behind HAProxy ${haproxyVersion ?? '(missing)'}`, () => {
  it('serves clients through send-proxy and send-proxy-v2 with their real addresses; a direct client is refused', async () => {
    expect(haproxyVersion, 'haproxy must be installed (.ci/run installs it)').toBeDefined();
    const appPort = await freePort();
    const haproxy = await startHaproxy(appPort);
    cleanups.push(() => haproxy.stop());
    const log = new ControlLog();
    const server = run(ConnectedServer({ host: '127.0.0.1', port: appPort, proxyProtocol: { trusted: ['127.0.0.1'] }, protocol: log.protocol })) as unknown as Server;
    cleanups.push(() => server.stop());
    await server.next('listening', { timeoutMs: 5000 });

    const clients: net.Socket[] = [];
    for (const port of [haproxy.v1Port, haproxy.v2Port]) {
      const socket = await connect(port);
      clients.push(socket);
      cleanups.push(() => void socket.destroy());
      socket.write(`hello via ${port}`);
      expect((await readBytes(socket, `hello via ${port}`.length)).toString()).toBe(`hello via ${port}`);
    }
    const [viaV1, viaV2] = clients as [net.Socket, net.Socket];
    expect(log.infos).toHaveLength(2);
    expect(log.infos[0]).toMatchObject({ peer: '127.0.0.1', peerPort: viaV1.localPort, proxy: '127.0.0.1', localPort: appPort, proxyHeader: { version: 1, family: 'TCP4', destinationPort: haproxy.v1Port } });
    expect(log.infos[1]).toMatchObject({ peer: '127.0.0.1', peerPort: viaV2.localPort, proxy: '127.0.0.1', proxyHeader: { version: 2, command: 'PROXY', destinationPort: haproxy.v2Port } });
    // HAProxy's own end of each connection is not the client's.
    expect(log.infos[0]!.proxyPort).not.toBe(viaV1.localPort);
    const uniqueId = log.infos[1]!.proxyHeader!.tlvs.find(({ type }) => type === PP2_TYPE_UNIQUE_ID);
    expect(Buffer.from(uniqueId!.value).toString()).toBe(`test-127.0.0.1-${viaV2.localPort}`);

    const direct = await connect(appPort); // not through the proxy: no header
    cleanups.push(() => void direct.destroy());
    direct.write('no header here\r\n');
    await closed(direct);
    await until(() => serverStats(server.actor)?.proxyRejected === 1, 'the direct client rejected');
    expect(log.infos).toHaveLength(2);
  });
});
