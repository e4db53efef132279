// What a PROXY v2 header costs to keep, and how much of one a server takes. A header may carry up to
// 65,535 bytes of TLVs; kept as one object per TLV (21,841 empty ones fit) it cost ~3 MB of heap
// for the connection's life. The TLVs are kept as one copy of their bytes and parsed when read, and
// a header longer than PROXY_V2_MAX_LENGTH is refused.
import net from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { ConnectedServer, PROXY_V2_MAX_LENGTH, parseProxyHeader, run, serverStats, type Listening, type ProxyHeader, type RunHandle, type SignalMessage } from 'kamaelia-xstate';
import { closed, connect, readBytes, until } from './server-helpers.js';
import { ControlLog } from './server-protocols.js';
import { cleanupsAfterEach } from './helpers/cleanups.js';
import { v2 } from './helpers/proxyHeaders.js';

const cleanups = cleanupsAfterEach();

// A full collection before each sample, so we measure what is held, not garbage awaiting the GC.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function used(): number {
  gc();
  gc();
  const { heapUsed, external } = process.memoryUsage();
  return heapUsed + external;
}

const IPV4_BLOCK = 12;
/** The most empty TLVs (3 bytes each) that fit a header of `length` bytes with an IPv4 address block. */
function emptyTlvs(length: number): { type: number; value: Buffer }[] {
  const count = Math.floor((length - 16 - IPV4_BLOCK) / 3);
  return Array.from({ length: count }, (_, i) => ({ type: 0xe0 + (i % 16), value: Buffer.alloc(0) }));
}

/** The largest header the server takes, filled with as many (empty) TLVs as fit. */
const fullestAccepted = (port = 0) => v2({ source: '192.0.2.7', destination: '127.0.0.1', sourcePort: 4000, destinationPort: port, tlvs: emptyTlvs(PROXY_V2_MAX_LENGTH) });

describe('PROXY v2 TLVs', () => {
  it('keeps a header at the length bound in about its own size: 300 parsed headers, each under 8 KiB retained', () => {
    const count = 300;
    const headerBytes = fullestAccepted();
    expect(headerBytes.length).toBeLessThanOrEqual(PROXY_V2_MAX_LENGTH);
    expect(headerBytes.length).toBeGreaterThan(PROXY_V2_MAX_LENGTH - 3);
    const before = used();
    const kept: ProxyHeader[] = [];
    for (let i = 0; i < count; i++) {
      // A fresh buffer per connection with the client's first bytes behind the header, as a socket read gives it.
      const received = Buffer.concat([headerBytes, Buffer.alloc(16 * 1024, 0x41)]);
      const result = parseProxyHeader(received);
      if (result.status !== 'complete') throw new Error(`not parsed: ${JSON.stringify(result)}`);
      kept.push(result.header);
    }
    const perHeader = (used() - before) / count;
    // The TLVs are still all there, in order, when read.
    const tlvs = kept[count - 1]!.tlvs;
    expect(tlvs).toHaveLength(emptyTlvs(PROXY_V2_MAX_LENGTH).length);
    expect(tlvs.slice(0, 3).map(({ type, value }) => [type, value.length])).toEqual([[0xe0, 0], [0xe1, 0], [0xe2, 0]]);
    expect(perHeader).toBeLessThan(8 * 1024);
    expect(kept).toHaveLength(count);
  });

  it('keeps 50 connections with the fullest header the server takes within 8 KiB each more than with a bare header', async () => {
    const count = 50;
    const measure = async (header: (port: number) => Buffer): Promise<number> => {
      const log = new ControlLog();
      const server = run(ConnectedServer({ host: '127.0.0.1', proxyProtocol: { trusted: ['127.0.0.1'] }, protocol: log.protocol })) as unknown as RunHandle<
        { control: SignalMessage },
        { listening: Listening; signal: unknown }
      >;
      cleanups.push(() => server.stop());
      const { port } = await server.next('listening', { timeoutMs: 5000 });
      const sockets: net.Socket[] = [];
      cleanups.push(() => sockets.forEach((socket) => socket.destroy()));
      const before = used();
      for (let i = 0; i < count; i++) {
        const socket = await connect(port);
        sockets.push(socket);
        socket.write(Buffer.concat([header(port), Buffer.from('up')]));
        expect((await readBytes(socket, 2)).toString()).toBe('up');
      }
      const grown = used() - before;
      expect(log.infos).toHaveLength(count);
      for (const socket of sockets) socket.destroy();
      server.stop();
      await server.done;
      return grown / count;
    };
    const bareHeader = (port: number) => v2({ source: '192.0.2.7', destination: '127.0.0.1', sourcePort: 4000, destinationPort: port });
    await measure(bareHeader); // warms up: the first round also pays for code and pools made once
    const bare = await measure(bareHeader);
    const full = await measure(fullestAccepted);
    expect(full - bare).toBeLessThan(8 * 1024);
  }, 60_000);

  it(`refuses a header over PROXY_V2_MAX_LENGTH (${PROXY_V2_MAX_LENGTH}) bytes as soon as its length field is read`, () => {
    const maximal = v2({ source: '192.0.2.7', tlvs: emptyTlvs(65_535 + 16) });
    expect(maximal.length).toBe(65_551); // 21,841 empty TLVs: the largest header the length field allows
    const result = parseProxyHeader(maximal.subarray(0, 16));
    expect(result.status).toBe('invalid');
    expect(result.status === 'invalid' ? result.message : '').toMatch(new RegExp(`PROXY v2 header is ${maximal.length} bytes, over the ${PROXY_V2_MAX_LENGTH}`));
    const justOver = v2({ source: '192.0.2.7', tlvs: [{ type: 0xe0, value: Buffer.alloc(PROXY_V2_MAX_LENGTH - 16 - IPV4_BLOCK - 3 + 1) }] });
    expect(justOver.length).toBe(PROXY_V2_MAX_LENGTH + 1);
    expect(parseProxyHeader(justOver).status).toBe('invalid');
    const atBound = v2({ source: '192.0.2.7', tlvs: [{ type: 0xe0, value: Buffer.alloc(PROXY_V2_MAX_LENGTH - 16 - IPV4_BLOCK - 3) }] });
    expect(parseProxyHeader(atBound)).toMatchObject({ status: 'complete', length: PROXY_V2_MAX_LENGTH });
  });

  it('closes a connection whose header is over the bound, unserved and counted', async () => {
    const log = new ControlLog();
    const server = run(ConnectedServer({ host: '127.0.0.1', proxyProtocol: { trusted: ['127.0.0.1'] }, protocol: log.protocol })) as unknown as RunHandle<
      { control: SignalMessage },
      { listening: Listening; signal: unknown }
    >;
    cleanups.push(() => server.stop());
    const { port } = await server.next('listening', { timeoutMs: 5000 });
    const socket = await connect(port);
    cleanups.push(() => void socket.destroy());
    socket.on('error', () => {}); // the server may reset us while we still write
    socket.write(v2({ source: '192.0.2.7', tlvs: emptyTlvs(65_535 + 16) }));
    await closed(socket);
    await until(() => serverStats(server.actor)?.proxyRejected === 1, 'the rejection counted');
    expect(log.infos).toHaveLength(0);
  });
});
