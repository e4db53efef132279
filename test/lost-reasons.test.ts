// Errors that used to vanish on the way out: each one must reach the end signal, `done` and (for the
// CLI) the exit code, exactly as the component that failed reported it.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectedServer, EchoProtocol, SingleServer, TCPServer, run, type AnyComponent, type Listening, type RunHandle, type RunResult } from 'kamaelia-xstate';
import { testPki, type TestPki } from './helpers/certs.js';

const root = fileURLToPath(new URL('..', import.meta.url));
let pki: TestPki;
let dir = '';

beforeAll(async () => {
  pki = await testPki();
  dir = mkdtempSync(join(tmpdir(), 'kamaelia-xstate-lost-reasons-'));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Everything a run sent on `signal`, its `done`, and what became of `listening`. */
async function outcome(component: AnyComponent): Promise<{ signals: unknown[]; done: RunResult; listening: unknown }> {
  const handle = run(component) as unknown as RunHandle<object, { listening: Listening; signal: unknown }>;
  const listening = handle.next('listening', { timeoutMs: 5000 }).then(
    (message) => ({ resolved: message }),
    (error: unknown) => ({ rejected: error }),
  );
  const signals: unknown[] = [];
  for await (const message of handle.messages('signal')) signals.push(message);
  return { signals, done: await handle.done, listening: await listening };
}

describe('a server whose TLS setup fails', () => {
  // The key of one certificate with another's certificate: tls.createServer throws.
  const mismatched = () => ({ secure: true, key: pki.server.key, cert: pki.client.cert });

  it('TCPServer reports it (the reference behaviour)', async () => {
    const { done } = await outcome(TCPServer({ host: '127.0.0.1', port: 0, tls: mismatched() }));
    expect(done).toMatchObject({ status: 'error', reason: { code: 'ERR_OSSL_X509_KEY_VALUES_MISMATCH' } });
  });

  for (const [name, make] of [
    ['ConnectedServer', () => ConnectedServer({ host: '127.0.0.1', port: 0, protocol: () => EchoProtocol(), tls: mismatched() })],
    ['SingleServer', () => SingleServer({ host: '127.0.0.1', port: 0, tls: mismatched() })],
  ] as const) {
    it(`${name} ends with the inner server's reason on signal and done, and listening rejects with it`, async () => {
      const { signals, done, listening } = await outcome(make());
      expect(done).toMatchObject({ status: 'error', reason: { code: 'ERR_OSSL_X509_KEY_VALUES_MISMATCH' } });
      expect(signals.at(-1)).toMatchObject({ kind: 'producerFinished', source: name, reason: { code: 'ERR_OSSL_X509_KEY_VALUES_MISMATCH' } });
      expect(listening).toMatchObject({ rejected: { code: 'ERR_OSSL_X509_KEY_VALUES_MISMATCH' } });
      expect(String((listening as { rejected: Error }).rejected.message)).toMatch(/ERR_OSSL_X509_KEY_VALUES_MISMATCH/);
    });
  }

  it('the CLI `serve` exits 1 with the reason on stderr', async () => {
    writeFileSync(join(dir, 'key.pem'), pki.server.key);
    writeFileSync(join(dir, 'cert.pem'), pki.client.cert);
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'serve', '0', '--tls-key', join(dir, 'key.pem'), '--tls-cert', join(dir, 'cert.pem')], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
    expect({ code, stdout }).toEqual({ code: 1, stdout: '' });
    expect(stderr).toMatch(/^kamaelia-xstate serve: ERR_OSSL_X509_KEY_VALUES_MISMATCH /);
  }, 30_000);
});
