// What the compiler says about a misspelt Graphline linkage. @ts-expect-error (linkage-types.test.ts)
// proves a mistake is an error, not what the error says; here the TypeScript compiler API checks a
// snippet against the library's own types and the diagnostics are read: each names what is valid.
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');

/** The compiler's messages for `source`, checked as a file of test/ with the project's tsconfig. */
function diagnostics(source: string): string[] {
  const parsed = ts.getParsedCommandLineOfConfigFile(path.join(root, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  if (!parsed) throw new Error('tsconfig.json could not be read');
  const file = path.join(root, 'test', '__linkage-snippet.ts');
  const host = ts.createCompilerHost(parsed.options);
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.getSourceFile = (name, language, ...rest) => (name === file ? ts.createSourceFile(name, source, language) : getSourceFile(name, language, ...rest));
  host.fileExists = (name) => name === file || fileExists(name);
  const program = ts.createProgram([file], { ...parsed.options, noEmit: true }, host);
  return ts.getPreEmitDiagnostics(program, program.getSourceFile(file)).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

describe('Graphline linkage errors', () => {
  it('name the valid sources for a misspelt source box or child, as the target side names the valid targets', () => {
    const messages = diagnostics(`
      import { ConsoleEchoer, Graphline, OneShot } from 'kamaelia-xstate';
      const children = { greeting: OneShot('hi\\n'), echo: ConsoleEchoer() };
      Graphline(children, { 'greeting.outbx': 'echo.inbox' });
      Graphline(children, { 'greting.outbox': 'echo.inbox' });
      Graphline(children, { 'greeting.outbox': 'echo.inbx' });
    `);
    expect(messages).toHaveLength(3);
    const [box, child, target] = messages as [string, string, string];
    expect(box).toMatch(/greeting has no outbox 'outbx'/);
    expect(box).toContain('greeting.outbox');
    expect(box).toContain('greeting.signal');
    expect(child).toMatch(/no child 'greting'/);
    expect(child).toContain('greeting');
    expect(target).toContain('Did you mean \'"echo.inbox"\'');
  }, 60_000);
});
