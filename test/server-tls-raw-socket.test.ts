// The one read of a Node private field the listener keeps: a server-side TLSSocket's raw socket
// (node:tls's `_parent`), which links 'secureConnection' and 'tlsClientError' back to the socket
// 'connection' gave (handshake counting, what the PROXY gate learnt). No public API gives it; this
// checks that Node still keeps it, and that the read fails loudly when it does not.
import net from 'node:net';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { rawSocketOf } from '../actors/tlsHandshakes.js';
import { testCertificates, tlsConnect } from './server-helpers.js';
import { cleanupsAfterEach } from './helpers/cleanups.js';

const cleanups = cleanupsAfterEach();

describe('rawSocketOf', () => {
  it("is the socket node:tls's 'connection' gave, for this Node version", async () => {
    const pki = await testCertificates();
    const server = tls.createServer({ key: pki.serverKey, cert: pki.serverCert });
    const raws: net.Socket[] = [];
    server.on('connection', (raw: net.Socket) => raws.push(raw));
    const secured = new Promise<tls.TLSSocket>((resolve) => server.once('secureConnection', resolve));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = await tlsConnect((server.address() as net.AddressInfo).port, { ca: pki.ca });
    cleanups.push(() => void client.destroy());
    const serverSide = await secured;
    cleanups.push(() => void serverSide.destroy());
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve()))); // once its connection is gone
    expect(raws).toHaveLength(1);
    expect(rawSocketOf(serverSide)).toBe(raws[0]);
  });

  it('throws, naming the file to update, when a TLSSocket has no raw socket where Node kept it', () => {
    expect(() => rawSocketOf(new tls.TLSSocket(undefined as unknown as net.Socket))).toThrow(/no longer keeps .*_parent; actors\/tlsHandshakes\.ts must be updated/);
  });
});
