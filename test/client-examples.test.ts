// The README's TCPClient examples (examples/), run against loopback servers.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { run } from 'kamaelia-xstate';
import { countingServer, sendFile } from '../examples/tcpClientSendFile.js';
import { localTlsEchoServer, sslGraphline } from '../examples/tcpClientSsl.js';
import { pattern } from './helpers/net.js';
import { cleanupsAfterEach } from './helpers/cleanups.js';

const cleanups = cleanupsAfterEach();

describe('TCPClient examples', () => {
  it('sends a file to a server: Pipeline(RateControlledFileReader, TCPClient)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kx-send-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const path = join(dir, 'myfile');
    await writeFile(path, pattern(200_000));
    const server = await countingServer();
    cleanups.push(server.close);
    const { result, signal } = await sendFile(path, '127.0.0.1', server.port, 4_000_000);
    expect(await server.received).toBe(200_000);
    expect(result.status).toBe('done');
    expect(signal).toMatchObject({ kind: 'producerFinished' });
  });

  it('the SSL Graphline: OneShot → makessl, console lines over TLS, replies echoed', async () => {
    const server = await localTlsEchoServer();
    cleanups.push(server.close);
    const input = new PassThrough();
    const output = new PassThrough();
    let printed = '';
    output.on('data', (chunk: Buffer) => (printed += chunk.toString()));
    const handle = run(sslGraphline('localhost', server.port, { tls: { ca: server.ca }, input, output }));
    input.end('hello over tls\n');
    expect((await handle.done).status).toBe('done');
    expect(printed).toMatch(/^echo over TLSv1\.[23]: hello over tls\n$/);
  });
});
