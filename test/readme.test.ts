// Every ```ts block in the README that starts with `// examples/<file>` must be that file, word for
// word, and the examples that end by themselves must run and print what they say.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const blocks = [...readme.matchAll(/```ts\n(\/\/ (examples\/[\w.-]+)[^\n]*\n[\s\S]*?)```/g)].map((m) => ({ file: m[2]!, text: m[1]! }));

describe('README examples', () => {
  it('quotes at least the core examples', () => {
    expect(blocks.map((b) => b.file)).toEqual(expect.arrayContaining(['examples/pipeline.ts', 'examples/graphline.ts', 'examples/customComponent.ts', 'examples/machineComponent.ts']));
  });

  it.each(blocks)('$file in the README matches the file', ({ file, text }) => {
    expect(text).toBe(readFileSync(new URL(`../${file}`, import.meta.url), 'utf8'));
  });

  it.each([
    ['examples/pipeline.ts', /hello world\n\{ status: 'done' \}/],
    ['examples/graphline.ts', /hi\n\{ kind: 'producerFinished'/],
    ['examples/customComponent.ts', /SHOUT/],
    ['examples/machineComponent.ts', /1: alpha\n2: beta\n/],
  ])('%s runs', async (file, expected) => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', file], { cwd: new URL('..', import.meta.url), timeout: 20_000 });
    expect(stdout).toMatch(expected);
  });
});
