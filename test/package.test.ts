// The package as its users get it: `npm pack` (which builds through prepack), the tarball installed
// into a fresh project with its own package.json and TypeScript, a consumer program type-checked
// under strict + nodenext and run, and require() from CommonJS. Installs come from the npm cache
// when it has the packages (CI's `npm ci` just filled it), so this stays fast and works offline.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

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

describe('the packed package', () => {
  it('ships the build with types, the inspector page, README and LICENSE, and no source maps', () => {
    const files = packed.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['dist/src/index.js', 'dist/src/index.d.ts', 'dist/machines/index.js', 'dist/machines/index.d.ts', 'inspector/page/index.html', 'inspector/page/app.js', 'README.md', 'LICENSE', 'package.json']));
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
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
      page: { '/': 200, '/app.js': 200, '/style.css': 200, '/vendor/elk.bundled.js': 200 },
      machine: 'TCPClient',
    });
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
