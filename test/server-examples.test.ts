// The server examples run as programs: each binds, serves a loopback client, and stops on SIGINT.
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, readBytes, testCertificates, tlsConnect } from './server-helpers.js';
import { spawnTsx } from './helpers/tsxChild.js';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill();
});

/** Starts `file` with tsx and resolves with its output so far once it has printed a port. */
function startExample(file: string, args: string[]): Promise<{ child: ChildProcess; port: number; output: () => string }> {
  const { child, output } = spawnTsx(file, args);
  children.push(child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} printed no port: ${output()}`)), 20_000);
    child.stdout!.on('data', () => {
      const match = /on 127\.0\.0\.1:(\d+)/.exec(output());
      if (!match) return;
      clearTimeout(timer);
      resolve({ child, port: Number(match[1]), output });
    });
  });
}

describe('server examples', () => {
  it('examples/echoServer.ts echoes and shuts down gracefully on SIGINT', async () => {
    const { child, port, output } = await startExample('examples/echoServer.ts', ['0']);
    const socket = await connect(port);
    socket.write('hello example');
    expect((await readBytes(socket, 13)).toString()).toBe('hello example');
    socket.end();
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(output()).toContain("ended: { kind: 'serverShutdown' }");
  });

  it('examples/tlsEchoServer.ts serves TLS and requires a client certificate signed by the given CA', async () => {
    const certs = await testCertificates();
    const dir = await mkdtemp(join(tmpdir(), 'kx-tls-example-'));
    try {
      const files = { key: join(dir, 'key.pem'), cert: join(dir, 'cert.pem'), ca: join(dir, 'ca.pem') };
      await Promise.all([writeFile(files.key, certs.serverKey), writeFile(files.cert, certs.serverCert), writeFile(files.ca, certs.ca)]);
      const { child, port, output } = await startExample('examples/tlsEchoServer.ts', ['0', files.key, files.cert, files.ca]);
      expect(output()).toContain('client certificates required');
      const socket = await tlsConnect(port, { ca: certs.ca, key: certs.clientKey, cert: certs.clientCert });
      socket.write('over tls');
      expect((await readBytes(socket, 8)).toString()).toBe('over tls');
      socket.end();
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
