// PROXY protocol v1/v2: the incremental parser against hand-built headers, and ConnectedServer with
// `proxyProtocol` over loopback: the handler sees the header's client, anything else is closed
// unserved and counted, and nothing else is harmed.
import net from 'node:net';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { ConnectedServer, parseProxyHeader, run, serverStats, type AnyComponent, type Listening, type RunHandle, type SignalMessage } from 'kamaelia-xstate';
import { closed, connect, readBytes, testCertificates, until } from './server-helpers.js';
import { ControlLog } from './server-protocols.js';
import { cleanupsAfterEach } from './helpers/cleanups.js';
import { v1, v2 } from './helpers/proxyHeaders.js';

type Server = RunHandle<{ control: SignalMessage }, { listening: Listening; signal: unknown }>;
const cleanups = cleanupsAfterEach();

async function start(component: AnyComponent): Promise<{ server: Server; port: number }> {
  const server = run(component) as unknown as Server;
  cleanups.push(() => server.stop());
  const { port } = await server.next('listening', { timeoutMs: 5000 });
  return { server, port };
}

async function client(port: number): Promise<net.Socket> {
  const socket = await connect(port);
  cleanups.push(() => void socket.destroy());
  return socket;
}

async function echoes(socket: net.Socket, text: string): Promise<void> {
  socket.write(text);
  expect((await readBytes(socket, text.length)).toString()).toBe(text);
}

/** Writes `bytes` in pieces of `size`, each after the previous has left the socket. */
async function writeFragmented(socket: net.Socket, bytes: Buffer, size: number): Promise<void> {
  for (let at = 0; at < bytes.length; at += size) {
    await new Promise<void>((resolve) => socket.write(bytes.subarray(at, at + size), () => resolve()));
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe('parseProxyHeader', () => {
  it('reads v1 TCP4, TCP6 and UNKNOWN lines and says how long the header was', () => {
    const line = v1('TCP4', '192.0.2.7', '198.51.100.1', 51234, 443);
    expect(parseProxyHeader(Buffer.concat([line, Buffer.from('GET /')]))).toEqual({
      status: 'complete',
      length: line.length,
      header: { version: 1, command: 'PROXY', family: 'TCP4', source: '192.0.2.7', destination: '198.51.100.1', sourcePort: 51234, destinationPort: 443, tlvs: [] },
    });
    const six = parseProxyHeader(v1('TCP6', '2001:db8::7', '2001:db8::1', 1, 65535));
    expect(six).toMatchObject({ status: 'complete', header: { family: 'TCP6', source: '2001:db8::7', sourcePort: 1, destinationPort: 65535 } });
    expect(parseProxyHeader(Buffer.from('PROXY UNKNOWN whatever\r\n'))).toMatchObject({ status: 'complete', header: { family: 'UNKNOWN' } });
  });

  it('reads v2 TCP4 and TCP6 with TLVs kept in order, and LOCAL', () => {
    const tlvs = [
      { type: 0x01, value: Buffer.from('h2') },
      { type: 0x02, value: Buffer.from('example.org') },
      { type: 0xe0, value: Buffer.alloc(0) },
    ];
    const four = v2({ source: '203.0.113.9', destination: '127.0.0.1', sourcePort: 40000, destinationPort: 8080, tlvs });
    const result = parseProxyHeader(four);
    expect(result).toMatchObject({ status: 'complete', length: four.length, header: { version: 2, command: 'PROXY', family: 'TCP4', source: '203.0.113.9', sourcePort: 40000, destinationPort: 8080 } });
    const kept = result.status === 'complete' ? result.header.tlvs.map(({ type, value }) => [type, Buffer.from(value).toString()]) : [];
    expect(kept).toEqual([[0x01, 'h2'], [0x02, 'example.org'], [0xe0, '']]);
    expect(parseProxyHeader(v2({ source: '2001:db8:0:0:1:0:0:5', destination: '::1', sourcePort: 9 }))).toMatchObject({
      status: 'complete',
      header: { family: 'TCP6', source: '2001:db8::1:0:0:5', destination: '::1', sourcePort: 9 },
    });
    expect(parseProxyHeader(v2({ command: 'LOCAL' }))).toMatchObject({ status: 'complete', length: 16, header: { command: 'LOCAL', family: 'UNKNOWN' } });
  });

  it('is incomplete on every proper prefix of a header, and complete at its last byte', () => {
    for (const header of [v1('TCP4', '10.1.2.3', '10.0.0.1', 5, 6), v2({ source: '10.1.2.3', sourcePort: 5, tlvs: [{ type: 5, value: Buffer.from('abc') }] })]) {
      for (let n = 0; n < header.length; n++) expect(parseProxyHeader(header.subarray(0, n)).status, `prefix of ${n}`).toBe('incomplete');
      expect(parseProxyHeader(header).status).toBe('complete');
    }
  });

  it('refuses garbage at its first wrong byte, and malformed headers with the reason', () => {
    const invalid = (bytes: Buffer | string) => {
      const result = parseProxyHeader(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
      expect(result.status).toBe('invalid');
      return result.status === 'invalid' ? result.message : '';
    };
    expect(invalid('G')).toMatch(/does not start with a PROXY protocol header/);
    expect(invalid('PROXX')).toMatch(/does not start/);
    expect(invalid('\x16\x03\x01')).toMatch(/does not start/); // a TLS ClientHello straight away
    expect(invalid('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n')).toMatch(/CRLF/);
    expect(invalid('PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n')).toMatch(/6 fields/);
    expect(invalid('PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n')).toMatch(/TCP4, TCP6 or UNKNOWN/);
    expect(invalid('PROXY TCP4 1.2.3.400 5.6.7.8 1 2\r\n')).toMatch(/not TCP4/);
    expect(invalid('PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n')).toMatch(/not TCP6/);
    expect(invalid('PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n')).toMatch(/ports/);
    expect(invalid(`PROXY TCP4 ${'1'.repeat(120)}`)).toMatch(/no CRLF within 107/);
    const good = v2({ source: '10.0.0.1', tlvs: [{ type: 1, value: Buffer.from('xy') }] });
    const badVersion = Buffer.from(good);
    badVersion[12] = 0x11;
    expect(invalid(badVersion)).toMatch(/version/);
    const badCommand = Buffer.from(good);
    badCommand[12] = 0x2f;
    expect(invalid(badCommand)).toMatch(/command/);
    const overrun = Buffer.from(good);
    overrun.writeUInt16BE(200, 16 + 12 + 1); // the TLV claims more than the header holds
    expect(invalid(overrun)).toMatch(/runs past the header/);
    const short = Buffer.from(good);
    short.writeUInt16BE(4, 14); // shorter than an IPv4 address block
    expect(invalid(short)).toMatch(/shorter than its address block/);
    const udp = Buffer.from(good);
    udp[13] = 0x12;
    expect(invalid(udp)).toMatch(/datagram/);
  });
});

describe('ConnectedServer with proxyProtocol', () => {
  it('gives the handler the client of a v1 header sent in fragments, then serves the bytes after it', async () => {
    const log = new ControlLog();
    const { port } = await start(ConnectedServer({ host: '127.0.0.1', proxyProtocol: { trusted: ['127.0.0.1'] }, protocol: log.protocol }));
    const socket = await client(port);
    socket.setNoDelay(true);
    const header = v1('TCP4', '192.0.2.44', '127.0.0.1', 40123, port);
    await writeFragmented(socket, header.subarray(0, header.length - 3), 5);
    socket.write(Buffer.concat([header.subarray(header.length - 3), Buffer.from('first')])); // the header's end and data in one packet
    expect((await readBytes(socket, 5)).toString()).toBe('first');
    await echoes(socket, 'second');
    expect(log.infos).toHaveLength(1);
    expect(log.infos[0]).toMatchObject({ peer: '192.0.2.44', peerPort: 40123, proxy: '127.0.0.1', proxyPort: socket.localPort, localIp: '127.0.0.1', localPort: port });
    expect(log.infos[0]!.proxyHeader).toMatchObject({ version: 1, command: 'PROXY', family: 'TCP4' });
  });

  it('keeps a v2 header\'s TLVs and takes an IPv6 client; a LOCAL header leaves the connection\'s own peer', async () => {
    const log = new ControlLog();
    const { port } = await start(ConnectedServer({ host: '127.0.0.1', proxyProtocol: { trusted: ['127.0.0.0/8', '::1'] }, protocol: log.protocol }));
    const proxied = await client(port);
    const header = v2({ source: '2001:db8::beef', destination: '2001:db8::1', sourcePort: 5555, destinationPort: 443, tlvs: [{ type: 0x01, value: Buffer.from('h2') }, { type: 0x05, value: Buffer.from('unique-id-1') }] });
    await writeFragmented(proxied, header, 7);
    await echoes(proxied, 'over v2');
    const local = await client(port);
    local.write(Buffer.concat([v2({ command: 'LOCAL' }), Buffer.from('health')]));
    expect((await readBytes(local, 6)).toString()).toBe('health');
    expect(log.infos[0]).toMatchObject({ peer: '2001:db8::beef', peerPort: 5555, proxy: '127.0.0.1' });
    expect(log.infos[0]!.proxyHeader!.tlvs.map(({ type, value }) => [type, Buffer.from(value).toString()])).toEqual([[1, 'h2'], [5, 'unique-id-1']]);
    expect(log.infos[1]).toMatchObject({ peer: '127.0.0.1', peerPort: local.localPort, proxy: '127.0.0.1', proxyHeader: { command: 'LOCAL' } });
  });

  it('closes garbage, a missing header, a bad header, a silent connection and one cut mid-header, unserved; counts all but the cut one (it left before it could be judged); an open connection goes on', async () => {
    const log = new ControlLog();
    const { server, port } = await start(ConnectedServer({ host: '127.0.0.1', proxyProtocol: { trusted: ['127.0.0.1'], timeout: 300 }, protocol: log.protocol }));
    const good = await client(port);
    good.write(v1('TCP4', '192.0.2.1', '127.0.0.1', 1000, port));
    await echoes(good, 'before');

    const garbage = await client(port);
    garbage.write(Buffer.from([0xde, 0xad, 0xbe, 0xef]));
    const plain = await client(port);
    plain.write('GET / HTTP/1.1\r\n\r\n'); // a client that reached us without the proxy
    const malformed = await client(port);
    malformed.write('PROXY TCP4 192.0.2.1 127.0.0.1 99999 1\r\nhello');
    const silent = await client(port);
    const cut = await client(port);
    cut.end(v2({ source: '192.0.2.1' }).subarray(0, 20));
    await Promise.all([garbage, plain, malformed, silent, cut].map((socket) => closed(socket)));

    await until(() => serverStats(server.actor)?.proxyRejected === 4, 'four rejections counted');
    expect(log.infos).toHaveLength(1);
    expect(serverStats(server.actor)).toMatchObject({ accepted: 1, open: 1, proxyRejected: 4 });
    await echoes(good, 'after');
  });

  it('closes a connection from an address outside `trusted` before reading it', async () => {
    const log = new ControlLog();
    const { server, port } = await start(ConnectedServer({ host: '127.0.0.1', proxyProtocol: { trusted: ['10.0.0.0/8', 'fd00::/8'] }, protocol: log.protocol }));
    const socket = await client(port);
    socket.write(v1('TCP4', '192.0.2.1', '127.0.0.1', 1000, port));
    await closed(socket);
    await until(() => serverStats(server.actor)?.proxyRejected === 1, 'the rejection counted');
    expect(log.infos).toHaveLength(0);
  });

  it('reads the header before an implicit-TLS handshake that arrives in the same packet', async () => {
    const certs = await testCertificates();
    const log = new ControlLog();
    const { port } = await start(
      ConnectedServer({ host: '127.0.0.1', tls: { secure: true, key: certs.serverKey, cert: certs.serverCert }, proxyProtocol: { trusted: ['127.0.0.1'] }, protocol: log.protocol }),
    );
    const raw = await client(port);
    // Cork so the header and the ClientHello leave in one write, as HAProxy sends them.
    raw.cork();
    raw.write(v2({ source: '198.51.100.20', sourcePort: 6000, destination: '127.0.0.1', destinationPort: port }));
    const secure = tls.connect({ socket: raw, servername: 'localhost', ca: certs.ca });
    cleanups.push(() => void secure.destroy());
    process.nextTick(() => raw.uncork());
    await new Promise<void>((resolve, reject) => secure.once('secureConnect', resolve).once('error', reject));
    secure.write('over tls');
    expect((await readBytes(secure, 8)).toString()).toBe('over tls');
    expect(log.infos[0]).toMatchObject({ peer: '198.51.100.20', peerPort: 6000, proxy: '127.0.0.1' });
  });

  it.each(['resets', 'half-closes'] as const)('behind the gate, implicit TLS: a client that %s mid-handshake is counted at once (ECONNRESET), not after handshakeTimeout', async (how) => {
    const certs = await testCertificates();
    const log = new ControlLog();
    const { server, port } = await start(
      ConnectedServer({
        host: '127.0.0.1',
        tls: { secure: true, key: certs.serverKey, cert: certs.serverCert, handshakeTimeout: 60_000 },
        proxyProtocol: { trusted: ['127.0.0.1'] },
        protocol: log.protocol,
      }),
    );
    const raw = await client(port);
    raw.write(Buffer.concat([v2({ source: '198.51.100.20', sourcePort: 6000, destination: '127.0.0.1', destinationPort: port }), Buffer.from([0x16, 0x03, 0x01, 0x00, 0xc8, 0x01])]));
    // The gate has read the header and handed the socket to TLS before the reset.
    await until(() => serverStats(server.actor)?.open === 1, 'the header to be accepted (a handshake counts as open)');
    if (how === 'resets') raw.resetAndDestroy();
    else raw.end();
    await until(() => serverStats(server.actor)?.handshakeFailures === 1, 'the failure to be counted', 5000);
    expect(serverStats(server.actor)?.lastHandshakeFailure?.code).toBe('ECONNRESET');
    expect(log.infos).toHaveLength(0);
  });

  it('refuses bad proxyProtocol options at construction, naming them', () => {
    const protocol = new ControlLog().protocol;
    expect(() => ConnectedServer({ protocol, proxyProtocol: { trusted: [] } })).toThrow(/proxyProtocol.trusted must be a non-empty array/);
    expect(() => ConnectedServer({ protocol, proxyProtocol: { trusted: ['10.0.0.0/33'] } })).toThrow(/"10.0.0.0\/33" is not an IPv4\/IPv6 address or CIDR/);
    expect(() => ConnectedServer({ protocol, proxyProtocol: { trusted: ['proxy.example'] } })).toThrow(/is not an IPv4/);
    expect(() => ConnectedServer({ protocol, proxyProtocol: { trusted: ['127.0.0.1'], timeout: -1 } })).toThrow(/proxyProtocol.timeout/);
  });
});
