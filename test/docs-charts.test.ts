// The lifecycle drawings in docs/reference/ are the machines': each committed chart must be what
// scripts/charts.ts draws from the machine now (`npm run docs:charts` rewrites them).
import { readFileSync } from 'node:fs';
import { setup } from 'xstate';
import { describe, expect, it } from 'vitest';
import { CHARTS, mermaidOf, renderPage } from '../scripts/charts.js';

const read = (page: string) => readFileSync(new URL(`../${page}`, import.meta.url), 'utf8');

describe('lifecycle charts in docs/reference', () => {
  it.each(CHARTS.map((c) => [c.name, c] as const))('%s: the committed drawing is the machine', (_, chart) => {
    const page = read(chart.page);
    expect(page).toContain(`\`\`\`mermaid\n${mermaidOf(chart.machine)}\`\`\``);
    expect(renderPage(chart.page, page)).toBe(page);
  });

  it('a changed machine gives a different drawing (so a stale one fails above)', () => {
    const before = setup({}).createMachine({ initial: 'a', states: { a: { on: { go: 'b' } }, b: { type: 'final' } } });
    const after = setup({}).createMachine({ initial: 'a', states: { a: { on: { go: 'b', stop: 'c' } }, b: { type: 'final' }, c: { type: 'final' } } });
    expect(mermaidOf(before)).toContain('a --> b : go');
    expect(mermaidOf(after)).not.toBe(mermaidOf(before));
    expect(mermaidOf(after)).toContain('a --> c : stop');
  });

  it("labels an unguarded transition after guarded ones for the same event as their 'else'", () => {
    const machine = setup({ guards: { ready: () => true } }).createMachine({
      initial: 'a',
      states: { a: { on: { go: [{ guard: 'ready', target: 'b' }, { target: 'c' }] } }, b: {}, c: {} },
    });
    expect(mermaidOf(machine)).toContain('a --> b : go [ready]\n  a --> c : go [else]');
  });

  it('draws nesting, parallel regions, timers, guards and transitions from a parent', () => {
    const machine = setup({ guards: { ready: () => true } }).createMachine({
      type: 'parallel',
      states: {
        left: { initial: 'x', on: { reset: '.x' }, states: { x: { after: { 100: 'y' } }, y: { always: { guard: 'ready', target: 'x' } } } },
        right: { initial: 'x', states: { x: {} } },
      },
    });
    expect(mermaidOf(machine)).toBe(
      [
        'stateDiagram-v2',
        '  state left {',
        '    [*] --> left_x',
        '    state "x" as left_x',
        '    y',
        '  }',
        '  --',
        '  state right {',
        '    [*] --> right_x',
        '    state "x" as right_x',
        '  }',
        '  y --> left_x : reset',
        '  left_x --> y : after 100 ms',
        '  y --> left_x : always [ready]',
        '',
      ].join('\n'),
    );
  });
});
