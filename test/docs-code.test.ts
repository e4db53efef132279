// Every ```ts block in README.md and docs/ is checked. A block that starts with `// <path>` of a file
// in the repository (examples/pipeline.ts) must be that file, word for word (the file itself is
// type-checked by `npm run typecheck` and, when it ends by itself, run below). Every other block is
// type-checked against the library as a module of its own, under the project's strict tsconfig.
// A snippet with no import line sees every export of `kamaelia-xstate` and `kamaelia-xstate/testing`;
// names it uses but does not declare (a `socket`, a `key`) come from an HTML comment just before the
// block, invisible on the page: `<!-- ts-prelude: declare const key: string; -->`. An abridged
// block says which file it is cut from, `<!-- ts-excerpt: examples/smtpServer.ts -->`: each of its
// lines (but `// ...` ones) must then be in that file, in order, instead of type-checking alone.
import { execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));

/** README.md and every Markdown page under docs/ but the generated API reference. */
function markdownFiles(): string[] {
  const found = ['README.md'];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory() && path !== 'docs/api') walk(path);
      else if (entry.isFile() && entry.name.endsWith('.md')) found.push(path);
    }
  };
  walk('docs');
  return found.sort();
}

interface Block {
  readonly doc: string;
  /** 1-based line of the block's first code line in the doc. */
  readonly line: number;
  readonly code: string;
  readonly prelude: string;
  /** The repository file the block quotes, if its first line names one. */
  readonly quotes?: string;
  /** The file an abridged block is cut from (`<!-- ts-excerpt: path -->`). */
  readonly excerptOf?: string;
}

function blocksOf(doc: string): Block[] {
  const text = readFileSync(join(root, doc), 'utf8');
  const blocks: Block[] = [];
  const fence = /(?:<!--\s*ts-(prelude|excerpt):([\s\S]*?)-->[ \t]*\n)?^```ts[ \t]*\n([\s\S]*?)^```/gm;
  for (const match of text.matchAll(fence)) {
    const code = match[3]!;
    const line = text.slice(0, match.index + match[0].indexOf('```ts')).split('\n').length + 1;
    const named = /^\/\/ ((?:examples|test|src|scripts)\/[\w./-]+\.ts)\b/.exec(code)?.[1];
    const marker = match[2]?.trim() ?? '';
    blocks.push({
      doc,
      line,
      code,
      prelude: match[1] === 'prelude' ? marker : '',
      ...(named && existsSync(join(root, named)) ? { quotes: named } : {}),
      ...(match[1] === 'excerpt' ? { excerptOf: marker } : {}),
    });
  }
  return blocks;
}

const blocks = markdownFiles().flatMap(blocksOf);
// Pages other sessions own whose snippets do not yet compile alone: their owners add the markers
// above (then remove the page from here); until then they are left out of the type check.
const PENDING: readonly string[] = ['docs/testing.md', 'docs/deploy.md'];
const quoting = blocks.filter((b) => b.quotes !== undefined);
const excerpts = blocks.filter((b) => b.excerptOf !== undefined);
const checked = blocks.filter((b) => b.quotes === undefined && b.excerptOf === undefined && !PENDING.includes(b.doc));
const nameOf = (b: Block) => `${b.doc}:${b.line}`;

/** Type-checks the blocks as modules under the project's tsconfig; the diagnostics per block. */
function typeCheck(targets: readonly Block[]): Map<Block, string[]> {
  const config = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!;
  const files = new Map<string, Block>();
  targets.forEach((block, i) => files.set(join(root, '.docs-blocks', `${block.doc.replace(/\W+/g, '_')}_${block.line}_${i}.ts`), block));
  const host = ts.createCompilerHost(config.options);
  // What a snippet without imports sees: the exports of the two entry points, read by the compiler.
  const entries = { 'kamaelia-xstate': 'src/index.ts', 'kamaelia-xstate/testing': 'src/testing/index.ts' };
  const first = ts.createProgram({ rootNames: Object.values(entries).map((f) => join(root, f)), options: { ...config.options, noEmit: true }, host });
  const checker = first.getTypeChecker();
  const autoImports = Object.entries(entries)
    .map(([specifier, file]) => {
      const names = checker.getExportsOfModule(checker.getSymbolAtLocation(first.getSourceFile(join(root, file))!)!).map((symbol) => {
        const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
        return target.flags & ts.SymbolFlags.Value ? symbol.name : `type ${symbol.name}`;
      });
      return `import { ${names.join(', ')} } from '${specifier}';`;
    })
    .join(' ');
  // Each block is a module: its imports (or all of them, on one line), the prelude, the code, and
  // `export {}` so its names stay its own.
  const head = (block: Block) => `${/^import /m.test(block.code) ? '' : autoImports}\n${block.prelude}\n`;
  const source = (block: Block) => `${head(block)}${block.code}\nexport {};\n`;
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (name) => files.has(name) || fileExists(name);
  host.readFile = (name) => (files.has(name) ? source(files.get(name)!) : readFile(name));
  host.getSourceFile = (name, language, ...rest) =>
    files.has(name) ? ts.createSourceFile(name, source(files.get(name)!), language, true) : getSourceFile(name, language, ...rest);
  const program = ts.createProgram({ rootNames: [...files.keys()], options: { ...config.options, noEmit: true }, host, oldProgram: first });
  const result = new Map<Block, string[]>(targets.map((b) => [b, []]));
  for (const [name, block] of files) {
    const file = program.getSourceFile(name)!;
    const preludeLines = head(block).split('\n').length - 1;
    for (const d of [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)]) {
      const at = d.start === undefined ? 0 : file.getLineAndCharacterOfPosition(d.start).line - preludeLines;
      result.get(block)!.push(`${block.doc}:${block.line + at}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    }
  }
  return result;
}

describe('code in README.md and docs/', () => {
  it('finds the blocks, and the README quotes its three front-door examples', () => {
    expect(blocks.length).toBeGreaterThan(20);
    expect(blocksOf('README.md').map((b) => b.quotes)).toEqual(
      expect.arrayContaining(['examples/client.ts', 'examples/greeterServer.ts', 'examples/greeterServer.test.ts']),
    );
  });

  it.each(quoting.map((b) => [nameOf(b), b] as const))('%s is its file, word for word', (_, block) => {
    expect(block.code).toBe(readFileSync(join(root, block.quotes!), 'utf8'));
  });

  it('every other block type-checks against the library', { timeout: 120_000 }, () => {
    const problems = [...typeCheck(checked).values()].flat();
    expect(problems).toEqual([]);
  });

  it.each(excerpts.map((b) => [nameOf(b), b] as const))('%s is an excerpt of its file, in order', (_, block) => {
    const file = readFileSync(join(root, block.excerptOf!), 'utf8');
    let at = 0;
    for (const line of block.code.split('\n').map((l) => l.trim())) {
      if (line === '' || /^(\/\/ )?(\.\.\.|…)/.test(line)) continue;
      const found = file.indexOf(line, at);
      expect(found, `"${line}" is not in ${block.excerptOf} (after what came before it)`).toBeGreaterThanOrEqual(0);
      at = found + line.length;
    }
  });

  it('every relative link in README.md and docs/ points at a file (and a heading) that exists', () => {
    const slug = (heading: string) =>
      heading.trim().toLowerCase().replace(/[`*_]/g, '').replace(/[^\p{L}\p{N} -]/gu, '').replace(/ /g, '-');
    const anchorsOf = (doc: string) => new Set([...readFileSync(join(root, doc), 'utf8').matchAll(/^#+ (.+)$/gm)].map((m) => slug(m[1]!)));
    const broken: string[] = [];
    for (const doc of markdownFiles()) {
      const text = readFileSync(join(root, doc), 'utf8').replace(/^```[\s\S]*?^```/gm, '');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue;
        const [path, anchor] = target!.split('#') as [string, string | undefined];
        const file = path === '' ? doc : join(doc, '..', path);
        if (!existsSync(join(root, file))) broken.push(`${doc}: ${target} (no such file)`);
        else if (anchor && file.endsWith('.md') && !anchorsOf(file).has(anchor)) broken.push(`${doc}: ${target} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('a block that does not type-check is caught, at its line', { timeout: 120_000 }, () => {
    const bad: Block = { doc: 'docs/x.md', line: 10, code: "import { TCPClient } from 'kamaelia-xstate';\nTCPClient('127.0.0.1', '80');\n", prelude: '' };
    expect(typeCheck([bad]).get(bad)).toEqual([expect.stringMatching(/^docs\/x\.md:11: Argument of type 'string' is not assignable/)]);
  });
});

// The quoted examples that end by themselves run, and print what their comments say.
describe('quoted examples run', () => {
  let echo: Server;
  let port = 0;
  beforeAll(async () => {
    echo = createServer((socket) => socket.pipe(socket));
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    port = (echo.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => echo.close(() => resolve())));

  const runs: [string, () => string[], RegExp][] = [
    ['examples/pipeline.ts', () => [], /hello world\n\{ status: 'done' \}/],
    ['examples/graphline.ts', () => [], /hi\n\{ kind: 'producerFinished'/],
    ['examples/customComponent.ts', () => [], /SHOUT/],
    ['examples/machineComponent.ts', () => [], /1: alpha\n2: beta\n/],
    ['examples/client.ts', () => ['127.0.0.1', String(port)], /^hello\n\n\{ status: 'done' \}\n$/],
    ['examples/messages.ts', () => [], /^true true\nECONNREFUSED\n/],
  ];
  it('every example listed here is quoted somewhere', () => {
    expect(runs.map(([file]) => file).filter((file) => !quoting.some((b) => b.quotes === file))).toEqual([]);
  });
  it.each(runs)('%s runs', async (file, args, expected) => {
    const { stdout } = await exec(process.execPath, ['--import', 'tsx', file, ...args()], { cwd: root, timeout: 20_000 });
    expect(stdout).toMatch(expected);
  });
});

// The servers of the reference pages: started on a free port, a client gets its greeting or echo.
describe('quoted server examples serve', () => {
  it.each([
    ['examples/tcpServer.ts', 'x\n', 'hello\r\n'],
    ['examples/csaServer.ts', 'echo me\n', 'echo me\n'],
    ['examples/greeterServer.ts', 'NAME ada\r\n', 'who are you? (NAME you)\r\nhello\r\n'],
  ])('%s', async (file, send, expected) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file, '0'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      const port = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${file} printed no port: ${out}`)), 20_000);
        child.stdout.on('data', () => {
          const found = /port:? (\d+)/.exec(out);
          if (!found) return;
          clearTimeout(timer);
          resolve(Number(found[1]));
        });
      });
      const received = await new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => socket.write(send));
        let text = '';
        socket.on('data', (chunk) => {
          text += chunk.toString();
          if (text.length < expected.length) return;
          socket.destroy();
          resolve(text);
        });
        socket.on('error', reject);
      });
      expect(received).toBe(expected);
    } finally {
      child.kill();
    }
  });
});
