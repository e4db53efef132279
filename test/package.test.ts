// The package as its users get it: `npm pack` (which builds through prepack), the tarball installed
// into a fresh project with its own package.json and TypeScript, a consumer program type-checked
// under strict + nodenext and run, and require() from CommonJS. Installs come from the npm cache
// when it has the packages (CI's `npm ci` just filled it), so this stays fast and works offline.
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testPki } from './helpers/certs.js';
import { closedPort } from './helpers/net.js';

const exec = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const versionOf = (name: string): string => JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')).version;

let project = '';
let packed: { filename: string; size: number; files: { path: string }[] };

beforeAll(async () => {
  project = mkdtempSync(join(tmpdir(), 'kamaelia-xstate-consumer-'));
  // Clear npm_config_* that `npm test` sets for us (e.g. a dry run) so the child npm behaves as a user's.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('npm_')));
  const { stdout } = await exec(npm, ['pack', '--json', '--pack-destination', project], { cwd: root, env, maxBuffer: 16 << 20 });
  [packed] = JSON.parse(stdout);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }, null, 2));
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', types: ['node'], outDir: 'out', skipLibCheck: false },
      include: ['consumer.ts'],
    }),
  );
  copyFileSync(join(root, 'test/package/consumer.ts'), join(project, 'consumer.ts'));
  await exec(
    npm,
    ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', `./${packed.filename}`, `typescript@${versionOf('typescript')}`, `@types/node@${versionOf('@types/node')}`],
    { cwd: project, env, maxBuffer: 16 << 20 },
  );
}, 300_000);

afterAll(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

describe('the packed package', { timeout: 120_000 }, () => {
  it('ships the build with types, the inspector page, README and LICENSE, and no source maps', () => {
    const files = packed.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['dist/src/index.js', 'dist/src/index.d.ts', 'dist/machines/index.js', 'dist/machines/index.d.ts', 'dist/src/testing/index.js', 'dist/src/testing/index.d.ts', 'dist/src/cli/index.js', 'inspector/page/index.html', 'inspector/page/app.js', 'README.md', 'LICENSE', 'package.json', 'docs/testing.md', 'docs/deploy.md', 'examples/echoServer.ts']));
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    // The README's links: docs/*.md and examples/ (read as documentation); no other TypeScript source.
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.startsWith('examples/'))).toEqual([]);
    expect(files.filter((f) => f.startsWith('test/') || f.startsWith('src/'))).toEqual([]);
  });

  it('installs with one xstate, shared with the user program', () => {
    // xstate is a peer dependency: npm installs it once, at the top, where the user's own imports find it.
    expect(existsSync(join(project, 'node_modules/xstate/package.json'))).toBe(true);
    expect(existsSync(join(project, 'node_modules/kamaelia-xstate/node_modules/xstate'))).toBe(false);
  });

  it('type-checks a consumer under strict + nodenext, and it runs: lines echoed, inspector page served', async () => {
    await exec(process.execPath, [join(project, 'node_modules/typescript/bin/tsc'), '-p', project], { cwd: project });
    const { stdout } = await exec(process.execPath, ['out/consumer.js'], { cwd: project, timeout: 60_000 });
    const seen = JSON.parse(stdout.trim().split('\n').pop()!);
    expect(seen).toEqual({
      echoed: 'hello\nworld\n',
      clientStatus: 'done',
      framed: ['one', 'two'],
      piped: 'through a pipeline\n',
      togglePaths: expect.any(Number),
      page: { '/': 200, '/app.js': 200, '/style.css': 200, '/vendor/elk.bundled.js': 200 },
      machine: 'TCPClient',
    });
    expect(seen.togglePaths).toBeGreaterThan(0);
  });

  it('can be require()d from CommonJS', async () => {
    writeFileSync(
      join(project, 'require.cjs'),
      "const k = require('kamaelia-xstate'); const m = require('kamaelia-xstate/machines');\n" +
        'console.log(JSON.stringify({ run: typeof k.run, TCPClient: typeof k.TCPClient, tcpClientMachine: typeof m.tcpClientMachine }));\n',
    );
    const { stdout } = await exec(process.execPath, ['require.cjs'], { cwd: project });
    expect(JSON.parse(stdout)).toEqual({ run: 'function', TCPClient: 'function', tcpClientMachine: 'object' });
  });
});

describe('the installed kamaelia-xstate command', { timeout: 120_000 }, () => {
  const bin = (): string => join(project, 'node_modules/.bin/kamaelia-xstate');
  const started: ChildProcessWithoutNullStreams[] = [];
  afterAll(() => {
    for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  /** Runs the bin to the end with `input` on stdin; resolves its exit code and output. */
  function runBin(args: string[], input = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(bin(), args, { cwd: project });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (data: Buffer) => (stdout += data));
      child.stderr.on('data', (data: Buffer) => (stderr += data));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end(input);
    });
  }

  /** Starts a long-running bin (a server, an open connection); resolves once stdout matches `ready`. */
  function startBin(args: string[], ready: RegExp): Promise<{ child: ChildProcessWithoutNullStreams; match: RegExpMatchArray; output: () => string }> {
    const child = spawn(bin(), args, { cwd: project });
    started.push(child);
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (data: Buffer) => (stderr += data));
    return new Promise((resolve, reject) => {
      child.stdout.on('data', (data: Buffer) => {
        stdout += data;
        const match = stdout.match(ready);
        if (match) resolve({ child, match, output: () => stdout });
      });
      child.on('close', (code) => reject(new Error(`${args.join(' ')} exited (${code}) before ${ready}: ${stdout}${stderr}`)));
    });
  }

  const exited = (child: ChildProcessWithoutNullStreams): Promise<number | null> =>
    child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((resolve) => child.once('close', resolve));

  it('has --help for itself and each command', async () => {
    const top = await runBin(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/demo[\s\S]*connect <host> <port>[\s\S]*serve <port>/);
    for (const command of ['demo', 'connect', 'serve']) {
      const help = await runBin([command, '--help']);
      expect(help.code, command).toBe(0);
      expect(help.stdout, command).toMatch(/usage: /);
    }
    const wrong = await runBin(['connect', '127.0.0.1', 'http']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/port must be an integer/);
  });

  it('serve --echo and connect exchange lines like netcat; Ctrl-C stops the server', async () => {
    const server = await startBin(['serve', '0', '--echo'], /listening on 127\.0\.0\.1:(\d+)/);
    const client = await runBin(['connect', '127.0.0.1', server.match[1]!], 'hello\nworld\n');
    expect(client).toMatchObject({ code: 0, stdout: 'hello\nworld\n' });
    server.child.kill('SIGINT');
    expect(await exited(server.child)).toBe(0);
  });

  it('serve --chat passes a line from one client to another', async () => {
    const server = await startBin(['serve', '0', '--chat'], /listening on 127\.0\.0\.1:(\d+)/);
    const port = server.match[1]!;
    const listenerClient = spawn(bin(), ['connect', '127.0.0.1', port], { cwd: project });
    started.push(listenerClient);
    let heard = '';
    listenerClient.stdout.on('data', (data: Buffer) => (heard += data));
    // The line must reach a member, so send until the first client has joined and heard one.
    const deadline = Date.now() + 10_000;
    while (!heard.includes('hi there\n')) {
      expect(Date.now()).toBeLessThan(deadline);
      expect((await runBin(['connect', '127.0.0.1', port], 'hi there\n')).code).toBe(0);
    }
    listenerClient.stdin.end();
    expect(await exited(listenerClient)).toBe(0);
    server.child.kill('SIGTERM');
    expect(await exited(server.child)).toBe(0);
  });

  it('serve and connect over TLS with a CA file', async () => {
    const pki = await testPki();
    for (const [name, pem] of [['key.pem', pki.server.key], ['cert.pem', pki.server.cert], ['ca.pem', pki.ca], ['other-ca.pem', pki.otherCa]] as const) writeFileSync(join(project, name), pem);
    const server = await startBin(['serve', '0', '--tls-key', 'key.pem', '--tls-cert', 'cert.pem'], /\(TLS\) listening on 127\.0\.0\.1:(\d+)/);
    const port = server.match[1]!;
    expect(await runBin(['connect', 'localhost', port, '--tls', '--ca', 'ca.pem'], 'secret\n')).toMatchObject({ code: 0, stdout: 'secret\n' });
    const untrusted = await runBin(['connect', 'localhost', port, '--tls', '--ca', 'other-ca.pem'], 'secret\n');
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toMatch(/^kamaelia-xstate connect: [A-Z_]+ /);
    server.child.kill('SIGINT');
    expect(await exited(server.child)).toBe(0);
  });

  it('connect exits 1 with the reason on stderr when the connection is refused; serve exits 1 when the port is taken', async () => {
    const refused = await runBin(['connect', '127.0.0.1', String(await closedPort())], 'x');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^kamaelia-xstate connect: ECONNREFUSED /);
    const server = await startBin(['serve', '0'], /listening on 127\.0\.0\.1:(\d+)/);
    const taken = await runBin(['serve', server.match[1]!]);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toMatch(/^kamaelia-xstate serve: EADDRINUSE /);
    server.child.kill('SIGINT');
    expect(await exited(server.child)).toBe(0);
  });

  it('demo runs for a set time, printing the inspector URL', async () => {
    const demo = await runBin(['demo', '--duration', '2']);
    expect(demo.stderr).toBe('');
    expect(demo.code).toBe(0);
    expect(demo.stdout).toMatch(/Inspector: http:\/\/127\.0\.0\.1:\d+\//);
    expect(demo.stdout).toMatch(/refused-client: ECONNREFUSED/);
  });
});
